"""Alphabetic Index phrases, on the real index files and on invented lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus.errors import CorpusError
from corpus.icd10cm_index import (
    MAX_PHRASES_PER_CODE,
    IndexLine,
    canonical_code,
    index_terms,
    read_index_lines,
    read_index_terms,
)

MAIN_INDEX = "icd10cm-index/index-2025-flattened.csv"
EXTERNAL_INDEX = "icd10cm-index/icd-10-cm-eindex-2025.xml"


@pytest.fixture(scope="module")
def terms(corpus_dir: Path) -> dict[str, list[str]]:
    """Phrases of the main index by code."""
    return read_index_terms(corpus_dir / MAIN_INDEX)


@pytest.fixture(scope="module")
def external_terms(corpus_dir: Path) -> dict[str, list[str]]:
    """Phrases of the external-cause index by code."""
    return read_index_terms(corpus_dir / EXTERNAL_INDEX)


@pytest.mark.parametrize(
    ("phrase", "code"),
    [
        ("heart attack", "I21.9"),  # Attack > heart, see Infarct, myocardium
        ("swimmer's ear", "H60.33"),  # Swimmer's > ear: H60.33-
        ("bunion", "M21.61"),  # Bunion: M21.61-
        ("hay fever", "J30.1"),
        ("nosebleed", "R04.0"),
        ("pink eye", "H10.02"),  # Pink > eye, see Conjunctivitis, acute, mucopurulent
        ("coldsore", "B00.1"),
        ("fever blister", "B00.1"),
        ("bedsore", "L89.1"),  # see Ulcer, pressure, by site
        ("fracture traumatic femur shaft", "S72.30"),
    ],
)
def test_everyday_phrases(terms: dict[str, list[str]], phrase: str, code: str) -> None:
    assert phrase in terms[code]


def test_codes_are_canonical(terms: dict[str, list[str]]) -> None:
    assert terms
    assert all(canonical_code(code) == code for code in terms)
    assert not any(code.endswith(("-", ".")) for code in terms)


def test_phrases_are_capped_and_unique(terms: dict[str, list[str]]) -> None:
    for phrases in terms.values():
        assert 0 < len(phrases) <= MAX_PHRASES_PER_CODE
        assert len({p.casefold() for p in phrases}) == len(phrases)


def test_shortest_phrases_come_first(terms: dict[str, list[str]]) -> None:
    for phrases in terms.values():
        lengths = [len(p.split()) for p in phrases]
        assert lengths == sorted(lengths)


def test_index_conventions_are_dropped(terms: dict[str, list[str]]) -> None:
    words = {word for phrases in terms.values() for p in phrases for word in p.split()}
    assert "NEC" not in words
    assert "NOS" not in words


def test_csv_lines_follow_the_file(corpus_dir: Path) -> None:
    lines = read_index_lines(corpus_dir / MAIN_INDEX)
    # README: 81,024 rows, 62,721 with a code in Code; two more rows have their
    # code glued to the end of a reference ("Fracture, traumatic M84.40").
    assert len(lines) == 81024
    assert sum(1 for line in lines if line.code) == 62721 + 2
    assert lines[0].level == 0
    pathological = next(x for x in lines if x.term == "Fracture, pathological")
    assert (pathological.see_also, pathological.code) == (
        "Fracture, traumatic",
        "M84.40",
    )


def test_plain_fracture_is_traumatic(terms: dict[str, list[str]]) -> None:
    # "Fracture, traumatic" is the index's plain fracture; its see-also to
    # pathological fractures does not make them traumatic.
    assert "fracture ankle" in terms["S82.899"]
    assert "fracture traumatic ankle" in terms["S82.899"]
    assert not any("traumatic" in p.split() for p in terms["M84.47"])
    assert "fracture ankle" not in terms["M84.47"]


def test_external_cause_index(
    corpus_dir: Path, external_terms: dict[str, list[str]]
) -> None:
    lines = read_index_lines(corpus_dir / EXTERNAL_INDEX)
    assert lines[0].term == "Abandonment NEC"  # non-essential modifier left out
    assert not any("(" in line.term for line in lines if line.term.startswith("Aban"))
    assert "abandonment" in external_terms["X58"]
    external_causes = [code for code in external_terms if "V00" <= code <= "Y99"]
    assert len(external_causes) > 0.9 * len(external_terms)


def line(
    level: int, term: str, code: str = "", see: str = "", also: str = ""
) -> IndexLine:
    """An invented index line."""
    return IndexLine(level, term, see=see, see_also=also, code=code)


def test_references_resolve_through_spelling_variants() -> None:
    lines = [
        line(0, "Attack, attacks"),
        line(1, "heart", see="Infarct, myocardium"),
        line(0, "Infarct, infarction"),
        line(1, "myocardium, myocardial", code="I21.9"),
        line(2, "old", code="I25.2"),
    ]
    result = index_terms(lines)
    phrases = result["I21.9"]
    assert {"heart attack", "attack heart", "infarct myocardium"} <= set(phrases)
    # At equal length, a line's own phrase comes before one reached by reference.
    assert phrases.index("infarct myocardium") < phrases.index("heart attack")
    assert "infarct myocardium old" in result["I25.2"]


def test_reference_by_site_stands_for_the_subterms() -> None:
    lines = [
        line(0, "Bedsore", see="Ulcer, pressure, by site"),
        line(0, "Ulcer, ulcerated"),
        line(1, "pressure", code="L89.9-"),
        line(2, "back", code="L89.1-"),
        line(2, "heel", code="L89.6-"),
    ]
    result = index_terms(lines)
    assert "bedsore" in result["L89.1"]
    assert "bedsore" in result["L89.6"]
    assert "bedsore" in result["L89.9"]
    assert "ulcer pressure heel" in result["L89.6"]


def test_see_also_is_followed_only_from_an_uncoded_line() -> None:
    lines = [
        line(0, "Ache", code="R52", also="Pain, by site"),
        line(0, "Soreness", also="Pain, back"),
        line(0, "Pain"),
        line(1, "back", code="M54.9"),
        line(1, "head", code="R51.9"),
    ]
    result = index_terms(lines)
    assert result["R52"] == ["ache"]
    assert "ache" not in result["M54.9"] and "ache" not in result["R51.9"]
    assert "soreness" in result["M54.9"]


def test_a_dominant_qualified_main_term_answers_to_its_head_word() -> None:
    lines = [
        line(0, "Sprain, traumatic", code="T14.8"),
        *(line(1, f"site{i}", code=f"S0{i}.9") for i in range(1, 6)),
        line(0, "Sprain, chronic"),
        line(1, "site1", code="M24.9"),
    ]
    result = index_terms(lines)
    assert "sprain site1" in result["S01.9"]
    assert "sprain traumatic site1" in result["S01.9"]
    assert "sprain site1" not in result["M24.9"]


def test_see_condition_is_an_instruction_not_a_reference() -> None:
    # "Accidental - see condition" means look up the condition named, not the
    # main term "Condition" (and every code under it).
    lines = [
        line(0, "Accidental", see="condition"),
        line(0, "Condition", also="Disease"),
        line(1, "post COVID", code="U09.9"),
    ]
    result = index_terms(lines)
    assert "accidental" not in result.get("U09.9", [])


def test_unresolvable_reference_gives_nothing() -> None:
    result = index_terms([line(0, "Odd", see="Nowhere, at all")])
    assert result == {}


def test_connecting_subterms_are_not_reversed() -> None:
    result = index_terms([line(0, "Cough"), line(1, "with hemorrhage", code="R04.2")])
    assert result["R04.2"] == ["cough with hemorrhage"]


@pytest.mark.parametrize(
    ("code", "expected"),
    [("S72.3-", "S72.3"), ("J30.-", "J30"), ("J301", "J30.1"), (" r04.0 ", "R04.0")],
)
def test_canonical_code(code: str, expected: str) -> None:
    assert canonical_code(code) == expected


def test_bad_level_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "index.csv"
    path.write_text(
        "RowID,Letter,Level,Term,See,SeeAlso,NonEssModif,Code\n"
        "1,A,0,Aaa,,,,A00\n2,A,one,bbb,,,,A01\n",
        encoding="utf-8",
    )
    with pytest.raises(CorpusError, match=r"index\.csv, line 3: Level is 'one'"):
        read_index_terms(path)


def test_missing_columns_are_named(tmp_path: Path) -> None:
    path = tmp_path / "index.csv"
    path.write_text("Level,Term\n0,Aaa\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"line 1: header lacks RowID"):
        read_index_terms(path)
