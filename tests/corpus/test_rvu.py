"""PFS relative value reader, on the real Level II file and invented CPT-shaped rows."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from corpus.errors import CorpusError
from corpus.rvu import RvuEntry, read_rvu, rvu_by_code

RVU_FILE = "pfs-rvu/PPRRVU2025_Oct-level2.csv"


@pytest.fixture(scope="module")
def entries(corpus_dir: Path) -> list[RvuEntry]:
    """Every row of the real file."""
    return list(read_rvu(corpus_dir / RVU_FILE))


def raw_rows(path: Path) -> list[list[str]]:
    """The file's data rows, read independently of the reader."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    start = next(i for i, row in enumerate(rows) if row and row[0] == "HCPCS")
    return [row for row in rows[start + 1 :] if row and row[0]]


def header_lines(path: Path) -> list[str]:
    """The title and header lines of the real file (column names only)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    end = next(i for i, text in enumerate(lines) if text.startswith("HCPCS,"))
    return lines[: end + 1]


def test_every_row_is_read(corpus_dir: Path, entries: list[RvuEntry]) -> None:
    rows = raw_rows(corpus_dir / RVU_FILE)
    assert len(entries) == len(rows) == 5183  # README: 5,183 rows
    assert [(e.code, e.modifier) for e in entries] == [(r[0], r[1]) for r in rows]


def test_values_by_position(corpus_dir: Path, entries: list[RvuEntry]) -> None:
    row = next(r for r in raw_rows(corpus_dir / RVU_FILE) if r[0] == "G0011")
    entry = rvu_by_code(entries)["G0011"]
    assert entry.work_rvu == float(row[5]) > 0
    assert entry.pe_nonfacility == float(row[6])
    assert entry.pe_facility == float(row[8])
    assert entry.malpractice == float(row[10])
    assert entry.total_nonfacility == float(row[11])
    assert entry.total_facility == float(row[12])
    assert entry.global_days == row[14] == "XXX"
    assert entry.status == row[3] == "A"
    assert entry.attributes()["work_rvu"] == row[5]


def test_per_code_view_leaves_out_modifier_rows(entries: list[RvuEntry]) -> None:
    with_modifier = [e for e in entries if e.modifier]
    assert {e.modifier for e in with_modifier} >= {"26", "TC"}
    view = rvu_by_code(entries)
    assert len(view) == len(entries) - len(with_modifier)
    assert all(not e.modifier for e in view.values())


def test_full_file_with_numeric_codes(corpus_dir: Path, tmp_path: Path) -> None:
    # CPT-shaped rows with invented descriptions: real CPT text is AMA copyright.
    path = tmp_path / "PPRRVU2099.csv"
    rows = [
        "99990,,Invented visit one,A,,1.50,1.10,,0.60,,0.10,2.70,2.20,0,XXX",
        "99990,26,Invented visit one,A,,1.50,0.50,,0.50,,0.10,2.10,2.10,1,XXX",
        "99991,,Invented procedure,A,,10.00,,NA,5.00,,1.00,,16.00,0,090",
    ]
    lines = header_lines(corpus_dir / RVU_FILE)
    path.write_text("\n".join([*lines, *rows]) + "\n", encoding="utf-8")

    entries = list(read_rvu(path))
    assert [(e.code, e.modifier) for e in entries] == [
        ("99990", ""),
        ("99990", "26"),
        ("99991", ""),
    ]
    view = rvu_by_code(entries)
    assert view["99990"].work_rvu == 1.5
    assert view["99991"].pe_nonfacility is None
    assert view["99991"].global_days == "090"
    assert "pe_rvu_nonfacility" not in view["99991"].attributes()


def test_no_header(tmp_path: Path) -> None:
    path = tmp_path / "PPRRVU.csv"
    path.write_text("title\nA0001,,x,A\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"PPRRVU\.csv: no header row found"):
        list(read_rvu(path))


def test_shifted_columns(tmp_path: Path) -> None:
    path = tmp_path / "PPRRVU.csv"
    path.write_text("HCPCS,MOD,STATUS,DESCRIPTION\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"line 1: column 3 of the header"):
        list(read_rvu(path))


def test_bad_number_names_the_line(corpus_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "PPRRVU.csv"
    lines = header_lines(corpus_dir / RVU_FILE)
    bad = "99990,,Invented,A,,one,1.10,,0.60,,0.10,2.70,2.20,0,XXX"
    path.write_text("\n".join([*lines, bad]) + "\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=rf"line {len(lines) + 1}: WORK RVU is 'one'"):
        list(read_rvu(path))
