"""Query parsing: bounded input, query syntax as words, readings from expansions."""

from __future__ import annotations

from indexer.abbreviations import Lexicon
from search.query import MAX_QUERY_CHARS, clean, normalize_code, parse


def test_clean_bounds_and_strips_control_characters() -> None:
    assert clean("a\x00b\tc\n") == "a b c"
    assert len(clean("x" * 10_000)) == MAX_QUERY_CHARS


def test_normalize_code() -> None:
    assert normalize_code("e11.9") == "E119"
    assert normalize_code(" M1427 ") == "M1427"


def test_query_syntax_is_only_words() -> None:
    parsed = parse(clean('title:fracture AND (femur OR "hip") NOT x* [a TO z]~'), None)
    typed = [slot.text for slot in parsed.readings[0].slots]
    assert "title" in typed and "fracture" in typed and "femur" in typed
    assert all(":" not in word and "*" not in word for word in typed)


def test_code_shaped_query_is_a_code_candidate() -> None:
    assert parse("E11.9", None).code == "E119"
    assert parse("m1427", None).code == "M1427"
    assert parse("bone scan", None).code is None


def test_expansions_become_alternatives() -> None:
    parsed = parse("fx femur", Lexicon.load_default())
    fx = parsed.readings[0].slots[0]
    assert any(a.label == "fracture" for a in fx.alternatives)
