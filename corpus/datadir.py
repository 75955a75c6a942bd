"""Finding the data directory and recognising the official files in it."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

DATA_DIR_VARIABLE = "MEDCODES_DATA"
DEFAULT_DATA_DIR = Path("~/.local/share/medcodes/data")

# How deep below the data directory files are looked for (0 = the directory).
MAX_DEPTH = 2

MONTHS = {
    name: number
    for number, name in enumerate(
        [
            "jan",
            "feb",
            "mar",
            "apr",
            "may",
            "jun",
            "jul",
            "aug",
            "sep",
            "oct",
            "nov",
            "dec",
        ],
        start=1,
    )
}

# Kinds of source, in the order they are read.
HCPCS_WORKBOOK = "hcpcs-workbook"
HCPCS_DESCRIPTIONS = "hcpcs-descriptions"
HCPCS_CODE_TABLES = "hcpcs-code-tables"
ICD10CM_INDEX = "icd10cm-index"
ICD10CM_EXTERNAL_INDEX = "icd10cm-external-index"
RVU = "rvu"
NUCC_TAXONOMY = "nucc-taxonomy"
CUSTOM = "custom"
KIND_ORDER = (
    HCPCS_WORKBOOK,
    HCPCS_DESCRIPTIONS,
    HCPCS_CODE_TABLES,
    ICD10CM_INDEX,
    ICD10CM_EXTERNAL_INDEX,
    RVU,
    NUCC_TAXONOMY,
    CUSTOM,
)

_WORKBOOK_NAME = re.compile(r"^HCPC(\d{4})_([A-Za-z]{3})_ANWEB.*\.xlsx$", re.I)
_DESCRIPTIONS_NAME = re.compile(r"^hcpcs-(\d{4})-([a-z]{3})-descriptions\.csv$", re.I)
_INDEX_NAME = re.compile(r"^index-.*-flattened\.csv$", re.I)
_EXTERNAL_INDEX_NAME = re.compile(r"^icd-10-cm-eindex-.*\.xml$", re.I)
_RVU_NAME = re.compile(r"^PPRRVU.*\.csv$", re.I)
_NUCC_NAME = re.compile(r"^nucc-taxonomy.*\.csv$", re.I)
_CODE_TABLES_NAME = "record-layout-code-tables.csv"


@dataclass(frozen=True)
class Source:
    """One recognised file of the data directory.

    ``release`` is ``YYYY-MM`` for files whose name carries a release date
    (HCPCS quarterly files), else None.
    """

    kind: str
    path: Path
    release: str | None = None


def resolve_data_dir(option: str | Path | None) -> Path | None:
    """The data directory: the option, else $MEDCODES_DATA, else the default.

    The default (``~/.local/share/medcodes/data``) counts only if it exists; an
    explicit option or variable is returned as given, existing or not, so that
    the caller can report a wrong path.
    """
    if option is not None and str(option) != "":
        return Path(option).expanduser()
    from_environment = os.environ.get(DATA_DIR_VARIABLE, "")
    if from_environment:
        return Path(from_environment).expanduser()
    default = DEFAULT_DATA_DIR.expanduser()
    return default if default.is_dir() else None


def discover(data_dir: Path) -> list[Source]:
    """Every file of ``data_dir`` (two levels deep at most) that a reader knows.

    Sources are ordered by kind (see ``KIND_ORDER``), then by release date
    (HCPCS 2025 OCT before 2026 JAN), then by path.
    """
    sources = [
        source
        for path in _files(data_dir, MAX_DEPTH)
        if (source := recognise(path, data_dir)) is not None
    ]
    return sorted(
        sources,
        key=lambda s: (KIND_ORDER.index(s.kind), s.release or "", str(s.path)),
    )


def recognise(path: Path, data_dir: Path) -> Source | None:
    """The source a file is, judged by its name, or None if it is not one."""
    name = path.name
    if match := _WORKBOOK_NAME.match(name):
        return Source(HCPCS_WORKBOOK, path, _release(*match.groups()))
    if match := _DESCRIPTIONS_NAME.match(name):
        return Source(HCPCS_DESCRIPTIONS, path, _release(*match.groups()))
    if name.lower() == _CODE_TABLES_NAME:
        return Source(HCPCS_CODE_TABLES, path)
    if _INDEX_NAME.match(name):
        return Source(ICD10CM_INDEX, path)
    if _EXTERNAL_INDEX_NAME.match(name):
        return Source(ICD10CM_EXTERNAL_INDEX, path)
    if _RVU_NAME.match(name):
        return Source(RVU, path)
    if _NUCC_NAME.match(name):
        return Source(NUCC_TAXONOMY, path)
    if name.lower().endswith(".jsonl"):
        return Source(CUSTOM, path)
    in_custom_folder = path.parent != data_dir and path.parent.name == "custom"
    if in_custom_folder and name.lower().endswith(".csv"):
        return Source(CUSTOM, path)
    return None


def _release(year: str, month: str) -> str | None:
    """``2025``, ``OCT`` -> ``2025-10``; None if the month is not a month."""
    number = MONTHS.get(month.lower())
    return None if number is None else f"{year}-{number:02d}"


def _files(folder: Path, depth: int) -> list[Path]:
    """Regular files of ``folder`` and of its subfolders down to ``depth``."""
    found: list[Path] = []
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return found
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_file():
            found.append(entry)
        elif entry.is_dir() and depth > 0:
            found.extend(_files(entry, depth - 1))
    return found
