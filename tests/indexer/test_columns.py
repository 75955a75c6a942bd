"""Columns derived at build time: descendants, and synonyms handed down to them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from corpus.records import CodeRecord
from indexer.build import build_index, current_build
from indexer.columns import DocRow, descendants, load_columns, phrase_sequences


def test_descendants_lists_every_level_below() -> None:
    #   0            3
    #   +- 1         +- 4
    #      +- 2
    parents = np.asarray([-1, 0, 1, -1, 3], dtype=np.int32)
    starts, counts, members = descendants(parents)
    below = {d: sorted(members[starts[d] : starts[d] + counts[d]]) for d in range(5)}
    assert below == {0: [1, 2], 1: [2], 2: [], 3: [4], 4: []}


def test_a_synonym_reaches_every_descendant(tmp_path: Path) -> None:
    records = [
        CodeRecord("icd10cm", "S82.8", "", "Other fractures of lower leg"),
        CodeRecord(
            "icd10cm",
            "S82.89",
            "",
            "Other fractures of lower leg",
            synonyms=("Fracture of ankle NOS",),
            parent="S82.8",
        ),
        CodeRecord(
            "icd10cm",
            "S82.891",
            "",
            "Other fracture of right lower leg",
            parent="S82.89",
        ),
        CodeRecord(
            "icd10cm",
            "S82.891A",
            "",
            "Other fracture of right lower leg, initial encounter",
            parent="S82.891",
        ),
        CodeRecord("icd10cm", "T14.8", "", "Other injury of unspecified body region"),
    ]
    build = build_index(records, tmp_path)
    assert build == current_build(tmp_path)
    columns = load_columns(build / "columns")
    codes = {row.code: i for i, row in enumerate(columns.docs)}
    docs, impacts = columns.postings("ankl") or (np.zeros(0), np.zeros(0))
    found = {columns.docs[d].code: float(w) for d, w in zip(docs, impacts, strict=True)}
    assert set(found) == {"S82.89", "S82.891", "S82.891A"}
    # Handed down at less than the owner's weight; the parent above has nothing.
    assert found["S82.891"] < found["S82.89"]
    assert "S82.8" not in found and codes["T14.8"] not in docs
    # The plain (baseline) impacts keep descriptors only.
    plain = load_columns(build / "columns", "plain")
    assert plain.postings("ankl") is None


def _row(title: str, short: str = "", expanded: str = "") -> DocRow:
    return DocRow(
        "k", "C1", "hcpcs", title, short, expanded, None, (), (), True, None, None
    )


def test_phrase_sequences_keep_order_and_end_every_text() -> None:
    rows = [_row("Fracture of unspecified femur", "Fx femur"), _row("Femur fracture")]
    names, offsets, ids = phrase_sequences(rows)
    spelt = [names[i] if i >= 0 else "|" for i in ids.tolist()]
    # "unspecified" never breaks a phrase; each text ends, so none runs on.
    first = spelt[offsets[0] : offsets[1]]
    second = spelt[offsets[1] : offsets[2]]
    assert first == ["fractur", "femur", "|", "fx", "femur", "|", "|"]
    assert second == ["femur", "fractur", "|", "|", "|"]
