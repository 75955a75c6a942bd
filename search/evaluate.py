"""Relevance evaluation: success@1, success@10 and MRR@10 per kind of query.

The query file is tab-separated with a header ``kind, query, targets``; targets
are comma-separated codes, where ``X*`` accepts any code starting with X and dots
are ignored (``E11.3*`` accepts ``E113`` and ``E11.319``).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from search.errors import InvalidRequest
from search.query import normalize_code

TOP = 10


@dataclass(frozen=True)
class EvalQuery:
    """One line of a relevance file."""

    kind: str
    query: str
    targets: tuple[str, ...]

    def accepts(self, code: str) -> bool:
        """Whether ``code`` is one of the acceptable answers."""
        code = normalize_code(code)
        for target in self.targets:
            wanted = normalize_code(target.rstrip("*"))
            if target.endswith("*") and code.startswith(wanted):
                return True
            if code == wanted:
                return True
        return False


@dataclass(frozen=True)
class Scores:
    """Metrics over a group of queries."""

    queries: int
    success_at_1: float
    success_at_10: float
    mrr: float


def read_queries(path: Path) -> list[EvalQuery]:
    """Read a relevance file; a malformed line names the file and the line."""
    queries = []
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t")
        header = next(reader, None)
        if header is None or [h.strip() for h in header[:3]] != [
            "kind",
            "query",
            "targets",
        ]:
            raise InvalidRequest(
                "queries",
                f"{path}: line 1 must be the header 'kind<TAB>query<TAB>targets'",
            )
        for line, row in enumerate(reader, start=2):
            if not row or not "".join(row).strip():
                continue
            if len(row) < 3 or not row[1].strip() or not row[2].strip():
                raise InvalidRequest(
                    "queries",
                    f"{path}: line {line}: expected kind, query and targets separated "
                    f"by tabs, found {row!r}",
                )
            targets = tuple(t.strip() for t in row[2].split(",") if t.strip())
            queries.append(EvalQuery(row[0].strip(), row[1].strip(), targets))
    return queries


def rank_of(query: EvalQuery, codes: Sequence[str]) -> int | None:
    """1-based rank of the first acceptable code within the top ten, or None."""
    for rank, code in enumerate(codes[:TOP], start=1):
        if query.accepts(code):
            return rank
    return None


def score(ranks: Sequence[int | None]) -> Scores:
    """Aggregate ranks into the three metrics."""
    n = len(ranks) or 1
    return Scores(
        queries=len(ranks),
        success_at_1=sum(1 for r in ranks if r == 1) / n,
        success_at_10=sum(1 for r in ranks if r is not None) / n,
        mrr=sum(1.0 / r for r in ranks if r is not None) / n,
    )


def evaluate(
    queries: Sequence[EvalQuery], search: Callable[[str], Sequence[str]]
) -> dict[str, Scores]:
    """Run every query through ``search`` (query -> ranked codes); scores by kind."""
    by_kind: dict[str, list[int | None]] = {"overall": []}
    for query in queries:
        rank = rank_of(query, search(query.query))
        by_kind.setdefault(query.kind, []).append(rank)
        by_kind.setdefault("overall", []).append(rank)
    return {kind: score(ranks) for kind, ranks in by_kind.items()}


@dataclass(frozen=True)
class TypingScores:
    """What typing the queries one character at a time gave, for one kind."""

    queries: int
    reached: float
    keystrokes_saved: float
    mean_saved: float


def evaluate_typing(
    queries: Sequence[EvalQuery], suggest: Callable[[str], Sequence[str]]
) -> dict[str, TypingScores]:
    """Type each query character by character; when does a target reach the top 10?

    ``reached`` is the share of queries for which a target code shows among the
    suggested codes at some keystroke. ``keystrokes_saved`` is the share of all
    the characters of the queries that the user did not have to type (the usual
    keystroke savings rate: a target that never shows saves nothing);
    ``mean_saved`` averages that share per query instead, so that a three-letter
    query weighs as much as a thirty-letter one.
    """
    by_kind: dict[str, list[tuple[bool, int, int]]] = {"overall": []}
    for query in queries:
        text = query.query
        outcome = (False, 0, len(text))
        for typed in range(1, len(text) + 1):
            codes = suggest(text[:typed])
            if any(query.accepts(code) for code in codes[:TOP]):
                outcome = (True, len(text) - typed, len(text))
                break
        by_kind.setdefault(query.kind, []).append(outcome)
        by_kind.setdefault("overall", []).append(outcome)
    return {
        kind: TypingScores(
            queries=len(outcomes),
            reached=sum(1 for hit, _, _ in outcomes if hit) / max(len(outcomes), 1),
            keystrokes_saved=sum(saved for _, saved, _ in outcomes)
            / max(sum(length for _, _, length in outcomes), 1),
            mean_saved=sum(saved / max(length, 1) for _, saved, length in outcomes)
            / max(len(outcomes), 1),
        )
        for kind, outcomes in by_kind.items()
    }
