"""The Whoosh schema, and how a record becomes an index document."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from whoosh import fields

from corpus.records import Category, CodeRecord
from indexer.analysis import medical_analyzer, terms

# Text fields, with the weight each carries in ranking (BM25F) and how strongly its
# length is normalised: a code with forty index synonyms is no less about each.
TEXT_FIELDS: dict[str, tuple[float, float]] = {
    "title": (3.0, 0.75),
    "short": (2.0, 0.5),
    "expanded": (2.0, 0.5),
    "synonyms": (1.6, 0.3),
    "context": (0.4, 0.5),
}


def build_schema() -> fields.Schema:
    """The schema: identity, facets, text fields and the stored record."""
    analyzer = medical_analyzer()
    return fields.Schema(
        key=fields.ID(stored=True, unique=True),
        code=fields.ID(stored=True),
        system=fields.ID(stored=True),
        category=fields.KEYWORD(stored=True, commas=True),
        specialty=fields.KEYWORD(stored=True, commas=True),
        title=fields.TEXT(analyzer=analyzer, stored=True, phrase=False),
        short=fields.TEXT(analyzer=analyzer, stored=True, phrase=False),
        expanded=fields.TEXT(analyzer=analyzer, stored=True, phrase=False),
        synonyms=fields.TEXT(analyzer=analyzer, phrase=False),
        context=fields.TEXT(analyzer=analyzer, phrase=False),
        record=fields.STORED(),
    )


def record_to_json(record: CodeRecord) -> dict[str, Any]:
    """A record as plain JSON-ready data (dates as ISO strings)."""
    return {
        "system": record.system,
        "code": record.code,
        "short": record.short,
        "title": record.title,
        "synonyms": list(record.synonyms),
        "context": list(record.context),
        "categories": [
            {"id": c.id, "label": c.label, "path": list(c.path)}
            for c in record.categories
        ],
        "specialties": list(record.specialties),
        "billable": record.billable,
        "effective": record.effective.isoformat() if record.effective else None,
        "terminated": record.terminated.isoformat() if record.terminated else None,
        "parent": record.parent,
        "attributes": dict(record.attributes),
    }


def record_from_json(data: dict[str, Any]) -> CodeRecord:
    """The inverse of :func:`record_to_json`."""
    return CodeRecord(
        system=data["system"],
        code=data["code"],
        short=data["short"],
        title=data["title"],
        synonyms=tuple(data["synonyms"]),
        context=tuple(data["context"]),
        categories=tuple(
            Category(c["id"], c["label"], tuple(c["path"])) for c in data["categories"]
        ),
        specialties=tuple(data["specialties"]),
        billable=data["billable"],
        effective=_date(data["effective"]),
        terminated=_date(data["terminated"]),
        parent=data["parent"],
        attributes=dict(data["attributes"]),
    )


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def category_ids(record: CodeRecord) -> list[str]:
    """Every category id of a record, with the ids of their ancestors."""
    ids: list[str] = []
    for category in record.categories:
        for cid in (*category.path, category.id):
            if cid not in ids:
                ids.append(cid)
    return ids


def to_document(record: CodeRecord, expanded_short: str) -> dict[str, Any]:
    """The Whoosh document for a record.

    The short descriptor and its expansion are indexed only where they add words
    the title lacks: for most ICD-10-CM codes the three are the same text, and
    indexing it three times would triple the build's work and the weight of
    those codes' words.
    """
    title_terms = set(terms(record.title))
    short_terms = set(terms(record.short))
    short = record.short if not short_terms <= title_terms else ""
    expanded = (
        expanded_short
        if not set(terms(expanded_short))
        <= title_terms | (short_terms if short else set())
        else ""
    )
    return {
        "key": record.key,
        "code": record.code,
        "system": record.system,
        "category": ",".join(category_ids(record)),
        "specialty": ",".join(record.specialties),
        "title": record.title,
        "short": short,
        "expanded": expanded,
        "synonyms": "\n".join(record.synonyms),
        "context": "\n".join(record.context),
        "record": json.dumps(record_to_json(record), separators=(",", ":")),
    }
