"""Tests for corpus.categories over the real HCPCS and ICD-10-CM code sets."""

from __future__ import annotations

import csv
import functools
import warnings
from pathlib import Path
from types import ModuleType

import openpyxl
import pytest

from corpus.categories import (
    CategoryError,
    assign,
    assign_categories,
    builtin_tables,
    category_ids,
    category_labels,
    read_betos_labels,
)
from corpus.records import Category, CodeRecord

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"
HCPCS_2026 = SHARED / "hcpcs" / "hcpcs-2026-jan-descriptions.csv"
HCPCS_ANWEB = SHARED / "hcpcs" / "HCPC2025_OCT_ANWEB.xlsx"
LAYOUT = SHARED / "hcpcs" / "record-layout-code-tables.csv"
NUCC = SHARED / "specialty" / "nucc-taxonomy-25.1.csv"

needs_shared = pytest.mark.skipif(
    not HCPCS_2026.exists(), reason="shared corpus folder is not beside the repo"
)


def simple_icd_10_cm() -> ModuleType:
    """The simple_icd_10_cm module, imported without its DeprecationWarning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm

    module: ModuleType = simple_icd_10_cm
    return module


@functools.cache
def icd10cm_records() -> tuple[CodeRecord, ...]:
    """Every ICD-10-CM code, shaped as the reader will shape it."""
    cm = simple_icd_10_cm()
    records = []
    for code in cm.get_all_codes(True):
        if cm.is_chapter(code) or cm.is_block(code):
            continue
        ancestors = cm.get_ancestors(code)
        chapter_id = f"icd10cm:ch{int(ancestors[-1]):02d}"
        chapter = Category(chapter_id, cm.get_description(ancestors[-1]))
        block = Category(
            f"icd10cm:{ancestors[-2]}", cm.get_description(ancestors[-2]), (chapter_id,)
        )
        title = cm.get_description(code)
        records.append(
            CodeRecord("icd10cm", code, title, title, categories=(chapter, block))
        )
    return tuple(records)


@functools.cache
def betos_codes() -> dict[str, str]:
    """HCPCS code -> BETOS code from the October 2025 workbook."""
    workbook = openpyxl.load_workbook(HCPCS_ANWEB, read_only=True)
    rows = workbook.active.iter_rows(values_only=True)
    header = next(rows)
    code_at, betos_at = header.index("HCPC"), header.index("BETOS")
    found = {}
    for row in rows:
        if row[code_at] and row[betos_at]:
            found[str(row[code_at]).strip()] = str(row[betos_at]).strip()
    workbook.close()
    return found


@functools.cache
def hcpcs_records() -> tuple[CodeRecord, ...]:
    """Every HCPCS code of January 2026, with BETOS where October 2025 had it."""
    betos = betos_codes()
    records = []
    with HCPCS_2026.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            code = row["HCPCS_CODE"].strip()
            attributes = {"betos": betos[code]} if code in betos else {}
            records.append(
                CodeRecord(
                    "hcpcs",
                    code,
                    row["SHORT_DESCRIPTION"],
                    row["LONG_DESCRIPTION"],
                    attributes=attributes,
                )
            )
    return tuple(records)


@functools.cache
def categorized_records() -> tuple[CodeRecord, ...]:
    """All ICD-10-CM and HCPCS records after assign_categories."""
    records = (*icd10cm_records(), *hcpcs_records())
    return tuple(assign_categories(records, LAYOUT))


def by_code(records: tuple[CodeRecord, ...], code: str) -> CodeRecord:
    """The one record with ``code``."""
    return next(record for record in records if record.code == code)


@needs_shared
def test_every_code_gets_a_category() -> None:
    records = categorized_records()
    assert len(records) > 105_000
    assert all(record.categories for record in records)


@needs_shared
def test_hcpcs_code_gets_section_and_betos_with_family_path() -> None:
    betos = betos_codes()
    record = by_code(categorized_records(), "E1290")
    ids = category_ids(record)

    assert record.categories[0] == Category("hcpcs:E", "Durable medical equipment")
    betos_category = record.categories[1]
    assert betos_category.id == f"betos:{betos['E1290']}"
    assert betos_category.path == (f"betos:{betos['E1290'][0]}",)
    assert betos_category.label == read_betos_labels(LAYOUT)[betos["E1290"]]
    assert {"hcpcs:E", betos_category.id, betos_category.path[0]} == ids


@needs_shared
def test_code_new_in_2026_without_betos_keeps_only_its_section() -> None:
    assert "M1427" not in betos_codes()
    record = by_code(categorized_records(), "M1427")
    assert [c.id for c in record.categories] == ["hcpcs:M"]


@needs_shared
def test_every_betos_code_of_the_release_is_named_by_the_layout_table() -> None:
    labels = read_betos_labels(LAYOUT)
    for record in categorized_records():
        for category in record.categories:
            if category.id.startswith("betos:"):
                assert category.label == labels[category.id[len("betos:") :]]


@needs_shared
def test_modifiers_get_the_modifier_section() -> None:
    modifiers = [r for r in categorized_records() if len(r.code) == 2]
    assert len(modifiers) > 300
    assert all(r.categories[0].id == "hcpcs:modifier" for r in modifiers)


@needs_shared
def test_icd10cm_records_have_chapter_then_block_under_it() -> None:
    for record in categorized_records():
        if record.system != "icd10cm":
            continue
        chapter, block = record.categories[:2]
        assert chapter.id.startswith("icd10cm:ch") and len(chapter.id) == 12
        assert block.path == (chapter.id,)


def test_icd10cm_record_without_categories_is_completed() -> None:
    record = CodeRecord("icd10cm", "E11.9", "Type 2 diabetes", "Type 2 diabetes")
    (completed,) = assign_categories([record], None)
    assert [c.id for c in completed.categories] == ["icd10cm:ch04", "icd10cm:E08-E13"]
    assert completed.categories[1].path == ("icd10cm:ch04",)
    assert "Diabetes" in completed.categories[1].label


def test_icd10cm_block_without_path_gets_its_chapter() -> None:
    chapter = Category("icd10cm:ch04", "Endocrine")
    block = Category("icd10cm:E08-E13", "Diabetes mellitus")
    record = CodeRecord("icd10cm", "E11.9", "x", "x", categories=(chapter, block))
    (completed,) = assign_categories([record], None)
    assert completed.categories[1].path == ("icd10cm:ch04",)
    assert category_ids(completed) == {"icd10cm:ch04", "icd10cm:E08-E13"}


def test_assigning_twice_changes_nothing() -> None:
    record = CodeRecord("hcpcs", "A0425", "Ground mileage", "Ground mileage")
    record = CodeRecord(**{**record.__dict__, "attributes": {"betos": "O1A"}})
    once = list(assign_categories([record], None))
    twice = list(assign_categories(once, None))
    assert once[0].categories == twice[0].categories
    assert [c.id for c in once[0].categories] == ["hcpcs:A", "betos:O1A"]
    # Without the layout table the BETOS code stands in for its name.
    assert once[0].categories[1].label == "BETOS O1A"


@needs_shared
def test_category_labels_include_parent_levels() -> None:
    records = categorized_records()
    labels = category_labels(records, LAYOUT)
    used = set().union(*(category_ids(record) for record in records))

    assert used <= labels.keys()
    assert labels["betos:D"] == builtin_tables().betos_families["D"]
    assert labels["betos:D1E"] == "Other DME"
    assert labels["hcpcs:V"] == "Vision and hearing services"
    assert labels["icd10cm:ch02"].startswith("Neoplasms")


@needs_shared
def test_every_hcpcs_letter_in_use_has_a_named_section() -> None:
    sections = builtin_tables().sections
    letters = {r.code[0] for r in hcpcs_records() if len(r.code) == 5}
    assert letters <= sections.keys()
    assert "modifier" in sections


def test_bad_layout_file_is_reported_with_its_name(tmp_path: Path) -> None:
    layout = tmp_path / "layout.csv"
    layout.write_text("kind,key,label\nBETOS,D1A,Supplies\n", encoding="utf-8")
    with pytest.raises(CategoryError, match=r"layout\.csv: header is .*'table'"):
        read_betos_labels(layout)


@needs_shared
def test_loader_hook_finds_the_layout_table_in_the_data_dir(tmp_path: Path) -> None:
    (tmp_path / "hcpcs").mkdir()
    (tmp_path / "hcpcs" / LAYOUT.name).symlink_to(LAYOUT.resolve())
    item = CodeRecord("hcpcs", "A0425", "Ground mileage", "Ground mileage")
    item = CodeRecord(**{**item.__dict__, "attributes": {"betos": "O1A"}})
    (categorized,) = assign([item], tmp_path)
    assert categorized.categories[1].label == read_betos_labels(LAYOUT)["O1A"]
