"""What a search, a suggestion or a facet listing returns: plain frozen records."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

FACETS = ("system", "category", "specialty")


@dataclass(frozen=True)
class SearchRequest:
    """A search as asked: query text, facet selections, paging and validity date."""

    query: str = ""
    systems: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    specialties: tuple[str, ...] = ()
    limit: int = 10
    offset: int = 0
    explain: bool = False
    as_of: dt.date | None = None
    include_terminated: bool = False

    def selections(self) -> dict[str, tuple[str, ...]]:
        """The facet selections by facet name."""
        return {
            "system": self.systems,
            "category": self.categories,
            "specialty": self.specialties,
        }


@dataclass(frozen=True)
class Labelled:
    """A facet value with its human label."""

    id: str
    label: str


@dataclass(frozen=True)
class MatchReason:
    """Why a result matched one typed word: through what, and in which fields."""

    typed: str
    matched: str
    kind: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Hit:
    """One ranked result."""

    code: str
    system: str
    title: str
    short: str
    category: Labelled | None
    categories: tuple[Labelled, ...]
    specialties: tuple[Labelled, ...]
    billable: bool
    terminated: str | None
    replaced_by: str | None
    score: float
    match: str
    highlight: dict[str, str]
    explain: tuple[MatchReason, ...] = ()


@dataclass(frozen=True)
class FacetValue:
    """A facet value and how many results it has."""

    value: str
    label: str
    count: int


@dataclass(frozen=True)
class SearchResult:
    """A page of ranked hits with the total and the facet counts."""

    query: str
    total: int
    hits: tuple[Hit, ...]
    facets: dict[str, tuple[FacetValue, ...]]
    did_you_mean: str | None = None
    corrected: bool = False
    took_ms: float = 0.0


@dataclass(frozen=True)
class CodeSuggestion:
    """A code offered while typing."""

    code: str
    system: str
    title: str


@dataclass(frozen=True)
class Suggestions:
    """What to type next, and the best codes for what is typed so far."""

    query: str
    completions: tuple[str, ...]
    codes: tuple[CodeSuggestion, ...]
    took_ms: float = 0.0


@dataclass(frozen=True)
class CodeDetail:
    """Every field a code's record has, with its place in the hierarchy."""

    record: dict[str, object]
    parent: CodeSuggestion | None
    children: tuple[CodeSuggestion, ...]
    categories: tuple[Labelled, ...]
    specialties: tuple[Labelled, ...]
    rvu: dict[str, str] = field(default_factory=dict)
