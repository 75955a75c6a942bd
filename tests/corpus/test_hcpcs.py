"""HCPCS readers and release layering, on the real CMS files."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import time
from pathlib import Path

import openpyxl
import pytest

from corpus.errors import CorpusError
from corpus.hcpcs import (
    WORKBOOK_COLUMNS,
    Modifier,
    _read_workbook_rows,
    layer_releases,
    read_hcpcs_descriptions,
    read_hcpcs_modifiers,
    read_hcpcs_workbook,
)
from corpus.records import CodeRecord

WORKBOOK = "hcpcs/HCPC2025_OCT_ANWEB.xlsx"
DESCRIPTIONS = "hcpcs/hcpcs-2026-jan-descriptions.csv"


@pytest.fixture(scope="module")
def timed_october(corpus_dir: Path) -> tuple[list[CodeRecord], float]:
    """The October 2025 workbook's codes, and how long a cold read took."""
    _read_workbook_rows.cache_clear()
    started = time.perf_counter()
    records = list(read_hcpcs_workbook(corpus_dir / WORKBOOK, "2025-10"))
    return records, time.perf_counter() - started


@pytest.fixture(scope="module")
def october(timed_october: tuple[list[CodeRecord], float]) -> list[CodeRecord]:
    """The October 2025 workbook's codes."""
    return timed_october[0]


@pytest.fixture(scope="module")
def january(corpus_dir: Path) -> list[CodeRecord]:
    """The January 2026 descriptions."""
    return list(read_hcpcs_descriptions(corpus_dir / DESCRIPTIONS, "2026-01"))


@pytest.fixture(scope="module")
def layered(october: list[CodeRecord], january: list[CodeRecord]) -> list[CodeRecord]:
    """October 2025 with January 2026 laid over it."""
    return layer_releases(october, january)


def by_code(records: list[CodeRecord]) -> dict[str, CodeRecord]:
    """Records by code."""
    return {record.code: record for record in records}


def csv_codes(path: Path) -> list[str]:
    """The code column of a descriptions CSV, read independently."""
    with path.open(encoding="utf-8", newline="") as handle:
        return [row["HCPCS_CODE"] for row in csv.DictReader(handle)]


def test_workbook_codes(october: list[CodeRecord]) -> None:
    # README of the reference files: 8,463 codes, 1,205 with a termination date.
    assert len(october) == 8463
    assert len(by_code(october)) == 8463
    assert all(len(r.code) == 5 and r.system == "hcpcs" for r in october)
    assert sum(r.terminated is not None for r in october) == 1205
    assert all(r.categories == () for r in october)


def test_workbook_fields(october: list[CodeRecord]) -> None:
    cane = by_code(october)["E0100"]
    assert cane.title.startswith("Cane")
    assert len(cane.short) <= 28
    assert cane.effective == dt.date(1986, 1, 1)
    assert cane.terminated is None
    assert cane.attributes["betos"] == "D1E"
    assert cane.attributes["coverage"] == "D"
    assert cane.attributes["action"] == "N"
    assert cane.attributes["type_of_service"] == "A,P,R"
    assert cane.attributes["releases"] == "2025-10"
    assert cane.attributes["action_effective"] == "1996-01-01"


def test_terminated_codes_are_inactive_after_termination(
    october: list[CodeRecord],
) -> None:
    ended = [(r, r.terminated) for r in october if r.terminated is not None]
    day = dt.timedelta(days=1)
    assert ended
    assert all(r.is_active(end) and not r.is_active(end + day) for r, end in ended)


def test_titles_have_single_spaces(october: list[CodeRecord]) -> None:
    assert not any("  " in r.title for r in october)


def test_modifiers_are_not_codes(corpus_dir: Path, october: list[CodeRecord]) -> None:
    modifiers = read_hcpcs_modifiers(corpus_dir / WORKBOOK)
    assert len(modifiers) == 383
    codes = {m.code: m for m in modifiers}
    assert all(len(code) == 2 for code in codes)
    assert "left" in codes["LT"].title.lower()
    assert not set(codes) & set(by_code(october))


def test_modifiers_from_descriptions_match_workbook(corpus_dir: Path) -> None:
    from_csv = read_hcpcs_modifiers(corpus_dir / DESCRIPTIONS)
    from_workbook = read_hcpcs_modifiers(corpus_dir / WORKBOOK)
    assert {m.code for m in from_csv} == {m.code for m in from_workbook}
    assert isinstance(from_csv[0], Modifier)


