"""Query parsing: bounded input, query syntax as words, readings from expansions."""

from __future__ import annotations

import pytest

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


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("E 11.9", "E119"),
        ("e11-9", "E119"),
        ("E11,9", "E119"),
        ("S52.9-", "S529"),
        ("f32..a", "F32A"),
    ],
)
def test_a_code_written_with_separators_is_a_code_candidate(
    text: str, code: str
) -> None:
    assert parse(text, None).code == code


@pytest.mark.parametrize("text", ["fx, femur", "type 2", "vitamin d 3", "dm 2 w/o"])
def test_words_with_numbers_are_no_code(text: str) -> None:
    assert parse(text, None).code is None


def test_expansions_become_alternatives() -> None:
    parsed = parse("fx femur", Lexicon.load_default())
    fx = parsed.readings[0].slots[0]
    assert any(a.label == "fracture" for a in fx.alternatives)


def test_lay_pairs_read_in_index_order_and_through_shorthand() -> None:
    lexicon = Lexicon.from_tables(
        shorthand="abbreviation\texpansion\tsource\talso_word\tnote\n"
        "cath\tcatheter\tcurated\tno\t\n",
        lay="phrase\tclinical\tnote\nurethral catheter\turinary catheter\t\n",
    )
    for query in ("urethral catheter", "catheter urethral", "cath urethral"):
        readings = parse(query, lexicon).readings
        spans = [r.slots[0] for r in readings if len(r.slots) == 1]
        assert spans, query
        assert spans[0].alternatives[0].terms == ("urinari", "cathet")
        assert spans[0].alternatives[0].kind == "lay"
    # Words that are not neighbours do not pair up.
    readings = parse("catheter left urethral", lexicon).readings
    assert all(len(r.slots) == 3 for r in readings)
