"""CMS Physician Fee Schedule relative values (the ``PPRRVU`` CSV file).

The file opens with title lines, then a header spread over several lines whose
last line starts with ``HCPCS,MOD,DESCRIPTION``; columns are read by position,
after checking that the header block names them as expected. Rows for CPT codes
are read like any other: their descriptors are AMA copyright, so callers must
not store or ship them (the reader keeps them only in ``RvuEntry.description``).
"""

from __future__ import annotations

import csv
import functools
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from corpus.errors import CorpusError
from corpus.records import CodeRecord
from corpus.tables import read_keyed_tables

logger = logging.getLogger(__name__)

# Column positions of the official layout, with words the header block must
# contain at each (the header words are split over several lines).
CODE, MODIFIER, DESCRIPTION, STATUS = 0, 1, 2, 3
WORK, PE_NONFACILITY, PE_FACILITY, MALPRACTICE = 5, 6, 8, 10
TOTAL_NONFACILITY, TOTAL_FACILITY, GLOBAL_DAYS = 11, 12, 14
EXPECTED_HEADER = {
    CODE: "HCPCS",
    MODIFIER: "MOD",
    DESCRIPTION: "DESCRIPTION",
    STATUS: "STATUS CODE",
    WORK: "WORK RVU",
    PE_NONFACILITY: "NON-FAC PE RVU",
    PE_FACILITY: "FACILITY PE RVU",
    MALPRACTICE: "MP RVU",
    TOTAL_NONFACILITY: "NON-FACILITY TOTAL",
    TOTAL_FACILITY: "FACILITY TOTAL",
    GLOBAL_DAYS: "GLOB DAYS",
}


@dataclass(frozen=True)
class RvuEntry:
    """The relative values of one code (and modifier) for the fee schedule."""

    code: str
    modifier: str
    status: str
    work_rvu: float | None
    pe_nonfacility: float | None
    pe_facility: float | None
    malpractice: float | None
    total_nonfacility: float | None
    total_facility: float | None
    global_days: str
    description: str

    def attributes(self) -> dict[str, str]:
        """The values worth showing on a code record, as strings."""
        values = {
            "status": self.status,
            "work_rvu": self.work_rvu,
            "pe_rvu_nonfacility": self.pe_nonfacility,
            "pe_rvu_facility": self.pe_facility,
            "malpractice_rvu": self.malpractice,
            "total_rvu_nonfacility": self.total_nonfacility,
            "total_rvu_facility": self.total_facility,
            "global_days": self.global_days,
        }
        return {
            key: f"{value:.2f}" if isinstance(value, float) else value
            for key, value in values.items()
            if value is not None and value != ""
        }


def read_rvu(path: Path) -> Iterator[RvuEntry]:
    """Yield every row of a PPRRVU file, modifier rows included, in file order."""
    try:
        with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
            yield from _entries(path, csv.reader(handle))
    except OSError as error:
        raise CorpusError(f"{path}: cannot read the RVU file ({error})") from None


def rvu_by_code(entries: Iterable[RvuEntry]) -> dict[str, RvuEntry]:
    """The per-code view: entries without a modifier, by code."""
    return {entry.code: entry for entry in entries if not entry.modifier}


def _entries(path: Path, reader: Iterator[list[str]]) -> Iterator[RvuEntry]:
    """Find the header, check it, then turn each data row into an entry."""
    header_block: list[list[str]] = []
    line = 0
    for cells in reader:
        line += 1
        if cells and cells[0].strip().upper() == "HCPCS":
            header_block.append(cells)
            break
        header_block.append(cells)
    else:
        raise CorpusError(
            f"{path}: no header row found; expected a row whose first cell is HCPCS"
        )
    _check_header(path, line, header_block)

    for cells in reader:
        line += 1
        if not cells or not cells[0].strip():
            continue
        yield _entry(path, line, cells)


def _check_header(path: Path, line: int, block: list[list[str]]) -> None:
    """Check that the header lines, read down each column, name what we expect."""
    # Title lines sit above the header; header lines are the rows just above the
    # HCPCS row that have an empty first cell.
    header_rows = [block[-1]]
    for cells in reversed(block[:-1]):
        if not cells or cells[0].strip():
            break
        header_rows.insert(0, cells)
    width = max(len(cells) for cells in header_rows)
    names = [
        " ".join(
            cells[i].strip()
            for cells in header_rows
            if i < len(cells) and cells[i].strip()
        ).upper()
        for i in range(width)
    ]

    for position, expected in EXPECTED_HEADER.items():
        found = names[position] if position < len(names) else ""
        # Compare whole trailing words: "FACILITY TOTAL" is not "NON-FACILITY TOTAL".
        tail = found.split()[-len(expected.split()) :]
        if tail != expected.split():
            raise CorpusError(
                f"{path}, line {line}: column {position + 1} of the header is "
                f"{found!r}, expected {expected!r} (the CMS PPRRVU layout)"
            )


