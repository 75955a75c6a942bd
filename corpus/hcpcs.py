"""HCPCS Level II: the CMS quarterly workbook, later descriptions, and layering.

The "ANWEB" workbook has one row per record. ``RECID`` 3 starts a procedure
code, 4 continues its long description; 7 starts a modifier, 8 continues one.
(The October 2025 workbook holds complete descriptions on the 3 and 7 rows; the
continuation rows are read for older files.) Modifiers are two characters,
padded with spaces; they are returned by ``read_hcpcs_modifiers`` and never as
code records.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from corpus.errors import CorpusError
from corpus.records import CodeRecord

logger = logging.getLogger(__name__)

SYSTEM = "hcpcs"

CODE_START, CODE_CONTINUATION = "3", "4"
MODIFIER_START, MODIFIER_CONTINUATION = "7", "8"

# Columns the workbook reader needs; the header row must name them all.
WORKBOOK_COLUMNS = (
    "HCPC",
    "RECID",
    "LONG DESCRIPTION",
    "SHORT DESCRIPTION",
    "COV",
    "BETOS",
    "ADD DT",
    "ACT EFF DT",
    "TERM DT",
    "ACTION CD",
)
TYPE_OF_SERVICE_COLUMNS = ("TOS1", "TOS2", "TOS3", "TOS4", "TOS5")
# Cross-reference columns: for a terminated code, the code(s) to use instead; for
# an active one, related codes (the October 2025 workbook has 213 codes with one).
CROSS_REFERENCE_COLUMNS = ("XREF1", "XREF2", "XREF3", "XREF4", "XREF5")
DESCRIPTION_COLUMNS = ("HCPCS_CODE", "SHORT_DESCRIPTION", "LONG_DESCRIPTION")


@dataclass(frozen=True)
class Modifier:
    """An HCPCS Level II modifier (``LT``, ``GA``), which qualifies a code."""

    code: str
    short: str
    title: str


@dataclass(frozen=True)
class _Row:
    """One workbook row, with the columns the readers use."""

    line: int
    values: dict[str, str]


def read_hcpcs_workbook(path: Path, release: str | None = None) -> Iterator[CodeRecord]:
    """Yield the procedure codes of a CMS HCPCS "ANWEB" workbook, in file order.

    ``release`` (``2025-10``) is recorded in ``attributes["release"]`` and
    ``attributes["releases"]``.
    """
    records: list[tuple[_Row, list[str]]] = []
    for row in _workbook_rows(path):
        kind = row.values["RECID"]
        if kind == CODE_START:
            records.append((row, [row.values["LONG DESCRIPTION"]]))
        elif kind == CODE_CONTINUATION:
            if not records:
                raise CorpusError(
                    f"{path}, row {row.line}: RECID 4 continues a description, "
                    "but no code (RECID 3) comes before it"
                )
            records[-1][1].append(row.values["LONG DESCRIPTION"])

    for row, parts in records:
        yield _workbook_record(path, row, " ".join(p for p in parts if p), release)


def read_hcpcs_modifiers(path: Path) -> list[Modifier]:
    """The modifiers of an HCPCS workbook (.xlsx) or descriptions file (.csv)."""
    if path.suffix.lower() == ".csv":
        return [
            Modifier(code, short, title)
            for code, short, title in _description_rows(path)
            if len(code) == 2
        ]

    modifiers: list[tuple[str, str, list[str]]] = []
    for row in _workbook_rows(path):
        kind = row.values["RECID"]
        if kind == MODIFIER_START:
            code = row.values["HCPC"].strip()
            short = _clean(row.values["SHORT DESCRIPTION"])
            modifiers.append((code, short, [row.values["LONG DESCRIPTION"]]))
        elif kind == MODIFIER_CONTINUATION and modifiers:
            modifiers[-1][2].append(row.values["LONG DESCRIPTION"])
    return [
        Modifier(code, short, _clean(" ".join(parts)))
        for code, short, parts in modifiers
    ]


def read_hcpcs_descriptions(
    path: Path, release: str | None = None
) -> Iterator[CodeRecord]:
    """Yield the codes of a ``HCPCS_CODE,SHORT_DESCRIPTION,LONG_DESCRIPTION`` CSV.

    Such a file carries text only: dates and administrative fields come from an
    earlier workbook through ``layer_releases``. Modifier rows are skipped.
    """
    for code, short, title in _description_rows(path):
        if len(code) == 2:
            continue
        yield CodeRecord(
            system=SYSTEM,
            code=code,
            short=short,
            title=title or short,
            attributes=_release_attributes(release),
        )


def layer_releases(
    earlier: Iterable[CodeRecord], later: Iterable[CodeRecord]
) -> list[CodeRecord]:
    """Lay a later release over an earlier one; the result is sorted by code.

    The later release replaces text and adds codes; what it lacks (dates,
    BETOS, coverage...) is kept from the earlier one. Codes missing from the
    later release are kept as they were, terminated ones still terminated.
    ``attributes["releases"]`` lists the releases a code is in; when the later
    release rewrote a long description, ``attributes["changed"]`` says so and
    quotes the earlier text.
    """
    by_code = {record.code: record for record in earlier}
    has_earlier = bool(by_code)
    for record in later:
        before = by_code.get(record.code)
        if before is not None:
            by_code[record.code] = _layer(before, record)
        elif has_earlier:
            by_code[record.code] = _added(record)
        else:
            by_code[record.code] = record
    return [by_code[code] for code in sorted(by_code)]


def _added(record: CodeRecord) -> CodeRecord:
    """A code new in a later release; undated, it takes effect with that release.

    A descriptions file carries no dates, yet a code it adds (M1427 in January
    2026) was not valid before: without this it would look valid forever.
    """
    release = record.attributes.get("release", "")
    attributes = {**record.attributes}
    if release:
        attributes["added_in"] = release
    effective = record.effective
    if effective is None and release:
        effective = _release_start(release)
    return replace(record, effective=effective, attributes=attributes)


def _release_start(release: str) -> dt.date | None:
    """``2026-01`` -> 2026-01-01; None when the text is not a release."""
    try:
        return dt.datetime.strptime(release, "%Y-%m").date()
    except ValueError:
        return None


def _layer(before: CodeRecord, after: CodeRecord) -> CodeRecord:
    """One code of an earlier release updated by the same code of a later one."""
    attributes = {**before.attributes, **after.attributes}
    releases = _join_releases(
        before.attributes.get("releases", ""), after.attributes.get("releases", "")
    )
    if releases:
        attributes["releases"] = releases

    title = after.title or before.title
    short = after.short or before.short
    where = after.attributes.get("release", "a later release")
    changes = []
    # Case and spacing edits are not revisions worth showing.
    if title.casefold() != before.title.casefold():
        changes.append(f"long description revised in {where}; was: {before.title}")
    if short.casefold() != before.short.casefold():
        changes.append(f"short description revised in {where}; was: {before.short}")
    if changes:
        attributes["changed"] = " | ".join(changes)

    return replace(
        before,
        short=short,
        title=title,
        synonyms=after.synonyms or before.synonyms,
        context=after.context or before.context,
        categories=after.categories or before.categories,
        specialties=after.specialties or before.specialties,
        effective=after.effective or before.effective,
        terminated=after.terminated or before.terminated,
        parent=after.parent or before.parent,
        attributes=attributes,
    )


def _join_releases(first: str, second: str) -> str:
    """Comma-joined releases of both lists, without repeats, in order."""
    names = [name for name in (*first.split(","), *second.split(",")) if name]
    return ",".join(dict.fromkeys(names))


def _release_attributes(release: str | None) -> dict[str, str]:
    """The release attributes of a record read from one file."""
    return {} if release is None else {"release": release, "releases": release}


def _workbook_record(
    path: Path, row: _Row, title: str, release: str | None
) -> CodeRecord:
    """The record of one procedure code row of the workbook."""
    values = row.values
    code = values["HCPC"].strip()
    if len(code) != 5:
        raise CorpusError(
            f"{path}, row {row.line}: HCPCS code {code!r} is not 5 characters long"
        )

    types_of_service = [values[c] for c in TYPE_OF_SERVICE_COLUMNS if values.get(c)]
    cross_references = [
        values[c] for c in CROSS_REFERENCE_COLUMNS if values.get(c, "").strip()
    ]
    terminated = _date(path, row, "TERM DT")
    attributes = {
        "betos": values["BETOS"],
        "coverage": values["COV"],
        "action": values["ACTION CD"],
        "type_of_service": ",".join(types_of_service),
        # A terminated code's cross-references name what replaced it.
        "replaced_by" if terminated else "cross_reference": ",".join(
            dict.fromkeys(cross_references)
        ),
        **_release_attributes(release),
    }
    action_date = _date(path, row, "ACT EFF DT")
    if action_date is not None:
        attributes["action_effective"] = action_date.isoformat()

    return CodeRecord(
        system=SYSTEM,
        code=code,
        short=_clean(values["SHORT DESCRIPTION"]),
        title=_clean(title),
        effective=_date(path, row, "ADD DT") or action_date,
        terminated=terminated,
        attributes={key: value for key, value in attributes.items() if value},
    )


def _date(path: Path, row: _Row, column: str) -> dt.date | None:
    """A ``YYYYMMDD`` cell as a date; None when empty."""
    text = row.values.get(column, "")
    if not text:
        return None
    try:
        return dt.datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        raise CorpusError(
            f"{path}, row {row.line}: {column} is {text!r}, expected a date YYYYMMDD"
        ) from None


def _workbook_rows(path: Path) -> tuple[_Row, ...]:
    """The rows of a workbook, read once per file version (codes and modifiers)."""
    try:
        real_path = path.resolve()
        stat = real_path.stat()
    except OSError as error:
        raise CorpusError(f"{path}: cannot read the HCPCS workbook ({error})") from None
    return _read_workbook_rows(str(real_path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4)
def _read_workbook_rows(path_text: str, mtime_ns: int, size: int) -> tuple[_Row, ...]:
    """Read every row of the workbook's first sheet (cached: it takes seconds)."""
    del mtime_ns, size  # part of the cache key only
    import openpyxl  # slow to import; only HCPCS needs it

    path = Path(path_text)
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a bad file
        raise CorpusError(f"{path}: not a readable .xlsx workbook ({error})") from None

    try:
        lines = workbook.worksheets[0].iter_rows(values_only=True)
        header = [_cell_text(cell) for cell in next(lines, ())]
        missing = [name for name in WORKBOOK_COLUMNS if name not in header]
        if missing:
            raise CorpusError(
                f"{path}, row 1: header lacks {', '.join(missing)}; "
                f"expected the CMS ANWEB columns ({', '.join(WORKBOOK_COLUMNS)})"
            )
        wanted = [
            (name, header.index(name))
            for name in (
                *WORKBOOK_COLUMNS,
                *TYPE_OF_SERVICE_COLUMNS,
                *CROSS_REFERENCE_COLUMNS,
            )
            if name in header
        ]
        rows = []
        for line, cells in enumerate(lines, start=2):
            values = {
                name: _cell_text(cells[i]) if i < len(cells) else ""
                for name, i in wanted
            }
            if values["RECID"]:
                rows.append(_Row(line, values))
        return tuple(rows)
    finally:
        workbook.close()


def _clean(text: str) -> str:
    """Text with runs of white space made one space: ``a  b `` -> ``a b``."""
    return " ".join(text.split())


def _cell_text(cell: object) -> str:
    """A cell as stripped text ("" for empty); numbers keep no trailing ``.0``."""
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def _description_rows(path: Path) -> Sequence[tuple[str, str, str]]:
    """``(code, short, long)`` of every row of a descriptions CSV."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = [name.strip() for name in next(reader, [])]
            if tuple(header[:3]) != DESCRIPTION_COLUMNS:
                raise CorpusError(
                    f"{path}, line 1: header is {header!r}, expected "
                    f"{','.join(DESCRIPTION_COLUMNS)}"
                )
            rows = []
            for line, cells in enumerate(reader, start=2):
                if not any(cells):
                    continue
                if len(cells) < 3 or not cells[0].strip():
                    raise CorpusError(
                        f"{path}, line {line}: {cells!r} is not "
                        "code,short description,long description"
                    )
                rows.append((cells[0].strip(), _clean(cells[1]), _clean(cells[2])))
            return rows
    except (OSError, UnicodeDecodeError) as error:
        raise CorpusError(
            f"{path}: cannot read the descriptions file ({error})"
        ) from None
