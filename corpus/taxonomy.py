"""Reader for the NUCC Health Care Provider Taxonomy, the US list of specialties."""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path

from corpus.errors import CorpusError

logger = logging.getLogger(__name__)

EXPECTED_COLUMNS = ("Code", "Grouping", "Classification", "Specialization")


class TaxonomyError(CorpusError, ValueError):
    """The taxonomy file is missing, malformed or lacks an expected entry."""


@dataclass(frozen=True)
class TaxonomyEntry:
    """One row of the NUCC taxonomy: a provider type, such as a radiologist."""

    code: str
    grouping: str
    classification: str
    specialization: str = ""
    display_name: str = ""
    section: str = ""
    definition: str = ""

    @property
    def name(self) -> str:
        """``Classification`` or ``Classification / Specialization``."""
        if self.specialization:
            return f"{self.classification} / {self.specialization}"
        return self.classification


def read_taxonomy(path: Path) -> list[TaxonomyEntry]:
    """Read the NUCC taxonomy CSV (``Code,Grouping,Classification,...``)."""
    try:
        # The NUCC file starts with a byte-order mark; utf-8-sig drops it.
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [
                c for c in EXPECTED_COLUMNS if c not in (reader.fieldnames or [])
            ]
            if missing:
                raise TaxonomyError(
                    f"{path}: header lacks column(s) {', '.join(missing)}; "
                    f"expected at least {', '.join(EXPECTED_COLUMNS)}"
                )
            entries = [_entry(path, line, row) for line, row in enumerate(reader, 2)]
    except OSError as error:
        raise TaxonomyError(
            f"{path}: cannot read the NUCC taxonomy: {error}"
        ) from error

    logger.info("read %d taxonomy entries from %s", len(entries), path)
    return entries


def _entry(path: Path, line: int, row: dict[str, str]) -> TaxonomyEntry:
    """Turn one CSV row into an entry, checking that it has a code and a name."""
    code = (row.get("Code") or "").strip()
    classification = (row.get("Classification") or "").strip()
    if not code or not classification:
        raise TaxonomyError(
            f"{path} line {line}: row {row!r} lacks a Code or a Classification"
        )
    return TaxonomyEntry(
        code=code,
        grouping=(row.get("Grouping") or "").strip(),
        classification=classification,
        specialization=(row.get("Specialization") or "").strip(),
        display_name=(row.get("Display Name") or "").strip(),
        section=(row.get("Section") or "").strip(),
        definition=(row.get("Definition") or "").strip(),
    )
