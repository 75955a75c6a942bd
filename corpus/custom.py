"""User code sets (licensed CPT, local codes) in JSON Lines or CSV.

The format is documented in ``docs/data-formats.md``. Every row names its code
system, so one file may hold several; rows that break the format stop the read
with a ``CorpusError`` naming the file, the line and what was expected.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from corpus.errors import CorpusError
from corpus.records import Category, CodeRecord

LIST_FIELDS = ("synonyms", "plain_language", "context", "specialties")
TEXT_FIELDS = ("code", "system", "short", "long", "category", "parent")
DATE_FIELDS = ("effective", "terminated")
ALL_FIELDS = frozenset((*TEXT_FIELDS, *LIST_FIELDS, *DATE_FIELDS, "billable"))
LIST_SEPARATOR = "|"
TRUE_WORDS = frozenset({"true", "yes", "y", "1"})
FALSE_WORDS = frozenset({"false", "no", "n", "0"})
_SYSTEM_NAME = re.compile(r"^[a-z][a-z0-9-]*$")


def read_custom(path: Path) -> Iterator[CodeRecord]:
    """Yield the records of a user code-set file (``.jsonl`` or ``.csv``)."""
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        rows = _jsonl_rows(path)
    elif suffix == ".csv":
        rows = _csv_rows(path)
    else:
        raise CorpusError(
            f"{path}: unknown code-set format {suffix!r}; expected .jsonl or .csv"
        )
    for line, row in rows:
        yield _record(path, line, row)


def category_id(system: str, label: str) -> str:
    """The id of a user category: ``cpt``, ``Evaluation & Management`` ->
    ``custom:cpt:evaluation-management``."""
    slug = re.sub(r"[^a-z0-9]+", "-", label.casefold()).strip("-")
    return f"custom:{system}:{slug}"


def _jsonl_rows(path: Path) -> Iterator[tuple[int, dict[str, object]]]:
    """``(line number, object)`` for every non-blank line of a JSON Lines file."""
    with _open(path) as handle:
        for line, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                row = json.loads(text)
            except json.JSONDecodeError as error:
                raise CorpusError(
                    f"{path}, line {line}: not valid JSON ({error.msg}); expected one "
                    "JSON object per line"
                ) from None
            if not isinstance(row, dict):
                raise CorpusError(
                    f"{path}, line {line}: found a JSON {type(row).__name__}, "
                    'expected an object such as {"code": ..., "system": ...}'
                )
            yield line, row


def _csv_rows(path: Path) -> Iterator[tuple[int, dict[str, object]]]:
    """``(line number, row)`` for every non-blank row of a CSV file with a header."""
    with _open(path) as handle:
        reader = csv.DictReader(handle)
        header = [name.strip() for name in reader.fieldnames or []]
        unknown = [name for name in header if name not in ALL_FIELDS]
        if unknown or "code" not in header:
            problem = f"unknown columns {unknown}" if unknown else "no code column"
            raise CorpusError(
                f"{path}, line 1: {problem}; expected columns among "
                f"{', '.join(sorted(ALL_FIELDS))}"
            )
        reader.fieldnames = header
        for row in reader:
            if None in row:
                raise CorpusError(
                    f"{path}, line {reader.line_num}: more cells than the "
                    f"{len(header)} columns of the header"
                )
            if any((value or "").strip() for value in row.values()):
                yield reader.line_num, {k: v for k, v in row.items() if v}


def _open(path: Path) -> TextIO:
    """Open a text file, turning an OS error into a CorpusError."""
    try:
        return path.open(encoding="utf-8-sig", newline="")
    except OSError as error:
        raise CorpusError(f"{path}: cannot read the code-set file ({error})") from None


def _record(path: Path, line: int, row: dict[str, object]) -> CodeRecord:
    """Check one row against the format and build its record."""
    where = f"{path}, line {line}"
    unknown = sorted(set(row) - ALL_FIELDS)
    if unknown:
        raise CorpusError(
            f"{where}: unknown field(s) {', '.join(unknown)}; expected fields among "
            f"{', '.join(sorted(ALL_FIELDS))}"
        )

    code = _text(where, row, "code")
    system = _text(where, row, "system").lower()
    if not code:
        raise CorpusError(f"{where}: code is missing or empty; every row needs one")
    if not _SYSTEM_NAME.match(system):
        raise CorpusError(
            f"{where}: system is {system!r}; expected a lower-case name such as cpt"
        )
    title = _text(where, row, "long") or _text(where, row, "short")
    if not title:
        raise CorpusError(f"{where}: code {code} has neither long nor short text")

    label = _text(where, row, "category")
    categories = (Category(category_id(system, label), label),) if label else ()
    synonyms = [*_list(where, row, "synonyms"), *_list(where, row, "plain_language")]
    return CodeRecord(
        system=system,
        code=code,
        short=_text(where, row, "short") or title,
        title=title,
        synonyms=tuple(dict.fromkeys(synonyms)),
        context=tuple(_list(where, row, "context")),
        categories=categories,
        specialties=tuple(_list(where, row, "specialties")),
        billable=_boolean(where, row, "billable"),
        effective=_date(where, row, "effective"),
        terminated=_date(where, row, "terminated"),
        parent=_text(where, row, "parent") or None,
    )


def _text(where: str, row: dict[str, object], name: str) -> str:
    """A text field, stripped; "" when absent."""
    value = row.get(name)
    if value is None:
        return ""
    if not isinstance(value, str | int):
        raise CorpusError(f"{where}: {name} is {value!r}, expected text")
    return " ".join(str(value).split())


def _list(where: str, row: dict[str, object], name: str) -> list[str]:
    """A list field: a JSON list of strings, or text split at ``|``."""
    value = row.get(name)
    if value is None:
        return []
    if isinstance(value, str):
        items: list[object] = list(value.split(LIST_SEPARATOR))
    elif isinstance(value, list):
        items = value
    else:
        raise CorpusError(
            f"{where}: {name} is {value!r}, expected a list of strings or "
            f"text separated by {LIST_SEPARATOR}"
        )
    if not all(isinstance(item, str) for item in items):
        raise CorpusError(f"{where}: {name} is {value!r}, expected strings only")
    return [" ".join(str(item).split()) for item in items if str(item).strip()]


def _date(where: str, row: dict[str, object], name: str) -> dt.date | None:
    """A date field in ``YYYY-MM-DD`` (or ``YYYYMMDD``); None when absent."""
    text = _text(where, row, name)
    if not text:
        return None
    for pattern in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise CorpusError(f"{where}: {name} is {text!r}, expected a date YYYY-MM-DD")


def _boolean(where: str, row: dict[str, object], name: str) -> bool:
    """A yes/no field; true when absent."""
    value = row.get(name)
    if value is None or isinstance(value, bool):
        return True if value is None else value
    text = str(value).strip().casefold()
    if text in TRUE_WORDS or text == "":
        return True
    if text in FALSE_WORDS:
        return False
    raise CorpusError(f"{where}: {name} is {value!r}, expected true or false")