def _entry(path: Path, line: int, cells: list[str]) -> RvuEntry:
    """One data row as an entry."""
    if len(cells) <= GLOBAL_DAYS:
        raise CorpusError(
            f"{path}, line {line}: {len(cells)} cells, expected at least "
            f"{GLOBAL_DAYS + 1} (the CMS PPRRVU layout)"
        )
    return RvuEntry(
        code=cells[CODE].strip(),
        modifier=cells[MODIFIER].strip(),
        status=cells[STATUS].strip(),
        work_rvu=_number(path, line, cells, WORK),
        pe_nonfacility=_number(path, line, cells, PE_NONFACILITY),
        pe_facility=_number(path, line, cells, PE_FACILITY),
        malpractice=_number(path, line, cells, MALPRACTICE),
        total_nonfacility=_number(path, line, cells, TOTAL_NONFACILITY),
        total_facility=_number(path, line, cells, TOTAL_FACILITY),
        global_days=cells[GLOBAL_DAYS].strip(),
        description=cells[DESCRIPTION].strip(),
    )


def _number(path: Path, line: int, cells: list[str], position: int) -> float | None:
    """A numeric cell as a float; None when empty."""
    text = cells[position].strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise CorpusError(
            f"{path}, line {line}: {EXPECTED_HEADER[position]} is {text!r}, "
            "expected a number"
        ) from None


# Attribute names of the values a fee-schedule entry puts on a record, in the
# order a detail view lists them.
VALUE_ATTRIBUTES = (
    "status",
    "work_rvu",
    "pe_rvu_nonfacility",
    "pe_rvu_facility",
    "malpractice_rvu",
    "total_rvu_nonfacility",
    "total_rvu_facility",
    "global_days",
)
SOURCE_ATTRIBUTE = "rvu_source"
CODES_FILE = "rvu-codes.tsv"
# Code systems the fee schedule never covers.
NOT_PRICED_SYSTEMS = frozenset({"icd10cm"})


def with_rvu(
    record: CodeRecord, entry: RvuEntry | None, source: str | None
) -> CodeRecord:
    """The record with its fee-schedule values, and the file they came from.

    ``source`` names the fee-schedule file that was read (None when none was);
    a record it has no entry for still gets ``rvu_source``, so that a detail view
    can say "no RVU entry in that file" rather than "no file".
    """
    if record.system in NOT_PRICED_SYSTEMS or source is None:
        return record
    values = entry.attributes() if entry is not None else {}
    return replace(
        record,
        attributes={**record.attributes, **values, SOURCE_ATTRIBUTE: source},
    )


def rvu_summary(system: str, attributes: Mapping[str, object]) -> dict[str, str]:
    """A code's fee-schedule values for a detail view, with a plain-English note.

    ``entry`` is ``found`` or ``none``; ``note`` says which of three cases holds:
    no entry in the file (or no file at all), an entry with no work RVU (``work
    RVU 0.00 (status M ...)``, as for quality-measure codes), or the work RVU.
    Diagnosis systems get an empty dict: relative values do not apply to them.
    """
    if system in NOT_PRICED_SYSTEMS:
        return {}
    text = {key: str(value) for key, value in attributes.items() if value is not None}
    source = text.get(SOURCE_ATTRIBUTE, "")
    if "status" not in text:
        if not source:
            note = (
                "no work RVU assigned: no RVU entry, no fee schedule file (PPRRVU) "
                "was loaded"
            )
            return {"entry": "none", "note": note}
        note = f"no work RVU assigned: no RVU entry in {source}"
        added = text.get("added_in", "")
        if added:
            note += f" (the code was added in the {added} release)"
        return {"entry": "none", "source": source, "note": note}

    summary = {"entry": "found"}
    if source:
        summary["source"] = source
    summary.update((key, text[key]) for key in VALUE_ATTRIBUTES if key in text)
    tables = code_meanings()
    status = text["status"]
    status_meaning = tables["status"].get(status, "")
    if status_meaning:
        summary["status_meaning"] = status_meaning
    days_meaning = tables["global_days"].get(text.get("global_days", ""), "")
    if days_meaning:
        summary["global_days_meaning"] = days_meaning

    status_text = f"status {status}" + (f", {status_meaning}" if status_meaning else "")
    work = text.get("work_rvu", "")
    if not work or _is_zero(work):
        shown = f"work RVU {work}" if work else "work RVU empty"
        summary["note"] = f"no work RVU assigned: {shown} ({status_text})"
    else:
        summary["note"] = f"work RVU {work} ({status_text})"
    return summary


@functools.cache
def code_meanings() -> dict[str, dict[str, str]]:
    """What PFS status codes and global-day values mean, from ``rvu-codes.tsv``."""
    return read_keyed_tables(
        CODES_FILE, ("table", "code", "meaning"), ("status", "global_days")
    )


def _is_zero(text: str) -> bool:
    """Whether a number written as text is zero (``0.00``)."""
    try:
        return float(text) == 0.0
    except ValueError:
        return False
