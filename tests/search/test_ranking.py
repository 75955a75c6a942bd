"""Ranking rules that hold across ICD-10-CM: seventh characters, names, defaults."""

from __future__ import annotations

import pytest

from search.engine import Engine
from search.results import Hit, SearchRequest

pytestmark = pytest.mark.full


def hits(engine: Engine, query: str, limit: int = 10) -> tuple[Hit, ...]:
    return engine.search(SearchRequest(query=query, limit=limit)).hits


@pytest.mark.parametrize("query", ["fx wrist", "fx humerus", "fx rib", "broken wrist"])
def test_an_initial_encounter_comes_before_later_ones(
    engine: Engine, query: str
) -> None:
    # "sequela" is the shortest suffix; it must not win on length.
    extended = [h for h in hits(engine, query) if len(h.code) == 8]
    assert extended, query
    assert "initial encounter" in extended[0].title
    assert not any("sequela" in h.title for h in hits(engine, query)[:3])


def test_seventh_character_siblings_keep_tabular_order(engine: Engine) -> None:
    codes = [h.code for h in hits(engine, "fx femur", limit=20)]
    family = [c for c in codes if c.startswith("S72.90X")]
    assert family[:2] == ["S72.90XA", "S72.90XB"]


@pytest.mark.parametrize(
    ("query", "prefixes"),
    [
        ("fx tibia", ("S82",)),
        ("fx hip", ("S72",)),
        ("broken ankle", ("S82.5", "S82.6", "S82.8")),
        ("ankle fracture", ("S82.5", "S82.6", "S82.8")),
    ],
)
def test_a_plain_fracture_is_a_traumatic_one(
    engine: Engine, query: str, prefixes: tuple[str, ...]
) -> None:
    # The index files a plain fracture under "Fracture, traumatic"; stress and
    # pathological fractures (M84) need their own word.
    assert hits(engine, query)[0].code.startswith(prefixes)
    assert hits(engine, f"stress {query}")[0].code.startswith("M84.3")


def test_an_inclusion_term_names_its_subtree(engine: Engine) -> None:
    # S82.89 includes "Fracture of ankle NOS": its billable codes come first.
    top = hits(engine, "fracture of ankle")[0]
    assert top.code.startswith("S82.89")
    assert "initial encounter" in top.title


def test_a_typed_phrase_outranks_one_found_only_through_expansion(
    engine: Engine,
) -> None:
    # Many titles say "documentation of medical reason"; only M1427's short
    # descriptor says "doc med rsn" as typed.
    assert hits(engine, "doc med rsn")[0].code == "M1427"


@pytest.mark.parametrize(
    ("query", "head"),
    [("walker", "walker"), ("hearing aid", "hearing aid"), ("cane", "cane")],
)
def test_the_thing_itself_before_its_accessories(
    engine: Engine, query: str, head: str
) -> None:
    # "Walker, rigid (pickup)" before "Seat attachment, walker".
    for hit in hits(engine, query)[:2]:
        assert hit.title.lower().startswith(head), hit


def test_a_device_before_its_complications(engine: Engine) -> None:
    top = hits(engine, "urinary catheter")[0]
    assert top.system == "hcpcs" and "urinary catheter" in top.title.lower()


def test_a_run_together_word_is_split(engine: Engine) -> None:
    result = engine.search(SearchRequest(query="bedpan"))
    assert result.did_you_mean == "bed pan"
    assert result.hits[0].title.lower().startswith("bed pan")


def test_site_not_specified_is_the_default(engine: Engine) -> None:
    # N39.0 "Urinary tract infection, site not specified" is the plain UTI.
    assert hits(engine, "uti")[0].code == "N39.0"
    assert hits(engine, "urinary tract infection")[0].code == "N39.0"


def test_the_thing_named_before_its_parts(engine: Engine) -> None:
    # "Axillary crutch extension" is an extension, "Crutch attachment, walker" an
    # attachment: the crutches themselves (E0110-E0117) come first.
    top = [h.code for h in hits(engine, "crutches", limit=3)]
    assert all(code.startswith("E011") for code in top)
