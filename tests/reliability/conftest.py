"""Fixtures of the reliability tests: an API client and small builds of real records."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from corpus.records import CodeRecord

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

# Slices of the ICD-10-CM records (in code order) that share no code, so a result
# tells which build answered it: A00-D10, then the injury chapter S.
SLICE_A = slice(0, 3000)
SLICE_B = slice(60000, 63000)


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


@dataclass(frozen=True)
class TwoBuilds:
    """An index home holding two finished builds of disjoint record slices."""

    home: Path
    first: Path
    second: Path


@pytest.fixture(scope="session")
def two_builds(
    icd_records: Sequence[CodeRecord], tmp_path_factory: pytest.TempPathFactory
) -> TwoBuilds:
    """Builds A (3,000 records) then B (3,000 others) in one home; B is current."""
    from indexer.build import build_index

    home = tmp_path_factory.mktemp("two-builds")
    first = build_index(icd_records[SLICE_A], home)
    second = build_index(icd_records[SLICE_B], home)
    return TwoBuilds(home, first, second)


@pytest.fixture(scope="module")
def client(full_home: Path) -> Iterator[TestClient]:
    """A test client of the API over the full index; server errors become 500s."""
    from service.app import create_app

    with client_class()(
        create_app(full_home), raise_server_exceptions=False
    ) as test_client:
        yield test_client