def test_descriptions(corpus_dir: Path, january: list[CodeRecord]) -> None:
    five_character = [c for c in csv_codes(corpus_dir / DESCRIPTIONS) if len(c) == 5]
    assert [r.code for r in january] == five_character
    record = by_code(january)["M1427"]
    assert record.short == "Doc med rsn bone scn"
    assert record.title.startswith("Documentation of medical reason(s)")
    assert record.effective is None


def test_layering_adds_new_codes(
    october: list[CodeRecord], january: list[CodeRecord], layered: list[CodeRecord]
) -> None:
    codes = by_code(layered)
    assert set(codes) == set(by_code(october)) | set(by_code(january))
    assert codes["M1427"].attributes["releases"] == "2026-01"
    assert [r.code for r in layered] == sorted(codes)


def test_layering_keeps_what_the_later_release_lacks(
    october: list[CodeRecord], layered: list[CodeRecord]
) -> None:
    before, after = by_code(october)["E0100"], by_code(layered)["E0100"]
    assert after.effective == before.effective
    assert after.attributes["betos"] == "D1E"
    assert after.attributes["releases"] == "2025-10,2026-01"
    assert after.attributes["release"] == "2026-01"
    assert sum(r.terminated is not None for r in layered) == 1205


def test_layering_records_revised_descriptions(
    october: list[CodeRecord], layered: list[CodeRecord]
) -> None:
    # README: January 2026 revises 295 long descriptions.
    changed = [
        r
        for r in layered
        if "long description revised" in r.attributes.get("changed", "")
    ]
    assert len(changed) == 295
    earlier = by_code(october)
    for record in changed:
        assert record.title != earlier[record.code].title
        assert earlier[record.code].title in record.attributes["changed"]


def test_layering_keeps_codes_missing_from_later(october: list[CodeRecord]) -> None:
    ended = next(r for r in october if r.terminated is not None)
    later = [
        dataclasses.replace(
            r, title=r.title + " (revised)", attributes={"release": "x"}
        )
        for r in october
        if r.code != ended.code
    ]
    result = by_code(layer_releases(october, later))
    assert result[ended.code] == ended
    assert result[ended.code].terminated is not None


def test_descriptions_with_bad_header(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("CODE,SHORT,LONG\nA0001,x,y\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"bad\.csv, line 1: .*HCPCS_CODE"):
        list(read_hcpcs_descriptions(path))


def write_workbook(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    """A small workbook in the ANWEB layout, with invented rows."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append([row.get(name, "") for name in header])
    workbook.save(path)


def test_continuation_rows_extend_descriptions(tmp_path: Path) -> None:
    path = tmp_path / "HCPC2099_JAN_ANWEB.xlsx"
    header = [*WORKBOOK_COLUMNS, "TOS1"]
    write_workbook(
        path,
        header,
        [
            {
                "HCPC": "Z9999",
                "RECID": "3",
                "LONG DESCRIPTION": "Made-up device,",
                "SHORT DESCRIPTION": "Made-up dev",
                "ADD DT": "20990101",
            },
            {"HCPC": "Z9999", "RECID": "4", "LONG DESCRIPTION": "second part"},
            {
                "HCPC": "ZZ",
                "RECID": "7",
                "LONG DESCRIPTION": "Made-up modifier",
                "SHORT DESCRIPTION": "Made-up mod",
            },
        ],
    )
    (record,) = read_hcpcs_workbook(path)
    assert record.title == "Made-up device, second part"
    assert record.effective == dt.date(2099, 1, 1)
    assert read_hcpcs_modifiers(path) == [
        Modifier("ZZ", "Made-up mod", "Made-up modifier")
    ]


def test_workbook_errors_name_file_and_row(tmp_path: Path) -> None:
    path = tmp_path / "odd.xlsx"
    write_workbook(path, ["HCPC", "RECID"], [])
    with pytest.raises(CorpusError, match=r"odd\.xlsx, row 1: header lacks"):
        list(read_hcpcs_workbook(path))

    path = tmp_path / "dates.xlsx"
    write_workbook(
        path,
        list(WORKBOOK_COLUMNS),
        [{"HCPC": "Z9999", "RECID": "3", "ADD DT": "2099-01-01"}],
    )
    with pytest.raises(
        CorpusError, match=r"dates\.xlsx, row 2: ADD DT is '2099-01-01'"
    ):
        list(read_hcpcs_workbook(path))
