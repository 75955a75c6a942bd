"""The relevance and typing measures, on invented queries and answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from search.errors import InvalidRequest
from search.evaluate import EvalQuery, evaluate, evaluate_typing, read_queries


def test_targets_accept_prefixes_and_ignore_dots() -> None:
    query = EvalQuery("abbrev", "fx ankle", ("S82.5*", "E11.9"))
    assert query.accepts("S82.51XA") and query.accepts("e119")
    assert not query.accepts("S82.4") and not query.accepts("E11.90")


def test_ranks_make_the_three_measures() -> None:
    queries = [
        EvalQuery("lay", "a", ("A1",)),
        EvalQuery("lay", "b", ("B1",)),
        EvalQuery("code", "c", ("C1",)),
    ]
    answers = {"a": ["A1"], "b": ["X", "B1"], "c": ["X"] * 10 + ["C1"]}
    scores = evaluate(queries, answers.__getitem__)
    assert scores["lay"].success_at_1 == 0.5
    assert scores["overall"].success_at_10 == pytest.approx(2 / 3)
    assert scores["overall"].mrr == pytest.approx((1 + 0.5) / 3)


def test_typing_counts_keystrokes_both_ways() -> None:
    # "abcd" reaches its target at the 1st keystroke (3 of 4 saved), "xy" never.
    queries = [EvalQuery("lay", "abcd", ("T1",)), EvalQuery("lay", "xy", ("T2",))]

    def suggest(text: str) -> list[str]:
        return ["T1"] if text.startswith("a") else ["Z9"]

    scores = evaluate_typing(queries, suggest)["overall"]
    assert scores.reached == 0.5
    assert scores.keystrokes_saved == pytest.approx(3 / 6)  # of all characters
    assert scores.mean_saved == pytest.approx((3 / 4 + 0) / 2)  # per query


def test_a_malformed_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "q.tsv"
    path.write_text("kind\tquery\ttargets\nlay\tonly two\n", encoding="utf-8")
    with pytest.raises(InvalidRequest, match=r"q\.tsv: line 2"):
        read_queries(path)


def test_overall_comes_first_and_no_queries_scores_zero() -> None:
    queries = [EvalQuery("typo", "a", ("A1",)), EvalQuery("lay", "b", ("B1",))]
    assert list(evaluate(queries, lambda text: ["A1"])) == ["overall", "typo", "lay"]
    assert evaluate([], lambda text: [])["overall"].success_at_1 == 0.0
    assert evaluate_typing([], lambda text: [])["overall"].reached == 0.0
