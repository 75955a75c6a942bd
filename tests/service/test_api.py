"""The HTTP API through FastAPI's test client, over the full index."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.app import create_app

pytestmark = pytest.mark.full


@pytest.fixture(scope="module")
def client(full_home: Path) -> Iterator[TestClient]:
    with TestClient(create_app(full_home)) as test_client:
        yield test_client


def assert_error(response: object, status: int, kind: str) -> dict[str, object]:
    body = response.json()  # type: ignore[attr-defined]
    assert response.status_code == status  # type: ignore[attr-defined]
    assert set(body) == {"error"}
    assert body["error"]["status"] == status
    assert body["error"]["type"] == kind
    assert body["error"]["message"]
    return body["error"]  # type: ignore[no-any-return]


def test_search_contract(client: TestClient) -> None:
    body = client.get("/api/search", params={"q": "bone scn"}).json()
    assert set(body) >= {"query", "total", "results", "facets", "took_ms"}
    first = body["results"][0]
    assert first["code"] == "M1427"
    assert set(first) >= {
        "code",
        "system",
        "title",
        "short",
        "category",
        "specialties",
        "score",
        "highlight",
    }
    assert set(first["category"]) == {"id", "label"}
    assert set(body["facets"]) == {"system", "category", "specialty"}
    assert set(body["facets"]["specialty"][0]) == {"value", "label", "count"}


def test_repeatable_filters(client: TestClient) -> None:
    params = [
        ("q", "wheelchair"),
        ("specialty", "durable-medical-equipment"),
        ("specialty", "physical-medicine-rehabilitation"),
        ("system", "hcpcs"),
    ]
    response = client.get("/api/search", params=params)
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert all(r["system"] == "hcpcs" for r in response.json()["results"])


def test_suggest_contract(client: TestClient) -> None:
    body = client.get("/api/suggest", params={"q": "bone sc"}).json()
    assert set(body) >= {"query", "completions", "codes"}
    assert body["codes"][0]["code"] == "M1427"
    assert all(set(c) == {"text"} for c in body["completions"])


def test_facets_and_detail(client: TestClient) -> None:
    facets = client.get("/api/facets").json()["facets"]
    assert {v["value"] for v in facets["system"]} == {"icd10cm", "hcpcs"}
    detail = client.get("/api/codes/e119").json()
    assert detail["code"] == "E11.9"
    assert detail["parent"]["code"] == "E11"


def test_health(client: TestClient) -> None:
    body = client.get("/api/health").json()
    assert body["status"] == "ok" and body["documents"] > 100_000


def test_errors_share_one_shape(client: TestClient) -> None:
    error = assert_error(
        client.get("/api/search", params={"limit": 0}), 400, "invalid_request"
    )
    assert error["parameter"] == "limit"
    assert_error(
        client.get("/api/search", params={"q": "x" * 300}), 400, "invalid_request"
    )
    assert_error(
        client.get("/api/search", params={"q": "x", "specialty": "nope"}),
        400,
        "invalid_request",
    )
    assert_error(
        client.get("/api/search", params={"as_of": "yesterday"}), 400, "invalid_request"
    )
    assert_error(client.get("/api/codes/ZZZ999"), 404, "not_found")
    assert_error(client.get("/no/such/route"), 404, "not_found")


def test_missing_index_is_a_503(tmp_path: Path) -> None:
    with TestClient(create_app(tmp_path)) as empty:
        error = assert_error(
            empty.get("/api/search", params={"q": "x"}), 503, "index_unavailable"
        )
        assert "medcodes build" in str(error["message"])
