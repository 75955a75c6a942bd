"""Hostile and malformed input through the API: bounded, validated, never a 500.

Every request here gets a 200 or an error in the one JSON shape. Query syntax a
user may type (Whoosh or Lucene operators, fields, wildcards, fuzzy marks) is
only words, highlights never carry markup from the data or the query, and a
search that runs past its time budget ends in a clear 504.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest

import search.engine
from search.engine import Engine
from search.query import MAX_QUERY_CHARS, MAX_READINGS, MAX_WORDS, clean, parse
from tests.reliability.shapes import assert_error_shape, assert_safe_response

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.full

# Query strings exactly as they travel in a URL, so that bytes no client library
# would produce (lone surrogates, invalid UTF-8, NUL) reach the server.
RAW_QUERIES = {
    "NUL": "%00",
    "NUL inside a word": "fem%00ur",
    "control characters": "%01%02%1B%7F%C2%85%C2%9Ffracture",
    "lone high surrogate (CESU-8)": "%ED%A0%80",
    "lone low surrogate (CESU-8)": "%ED%B0%80fracture",
    "invalid UTF-8": "%FF%FE%FD",
    "overlong slash": "%C0%AF",
    "truncated sequence": "%E2%82",
    "bare percent": "%",
    "right-to-left marks": "%E2%80%8Ffracture%E2%80%8E%E2%80%AE",
    "emoji and ZWJ": "%F0%9F%91%A8%E2%80%8D%F0%9F%91%A9%E2%80%8D%F0%9F%91%A7 heart",
    "combining marks only": "%CC%81%CC%81%CC%81",
    "ligature that expands": "%EF%B7%BA",
    "BOM": "%EF%BB%BFfemur",
    "plus as space": "femur+fracture",
    "CJK": "%E9%AA%A8%E6%8A%98",
    "Arabic": "%D9%83%D8%B3%D8%B1",
    "accented words": "M%C3%A9ni%C3%A8re",
    "tabs and newlines": "femur%09%0A%0Dfracture",
    "only punctuation": "%21%40%23%24%25%5E%26%2A%28%29",
    "only stop words": "the+of+and+or",
}

SYNTAX_QUERIES = [
    "femur AND fracture",
    "femur OR fracture",
    "fracture NOT femur",
    "title:fracture",
    "code:E11.9 diabetes",
    '"femur fracture"',
    "(femur OR hip) AND fracture",
    "fract*",
    "fe?ur fracture",
    "fracture~2",
    "diabetes^10",
    "[a TO z] fracture",
    "{a TO z}",
    "+femur -fracture",
    "femur && fracture || hip",
    "femur\\ fracture",
    "*:*",
    "*",
    "?",
    "~",
]
_SYNTAX = re.compile(r"[\"()*?~:\[\]{}^+!\\&|-]")


def get(client: TestClient, url: str, **params: Any) -> tuple[int, Any]:
    response = client.get(url, params=params or None)
    assert response.headers["content-type"].startswith("application/json"), url
    return response.status_code, response.json()


@pytest.mark.parametrize("route", ["/api/search", "/api/suggest"])
@pytest.mark.parametrize("raw", RAW_QUERIES.values(), ids=list(RAW_QUERIES))
def test_any_bytes_in_the_query_are_answered(
    client: TestClient, route: str, raw: str
) -> None:
    status, body = get(client, f"{route}?q={raw}")
    assert status == 200, body
    assert_safe_response(status, body)
    # What is echoed back is the cleaned query: no C0 or C1 control characters.
    assert not re.search(r"[\x00-\x1f\x7f-\x9f]", body["query"]), body["query"]


@pytest.mark.parametrize("route", ["/api/search", "/api/suggest"])
def test_query_length_is_bounded(client: TestClient, route: str) -> None:
    status, _ = get(client, route, q="x" * MAX_QUERY_CHARS)
    assert status == 200
    status, body = get(client, route, q="x" * (MAX_QUERY_CHARS + 1))
    assert assert_error_shape(body, 400)["parameter"] == "q"
    # A single very long word within the cap is cut, not expanded.
    status, body = get(client, route, q="pneumonia" * 28)
    assert status == 200


BAD_PARAMETERS: list[tuple[str, dict[str, Any], str]] = [
    ("/api/search", {"limit": "0"}, "limit"),
    ("/api/search", {"limit": "101"}, "limit"),
    ("/api/search", {"limit": "ten"}, "limit"),
    ("/api/search", {"limit": "1e3"}, "limit"),
    ("/api/search", {"limit": "99999999999999999999999999"}, "limit"),
    ("/api/search", {"offset": "-1"}, "offset"),
    ("/api/search", {"offset": "1001"}, "offset"),
    ("/api/search", {"offset": "0x10"}, "offset"),
    ("/api/search", {"system": "snomed"}, "system"),
    ("/api/search", {"system": ""}, "system"),
    ("/api/search", {"category": "<script>"}, "category"),
    ("/api/search", {"specialty": "\x00"}, "specialty"),
    ("/api/search", {"specialty": "x" * 121}, "specialty"),
    ("/api/search", {"system": ["icd10cm"] * 21}, "system"),
    ("/api/search", {"as_of": "2025-02-30"}, "as_of"),
    ("/api/search", {"as_of": "yesterday"}, "as_of"),
    ("/api/search", {"as_of": "2025-1-1"}, "as_of"),
    ("/api/search", {"as_of": "20250101000"}, "as_of"),
    ("/api/search", {"explain": "perhaps"}, "explain"),
    ("/api/search", {"include_terminated": "2"}, "include_terminated"),
    ("/api/suggest", {"limit": "0"}, "limit"),
    ("/api/suggest", {"limit": "21"}, "limit"),
    ("/api/codes/E11.9", {"system": "s" * 33}, "system"),
]


@pytest.mark.parametrize(
    ("route", "params", "parameter"),
    BAD_PARAMETERS,
    ids=[f"{route} {name}" for route, _, name in BAD_PARAMETERS],
)
def test_bad_parameters_are_400_naming_the_parameter(
    client: TestClient, route: str, params: dict[str, Any], parameter: str
) -> None:
    _, body = get(client, route, **params)
    error = assert_error_shape(body, 400)
    assert error["type"] == "invalid_request"
    assert error["parameter"] == parameter
    assert parameter in error["message"] or "values" in error["message"]


def test_unknown_filter_value_lists_known_ones(client: TestClient) -> None:
    _, body = get(client, "/api/search", q="fracture", system="snomed")
    message = assert_error_shape(body, 400)["message"]
    assert "'snomed'" in message and "icd10cm" in message and "/api/facets" in message


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "100", "offset": "1000"},
        {"limit": "1", "offset": "0"},
        {"as_of": "0001-01-01"},
        {"as_of": "9999-12-31"},
        {"system": ["icd10cm", "icd10cm", "hcpcs"]},
        {"q": "", "explain": "true", "include_terminated": "yes"},
    ],
)
def test_edge_values_in_bounds_are_accepted(
    client: TestClient, params: dict[str, Any]
) -> None:
    status, body = get(client, "/api/search", **params)
    assert status == 200, body
    assert len(body["results"]) <= int(params.get("limit", 10))


def codes_and_total(client: TestClient, query: str) -> tuple[int, list[str]]:
    status, body = get(client, "/api/search", q=query, limit=20)
    assert status == 200, body
    return body["total"], [row["code"] for row in body["results"]]


@pytest.mark.parametrize("query", SYNTAX_QUERIES)
def test_query_syntax_is_only_words(client: TestClient, query: str) -> None:
    plain = " ".join(_SYNTAX.sub(" ", query).split())
    assert codes_and_total(client, query) == codes_and_total(client, plain)


def test_wildcards_do_not_expand(client: TestClient) -> None:
    total_all, _ = codes_and_total(client, "")
    # "*" is not "every term": it is no word at all, i.e. browsing.
    assert codes_and_total(client, "*")[0] == total_all
    # "fract*" is the word "fract", and only words that start so are not added.
    assert codes_and_total(client, "fract*") == codes_and_total(client, "fract")


# Inputs that would be expensive for an engine that expanded wildcards, fuzzy
# terms or many readings: many words, near-miss typos, long prefixes.
ADVERSARIAL = [
    "a* b* c* d* e* f* g* h* i* j* k* l* m* n* o* p* q* r* s* t*",
    " ".join(["fractur~2"] * 25),
    " ".join(f"pnuemonai{i}" for i in range(20)),
    "qwertyuiopasdfghjklzxcvbnmqwertyuiopasdfghjklzxcvbnm",
    "e" * 256,
    "s" * 40 + " " + "a" * 40,
    " ".join(["heart attack"] * 15),
    "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20",
]


@pytest.mark.parametrize("query", ADVERSARIAL, ids=range(len(ADVERSARIAL)))
def test_adversarial_queries_expand_to_bounded_work(
    client: TestClient, engine: Engine, query: str
) -> None:
    # Speed is for the benchmarks; here the work a query can cause is bounded:
    # readings, slots and alternatives (spelling corrections included).
    assert len(query) <= MAX_QUERY_CHARS
    parsed, _ = engine.corrections(parse(clean(query), engine.lexicon))
    assert len(parsed.readings) <= MAX_READINGS
    alternatives = [
        alternative
        for reading in parsed.readings
        for slot in reading.slots
        for alternative in slot.alternatives
    ]
    assert len(alternatives) <= MAX_READINGS * MAX_WORDS * 8
    assert all(len(a.terms) <= MAX_WORDS for a in alternatives)
    for route in ("/api/search", "/api/suggest"):
        status, body = get(client, route, q=query)
        assert status == 200, body


def test_search_past_its_budget_is_a_504(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search.engine, "TIME_BUDGET_S", 0.0)
    status, body = get(client, "/api/search", q="budget probe fracture femur")
    error = assert_error_shape(body, 504)
    assert error["type"] == "timeout"
    assert "budget" in error["message"]
    monkeypatch.undo()
    # The stopped search left nothing behind: the same query now succeeds.
    status, body = get(client, "/api/search", q="budget probe fracture femur")
    assert status == 200 and body["total"] > 0


XSS = [
    "<script>femur</script> fracture",
    '<img onerror="femur"> fracture',
    "femur <b>fracture</b>",
    "&lt;femur&gt; fracture",
    '"><svg/onload=heart> failure',
    "javascript:heart failure",
]


@pytest.mark.parametrize("query", XSS)
def test_highlights_carry_no_markup_from_the_query(
    client: TestClient, query: str
) -> None:
    status, body = get(client, "/api/search", q=query, limit=50)
    assert status == 200
    assert body["results"], "the words in and around the markup still match"
    assert_safe_response(status, body)
    assert any("<mark>" in row["highlight"]["title"] for row in body["results"])


def test_highlights_escape_markup_characters_of_the_data(client: TestClient) -> None:
    # Short descriptors use "&" ("Malig neoplm of conn & soft tiss"); it must be
    # escaped, and nothing else may reach the page raw.
    status, body = get(client, "/api/search", q="malignant neoplasm connective soft")
    assert status == 200
    shorts = [row["highlight"]["short"] for row in body["results"]]
    assert any("&amp;" in short for short in shorts), shorts
    assert all(" & " not in short for short in shorts)
    assert_safe_response(status, body)


@pytest.mark.parametrize(
    "code", ["NOPE", "E11.99999", "%00", "..%2F..%2Fetc%2Fpasswd", "%ED%A0%80"]
)
def test_unknown_codes_are_404(client: TestClient, code: str) -> None:
    _, body = get(client, f"/api/codes/{code}")
    assert assert_error_shape(body, 404)["type"] == "not_found"


def test_known_code_in_any_format(client: TestClient) -> None:
    for spelling in ("E11.9", "e119", "E119"):
        status, body = get(client, f"/api/codes/{spelling}")
        assert status == 200 and body["code"] == "E11.9"


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("GET", "/api/nothing", 404),
        ("GET", "/api", 404),
        ("GET", "/static/..%2Fapp.py", 404),
        ("GET", "/static/%2e%2e/%2e%2e/pyproject.toml", 404),
        ("GET", "/static/missing.js", 404),
        ("POST", "/api/search", 405),
        ("DELETE", "/api/codes/E11.9", 405),
    ],
)
def test_unknown_routes_and_methods_share_the_shape(
    client: TestClient, method: str, url: str, status: int
) -> None:
    response = client.request(method, url)
    assert_error_shape(response.json(), status)
