"""JSON shapes of the API, built from the search package's records."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from search.results import (
    CodeDetail,
    CodeSuggestion,
    FacetValue,
    Hit,
    Labelled,
    SearchResult,
    Suggestions,
)


def _labelled(value: Labelled) -> dict[str, str]:
    return {"id": value.id, "label": value.label}


def hit_json(hit: Hit, explain: bool) -> dict[str, Any]:
    """One result row."""
    row: dict[str, Any] = {
        "code": hit.code,
        "system": hit.system,
        "title": hit.title,
        "short": hit.short,
        "category": _labelled(hit.category) if hit.category else None,
        "categories": [_labelled(c) for c in hit.categories],
        "specialties": [_labelled(s) for s in hit.specialties],
        "billable": hit.billable,
        "terminated": hit.terminated,
        "replaced_by": hit.replaced_by,
        "score": hit.score,
        "match": hit.match,
        "highlight": hit.highlight,
    }
    if explain:
        row["explain"] = [asdict(reason) for reason in hit.explain]
    return row


def facet_values_json(values: tuple[FacetValue, ...]) -> list[dict[str, Any]]:
    """A facet's values with labels and counts."""
    return [{"value": v.value, "label": v.label, "count": v.count} for v in values]


def facets_json(facets: dict[str, tuple[FacetValue, ...]]) -> dict[str, Any]:
    """Every facet."""
    return {
        "facets": {name: facet_values_json(values) for name, values in facets.items()}
    }


def search_json(result: SearchResult) -> dict[str, Any]:
    """A search response."""
    explain = any(hit.explain for hit in result.hits)
    return {
        "query": result.query,
        "total": result.total,
        "results": [hit_json(hit, explain) for hit in result.hits],
        "facets": {name: facet_values_json(v) for name, v in result.facets.items()},
        "did_you_mean": result.did_you_mean,
        "corrected": result.corrected,
        "took_ms": result.took_ms,
    }


def _code(value: CodeSuggestion) -> dict[str, str]:
    return {"code": value.code, "system": value.system, "title": value.title}


def suggest_json(result: Suggestions) -> dict[str, Any]:
    """A suggest response."""
    return {
        "query": result.query,
        "completions": [{"text": text} for text in result.completions],
        "codes": [_code(c) for c in result.codes],
        "took_ms": result.took_ms,
    }


def detail_json(detail: CodeDetail) -> dict[str, Any]:
    """A code's detail view."""
    return {
        **detail.record,
        "categories": [_labelled(c) for c in detail.categories],
        "specialties": [_labelled(s) for s in detail.specialties],
        "parent": _code(detail.parent) if detail.parent else None,
        "children": [_code(c) for c in detail.children],
        "rvu": detail.rvu,
    }
