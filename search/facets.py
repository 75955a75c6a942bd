"""Facet filters and exact, disjunctive facet counts over in-memory columns.

Each facet is a list of (document, value) pairs held as two integer arrays. A
filter is a boolean mask over documents; counting a facet is one gather and one
``bincount`` over its pairs. Counts are disjunctive (multi-select): a facet's
counts ignore the selections made in that facet and respect those in the others,
so ticking Radiology still shows how many results Oncology would add.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from indexer.columns import DocRow
from search.errors import InvalidRequest
from search.results import FACETS, FacetValue

Mask = npt.NDArray[np.bool_]


class UnknownFacetValue(InvalidRequest):
    """A filter names a value the index does not have."""

    def __init__(self, facet: str, value: str, known: Sequence[str]) -> None:
        sample = ", ".join(sorted(known)[:8])
        super().__init__(
            facet,
            f"unknown {facet} {value!r}; known values include: {sample} "
            f"(GET /api/facets lists them all)",
        )
        self.value = value


@dataclass
class Facet:
    """One facet's values and (document, value) pairs."""

    name: str
    values: list[str]
    labels: list[str]
    index: dict[str, int]
    pair_docs: npt.NDArray[np.int32]
    pair_values: npt.NDArray[np.int32]


def _values_of(row: DocRow, facet: str) -> Sequence[str]:
    if facet == "system":
        return (row.system,)
    if facet == "category":
        return row.categories
    return row.specialties


class FacetTable:
    """Every facet of an index, ready to filter and count."""

    def __init__(self, docs: Sequence[DocRow], labels: Mapping[str, Mapping[str, str]]):
        self.size = len(docs)
        self.facets: dict[str, Facet] = {}
        for name in FACETS:
            index: dict[str, int] = {}
            pair_docs: list[int] = []
            pair_values: list[int] = []
            for docnum, row in enumerate(docs):
                for value in _values_of(row, name):
                    pair_docs.append(docnum)
                    pair_values.append(index.setdefault(value, len(index)))
            values = list(index)
            names = labels.get(name, {})
            self.facets[name] = Facet(
                name,
                values,
                [names.get(v, v) for v in values],
                index,
                np.asarray(pair_docs, dtype=np.int32),
                np.asarray(pair_values, dtype=np.int32),
            )

    def label(self, facet: str, value: str) -> str:
        """The human label of a facet value."""
        table = self.facets[facet]
        position = table.index.get(value)
        return table.labels[position] if position is not None else value

    def mask(self, facet: str, selected: Sequence[str]) -> Mask | None:
        """Documents having any of the selected values, or None for no selection."""
        if not selected:
            return None
        table = self.facets[facet]
        wanted = []
        for value in selected:
            if value not in table.index:
                raise UnknownFacetValue(facet, value, table.values)
            wanted.append(table.index[value])
        mask = np.zeros(self.size, dtype=bool)
        chosen = np.isin(table.pair_values, np.asarray(wanted, dtype=np.int32))
        mask[table.pair_docs[chosen]] = True
        return mask

    def count(
        self, base: Mask, masks: Mapping[str, Mask | None]
    ) -> dict[str, tuple[FacetValue, ...]]:
        """Disjunctive counts of every facet over ``base`` and the other filters."""
        counts: dict[str, tuple[FacetValue, ...]] = {}
        for name, table in self.facets.items():
            scope = base
            for other, mask in masks.items():
                if other != name and mask is not None:
                    scope = scope & mask
            tally = np.bincount(
                table.pair_values[scope[table.pair_docs]], minlength=len(table.values)
            )
            order = np.lexsort((np.arange(len(tally)), -tally))
            counts[name] = tuple(
                FacetValue(table.values[i], table.labels[i], int(tally[i]))
                for i in order
                if tally[i] > 0
            )
        return counts
