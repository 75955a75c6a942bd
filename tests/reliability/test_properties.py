"""Property-based tests: the analyzer, the query pipeline and the API on any text.

Each property runs a bounded number of generated examples (see ``EXAMPLES``) so
that the suite stays fast; Hypothesis prints the failing input when one breaks.
"""

from __future__ import annotations

import re
import string
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from indexer.analysis import STOP_WORDS, fold, stem, terms, words
from search.engine import Engine
from search.errors import SearchError
from search.query import (
    MAX_QUERY_CHARS,
    MAX_READINGS,
    MAX_WORD_CHARS,
    MAX_WORDS,
    clean,
    parse,
)
from search.results import SearchRequest
from search.suggest import Suggester
from tests.reliability.shapes import assert_safe_response

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

EXAMPLES = 300
FEW = 150
quick = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
fewer = settings(quick, max_examples=FEW)

_WORD_SHAPE = re.compile(r"^[a-z0-9]+(?:[./][a-z0-9]+)*$")
SYNTAX = ['"', "(", ")", "*", "?", "~", ":", "^", "[", "]", "AND", "OR", "NOT", "TO"]
MEDICAL = [
    "fracture", "femur", "diabetes", "type", "2", "e11.9", "E11", "w/o", "s/p",
    "heart", "attack", "mi", "fx", "bone", "scn", "pnuemonia", "wheelchair", "l",
    "left", "unsp", "initial", "encounter", "the", "of", "with", "without", "a0",
    "J1100", "Ménière's", "cataract", "hypertensive", "rsn", "doc", "med",
]  # fmt: skip

# Any text, including surrogates, controls and astral characters.
any_text = st.text(st.characters(codec=None), max_size=300)
# Text a user might type: medical words, shorthand, codes, syntax, punctuation.
typed_text = st.lists(
    st.one_of(
        st.sampled_from(MEDICAL + SYNTAX),
        st.text(string.ascii_letters + string.digits + "./'-", min_size=1, max_size=12),
        st.text(max_size=4),
    ),
    max_size=20,
).map(" ".join)
queries = st.one_of(any_text, typed_text)


# -- analyzer -----------------------------------------------------------------


@quick
@example("𝓐 ™ ㎒ İ")
@given(any_text)
def test_fold_is_lowercase_unaccented_and_idempotent(text: str) -> None:
    folded = fold(text)
    assert fold(folded) == folded
    assert not any(ch in string.ascii_uppercase for ch in folded)


@quick
@given(any_text)
def test_words_are_ascii_tokens(text: str) -> None:
    for word in words(text):
        assert _WORD_SHAPE.match(word), word


@quick
@example("™ 𝓑one")
@given(any_text)
def test_words_of_folded_text_are_the_same(text: str) -> None:
    assert words(text) == words(fold(text))


@quick
@given(any_text, any_text)
def test_words_of_a_concatenation_are_the_words_of_each_part(a: str, b: str) -> None:
    assert words(f"{a} {b}") == words(a) + words(b)


@quick
@given(any_text)
def test_terms_are_stems_of_the_content_words(text: str) -> None:
    found = terms(text)
    content = [w for w in words(text) if w not in STOP_WORDS]
    assert found == [stem(w) for w in content]
    assert all(term and " " not in term and term.isascii() for term in found)


# -- query pipeline -------------------------------------------------------------


@quick
@given(any_text)
def test_clean_bounds_and_tidies(text: str) -> None:
    cleaned = clean(text)
    assert len(cleaned) <= MAX_QUERY_CHARS
    assert not re.search(r"[\x00-\x1f\x7f-\x9f]", cleaned)
    assert cleaned == " ".join(cleaned.split())
    assert clean(cleaned) == cleaned


@pytest.mark.full
@quick
@given(queries)
def test_parse_is_bounded(engine: Engine, text: str) -> None:
    parsed = parse(clean(text), engine.lexicon)
    assert len(parsed.words) <= MAX_WORDS
    assert all(len(word) <= MAX_WORD_CHARS for word in parsed.words)
    assert 1 <= len(parsed.readings) <= MAX_READINGS
    for reading in parsed.readings:
        assert len(reading.slots) <= MAX_WORDS
        for slot in reading.slots:
            assert slot.alternatives
            assert all(a.terms and all(a.terms) for a in slot.alternatives)


