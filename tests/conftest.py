"""Shared fixtures: where the real reference files are."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
CORPUS_DIR = REPO_ROOT / ".." / "shared" / "corpus"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The read-only folder of real code-set files (``../shared/corpus``)."""
    if not CORPUS_DIR.is_dir():
        pytest.skip(f"reference files not found at {CORPUS_DIR.resolve()}")
    return CORPUS_DIR.resolve()


@pytest.fixture(scope="session")
def full_home(corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index home with the full corpus built once per test session.

    ``MEDCODES_TEST_HOME`` may name an index home built beforehand (as ``.ci/run``
    does), so that the suite does not build it again.
    """
    import os

    from corpus.load import load_corpus
    from indexer.build import build_index, current_build

    prebuilt = os.environ.get("MEDCODES_TEST_HOME")
    if prebuilt and current_build(Path(prebuilt)) is not None:
        return Path(prebuilt)
    home = tmp_path_factory.mktemp("full-home")
    build_index(load_corpus(corpus_dir).records, home)
    return home


@pytest.fixture(scope="session")
def engine(full_home: Path):  # type: ignore[no-untyped-def]
    """The search engine over the full index."""
    from search.index import IndexHome

    return IndexHome(full_home).engine()
