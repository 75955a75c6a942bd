"""The analyzer: codes whole, case and accents folded, Snowball stems, our stop list."""

from __future__ import annotations

import pytest

from indexer.analysis import fold, is_code_shaped, medical_analyzer, stem, terms, words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Fractures of the Femur", ["fractur", "femur"]),
        ("E11.9", ["e119"]),
        ("w/o complications", ["w/o", "complic"]),
        ("Surgical boot/shoe", ["surgic", "boot", "shoe"]),
        ("Gastrostomy/jejunostomy tube", ["gastrostomi", "jejunostomi", "tube"]),
        ("heat and/or cold", ["heat", "cold"]),
        ("s/p w/c", ["s/p", "w/c"]),
        ("with contrast", ["with", "contrast"]),
        ("without contrast", ["without", "contrast"]),
        ("not", ["not"]),
        ("no", ["no"]),
        ("Ménière's disease", ["menier", "diseas"]),
        ("Swimmer's ear", ["swimmer", "ear"]),
    ],
)
def test_terms(text: str, expected: list[str]) -> None:
    assert terms(text) == expected


def test_snowball_joins_hypertension_and_hypertensive() -> None:
    # Whoosh's Porter stemmer keeps these apart; the brief's trap 2.
    assert stem("hypertension") == stem("hypertensive")
    assert stem("hypothyroidism") == "hypothyroid"


def test_codes_are_code_shaped() -> None:
    assert is_code_shaped("e11.9")
    assert is_code_shaped("m1427")
    assert not is_code_shaped("femur")


def test_fold_and_words() -> None:
    assert fold("ÉCHO") == "echo"
    assert words("Doc med rsn; bone-scn") == ["doc", "med", "rsn", "bone", "scn"]


def test_whoosh_analyzer_yields_the_same_terms() -> None:
    analyzer = medical_analyzer()
    assert [t.text for t in analyzer("Type 2 diabetes E11.9")] == terms(
        "Type 2 diabetes E11.9"
    )