def _facet_values(engine: Engine, name: str) -> list[str]:
    return [value.value for value in engine.all_facets()[name]]


@pytest.mark.full
@quick
@given(data=st.data(), text=queries)
def test_search_totals_agree_with_facets_and_pages(
    engine: Engine, data: st.DataObject, text: str
) -> None:
    systems = data.draw(
        st.lists(st.sampled_from(_facet_values(engine, "system")), max_size=2)
    )
    categories = data.draw(
        st.lists(st.sampled_from(_facet_values(engine, "category")[:40]), max_size=2)
    )
    request = SearchRequest(
        query=text,
        systems=tuple(systems),
        categories=tuple(categories),
        limit=data.draw(st.integers(1, 100)),
        offset=data.draw(st.sampled_from([0, 0, 0, 5, 99, 1000])),
        include_terminated=data.draw(st.booleans()),
    )
    try:
        result = engine.search(request)
    except SearchError:
        return
    assert len(result.hits) <= request.limit
    assert len(result.hits) == max(0, min(request.limit, result.total - request.offset))
    # Every document has exactly one system, so the (multi-select) system counts
    # of the selected systems, or of all when none is selected, add up to the total.
    counted = sum(
        value.count
        for value in result.facets["system"]
        if not systems or value.value in systems
    )
    assert counted == result.total
    for hit in result.hits:
        assert not systems or hit.system in systems
        assert (
            request.include_terminated or hit.terminated is None or hit.match == "code"
        )


@pytest.mark.full
@fewer
@given(text=queries, limit=st.integers(1, 20))
def test_suggest_is_bounded_and_names_real_codes(
    engine: Engine, suggester: Suggester, text: str, limit: int
) -> None:
    try:
        result = suggester.suggest(text, limit)
    except SearchError:
        return
    assert len(result.codes) <= limit
    assert len(result.completions) <= limit
    assert len({(c.system, c.code) for c in result.codes}) == len(result.codes)
    for code in result.codes:
        assert (
            engine.columns.docs[engine.find(code.code, code.system)].title == code.title
        )


@pytest.fixture(scope="module")
def suggester(engine: Engine) -> Suggester:
    return Suggester(engine)


# -- API ------------------------------------------------------------------------

bad_ints = st.one_of(
    st.integers(-(10**20), 10**20).map(str), st.text(max_size=6), st.just("")
)
api_params = st.fixed_dictionaries(
    {"q": queries},
    optional={
        "limit": bad_ints,
        "offset": bad_ints,
        "as_of": st.one_of(st.dates().map(str), st.text(max_size=12)),
        "system": st.lists(st.sampled_from(["icd10cm", "hcpcs", "x", ""]), max_size=3),
        "explain": st.sampled_from(["true", "false", "1", "maybe"]),
    },
)


def _printable(params: dict[str, Any]) -> dict[str, Any]:
    """Surrogates cannot be sent by a client; send what a browser would."""
    return {
        k: v.encode("utf-8", "replace").decode() if isinstance(v, str) else v
        for k, v in params.items()
    }


@pytest.mark.full
@fewer
@given(params=api_params)
def test_api_search_never_fails_on_any_parameters(
    client: TestClient, params: dict[str, Any]
) -> None:
    response = client.get("/api/search", params=_printable(params))
    assert_safe_response(response.status_code, response.json())


@pytest.mark.full
@fewer
@given(text=queries, limit=bad_ints)
def test_api_suggest_never_fails(client: TestClient, text: str, limit: str) -> None:
    response = client.get(
        "/api/suggest", params=_printable({"q": text, "limit": limit})
    )
    assert_safe_response(response.status_code, response.json())


@pytest.mark.full
@fewer
@given(code=st.text(max_size=40))
def test_api_code_detail_is_a_record_or_an_error(client: TestClient, code: str) -> None:
    response = client.get("/api/codes/" + _quote(code))
    assert_safe_response(response.status_code, response.json())


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text.encode("utf-8", "replace"), safe="") or "%20"
