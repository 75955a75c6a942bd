"""Fixtures of the reliability tests: an API client and small builds of real records."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from corpus.records import CodeRecord

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

# Slices of the ICD-10-CM records (in code order) that share no code, so a result
# tells which build answered it: A00-D10, injuries (S), external causes (V-Y).
SLICES = (slice(0, 3000), slice(60000, 63000), slice(90000, 93000))


def client_class() -> type[TestClient]:
    """FastAPI's TestClient, imported without Starlette's httpx deprecation warning."""
    with warnings.catch_warnings():
        # Starlette 1.x asks for httpx2; httpx is what the project depends on.
        warnings.simplefilter("ignore", DeprecationWarning)
        from fastapi.testclient import TestClient
    return TestClient


@pytest.fixture(scope="session")
def icd_records(corpus_dir: Path) -> Sequence[CodeRecord]:
    """Every ICD-10-CM record (the corpus read without a data directory)."""
    from corpus.load import load_corpus

    return load_corpus(None).records


@pytest.fixture(scope="module")
def client(full_home: Path) -> Iterator[TestClient]:
    """A test client of the API over the full index; server errors become 500s."""
    from service.app import create_app

    with client_class()(
        create_app(full_home), raise_server_exceptions=False
    ) as test_client:
        yield test_client
