"""The one record type every code set is read into."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Category:
    """A node of a code-set's own classification, such as an ICD-10-CM block.

    ``id`` is stable and namespaced by system (``icd10cm:ch04``, ``hcpcs:E``,
    ``betos:D1E``); ``path`` lists the ids of the ancestors, root first, so that a
    filter on a parent includes its children.
    """

    id: str
    label: str
    path: tuple[str, ...] = ()


@dataclass(frozen=True)
class CodeRecord:
    """One code of one code system, as read from an official source.

    ``code`` is the canonical display form (``E11.9``, ``M1427``). ``categories``
    holds every category the code belongs to (for ICD-10-CM the chapter and the
    block; for HCPCS the section and, where the release has one, the BETOS
    category). ``attributes`` keeps source fields worth showing that have no field
    of their own (``betos``, ``coverage`` and so on), as strings.
    """

    system: str
    code: str
    short: str
    title: str
    synonyms: tuple[str, ...] = ()
    context: tuple[str, ...] = ()
    categories: tuple[Category, ...] = ()
    specialties: tuple[str, ...] = ()
    billable: bool = True
    effective: dt.date | None = None
    terminated: dt.date | None = None
    parent: str | None = None
    attributes: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    @property
    def key(self) -> str:
        """The record's identity across releases: ``system:code``."""
        return f"{self.system}:{self.code}"

    def is_active(self, on: dt.date) -> bool:
        """Whether the code is valid on ``on`` (effective and not yet terminated)."""
        if self.effective is not None and on < self.effective:
            return False
        return self.terminated is None or on <= self.terminated


SYSTEM_LABELS = {
    "icd10cm": "ICD-10-CM",
    "hcpcs": "HCPCS Level II",
}
