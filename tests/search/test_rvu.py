"""Fee-schedule values in a code's details: found, no work RVU, or no entry at all.

The data directory holds the real HCPCS releases and a PPRRVU file made of the
real Level II file plus invented CPT-shaped rows (real CPT text is AMA
copyright), as the full official file would have.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from corpus.load import Corpus, load_corpus
from corpus.records import CodeRecord
from corpus.rvu import code_meanings, read_rvu, rvu_by_code, rvu_summary
from indexer.build import build_index
from search.engine import Engine
from search.index import IndexHome

RVU_FILE = "pfs-rvu/PPRRVU2025_Oct-level2.csv"
FULL_FILE = "PPRRVU2099_FULL.csv"
INVENTED_DESCRIPTOR = "Invented rvu row text"
# Columns: HCPCS, MOD, DESCRIPTION, STATUS, (not used), WORK, NON-FAC PE, NA,
# FACILITY PE, NA, MP, NON-FAC TOTAL, FACILITY TOTAL, PCTC, GLOB DAYS.
CPT_ROWS = (
    f"99990,,{INVENTED_DESCRIPTOR},A,,1.50,1.10,,0.60,,0.10,2.70,2.20,0,XXX",
    f"99990,26,{INVENTED_DESCRIPTOR},A,,1.50,0.50,,0.50,,0.10,2.10,2.10,1,XXX",
    f"99991,,{INVENTED_DESCRIPTOR},A,,10.00,,NA,5.00,,1.00,,16.00,0,090",
)
DEMO_SET = (
    {"code": "99990", "system": "cpt-demo", "short": "Invented visit"},
    {"code": "99991", "system": "cpt-demo", "short": "Invented procedure"},
    {"code": "99992", "system": "cpt-demo", "short": "Invented, not priced"},
)


@pytest.fixture(scope="module")
def corpus(corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    """The corpus loaded from a data directory with the full-layout RVU file."""
    data = tmp_path_factory.mktemp("rvu-data")
    (data / "hcpcs").mkdir()
    for name in ("HCPC2025_OCT_ANWEB.xlsx", "hcpcs-2026-jan-descriptions.csv"):
        (data / "hcpcs" / name).symlink_to(corpus_dir / "hcpcs" / name)
    real = (corpus_dir / RVU_FILE).read_text(encoding="utf-8").splitlines()
    (data / FULL_FILE).write_text("\n".join([*real, *CPT_ROWS]) + "\n")
    lines = [json.dumps(row) for row in DEMO_SET]
    (data / "demo.jsonl").write_text("\n".join(lines) + "\n")
    return load_corpus(data)


@pytest.fixture(scope="module")
def records(corpus: Corpus) -> dict[str, CodeRecord]:
    """Every record by key."""
    return {record.key: record for record in corpus.records}


@pytest.fixture(scope="module")
def engine(
    records: dict[str, CodeRecord], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """An engine over the M1 and G00 codes, the invented set and a few diagnoses."""
    subset = [
        r
        for r in records.values()
        if r.code.startswith(("M14", "G001"))
        or r.system == "cpt-demo"
        or r.code.startswith("E11.6")
    ]
    home = tmp_path_factory.mktemp("rvu-home")
    build_index(subset, home)
    engine = IndexHome(home).engine()
    yield engine
    engine.close()


def detail_rvu(engine: Engine, code: str, system: str | None = None) -> dict[str, str]:
    """What ``Engine.detail`` should return as ``rvu``: the call it is to make."""
    detail = engine.detail(code, system)
    attributes = detail.record["attributes"]
    assert isinstance(attributes, dict)
    return rvu_summary(str(detail.record["system"]), attributes)


def test_every_hcpcs_code_says_whether_it_has_an_entry(
    corpus_dir: Path, records: dict[str, CodeRecord]
) -> None:
    file_entries = rvu_by_code(read_rvu(corpus_dir / RVU_FILE))
    hcpcs = [r for r in records.values() if r.system == "hcpcs"]
    for record in hcpcs:
        summary = rvu_summary(record.system, record.attributes)
        entry = file_entries.get(record.code)
        if entry is None:
            assert summary["entry"] == "none"
            assert summary["note"].startswith(
                f"no work RVU assigned: no RVU entry in {FULL_FILE}"
            )
            continue
        assert summary["entry"] == "found"
        assert summary["status"] == entry.status
        assert summary.get("global_days", "") == entry.global_days
        if entry.work_rvu:
            assert float(summary["work_rvu"]) == entry.work_rvu
            assert summary["note"].startswith(f"work RVU {summary['work_rvu']}")
        else:
            assert summary["note"].startswith("no work RVU assigned")
    # Both cases occur in the real data.
    notes = [rvu_summary(r.system, r.attributes)["note"] for r in hcpcs]
    assert any("no RVU entry" in n for n in notes)
    assert any(n.startswith("no work RVU assigned: work RVU") for n in notes)


def test_detail_distinguishes_the_three_cases(engine: Engine) -> None:
    # M1427 is new in January 2026: the October 2025 file has no row for it.
    m1427 = detail_rvu(engine, "M1427")
    assert m1427 == {
        "entry": "none",
        "source": FULL_FILE,
        "note": f"no work RVU assigned: no RVU entry in {FULL_FILE} (the code was "
        "added in the 2026-01 release)",
    }
    # M1400 has a row: a measurement code with a work RVU of zero.
    m1400 = detail_rvu(engine, "M1400")
    assert m1400["entry"] == "found"
    assert m1400["status"] == "M"
    assert m1400["work_rvu"] == "0.00"
    assert m1400["status_meaning"] == code_meanings()["status"]["M"]
    assert m1400["note"] == (
        f"no work RVU assigned: work RVU 0.00 (status M, {m1400['status_meaning']})"
    )
    # G0011 is paid: its work RVU is in the note.
    g0011 = detail_rvu(engine, "G0011")
    assert g0011["status"] == "A"
    assert float(g0011["work_rvu"]) > 0
    assert g0011["note"].startswith(f"work RVU {g0011['work_rvu']} (status A, ")
    assert g0011["global_days_meaning"] == code_meanings()["global_days"]["XXX"]
    # Diagnoses have no relative values at all.
    assert detail_rvu(engine, "E11.65") == {}


def test_full_file_prices_a_licensed_set(
    engine: Engine, records: dict[str, CodeRecord]
) -> None:
    visit = detail_rvu(engine, "99990", "cpt-demo")
    assert (visit["work_rvu"], visit["pe_rvu_nonfacility"]) == ("1.50", "1.10")
    assert visit["malpractice_rvu"] == "0.10"
    procedure = detail_rvu(engine, "99991", "cpt-demo")
    assert procedure["global_days"] == "090"
    assert "pe_rvu_nonfacility" not in procedure
    assert procedure["global_days_meaning"].startswith("major surgery")
    assert detail_rvu(engine, "99992", "cpt-demo")["entry"] == "none"
    # The file's descriptors are read but never stored on a record.
    stored = json.dumps([r.__dict__ for r in records.values()], default=str)
    assert INVENTED_DESCRIPTOR not in stored


def test_without_a_fee_schedule_file() -> None:
    summary = rvu_summary("hcpcs", {"betos": "M5D"})
    assert summary["entry"] == "none"
    assert "no fee schedule file" in summary["note"]
