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
