"""Small shipped lookup tables: `kind <TAB> key <TAB> value` files in corpus/data."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from importlib import resources

from corpus.errors import CorpusError


def read_keyed_tables(
    file_name: str,
    header: Sequence[str],
    kinds: Sequence[str],
    error: type[CorpusError] = CorpusError,
) -> dict[str, dict[str, str]]:
    """Read a three-column data file into ``{kind: {key: value}}``.

    Lines starting with ``#`` and the header row are skipped; a row of another
    shape or an unknown kind raises ``error`` naming the file and the row.
    """
    tables: dict[str, dict[str, str]] = {kind: {} for kind in kinds}
    source = resources.files("corpus") / "data" / file_name
    lines = source.read_text(encoding="utf-8").splitlines()
    rows = csv.reader((line for line in lines if not line.startswith("#")), "excel-tab")
    for number, row in enumerate(rows, start=1):
        if not row or row == list(header):
            continue
        if len(row) != 3 or row[0] not in tables:
            raise error(
                f"{file_name}, data row {number}: {row!r}, expected "
                f"'{'|'.join(kinds)} <tab> {header[1]} <tab> {header[2]}'"
            )
        tables[row[0]][row[1]] = row[2]
    return tables
