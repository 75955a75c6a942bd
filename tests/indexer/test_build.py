"""Builds: versioned directories, an atomic switch, one builder at a time."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from corpus.load import load_corpus
from corpus.records import CodeRecord
from indexer import build as build_module
from indexer.build import BuildError, build_index, build_lock, current_build


@pytest.fixture(scope="module")
def records() -> list[CodeRecord]:
    everything = load_corpus(None).records
    return [r for r in everything if r.code.startswith(("E10", "E11", "I21"))]


def test_build_switches_current_and_keeps_one_previous(
    tmp_path: Path, records: list[CodeRecord]
) -> None:
    first = build_index(records, tmp_path)
    assert current_build(tmp_path) == first
    second = build_index(records[:50], tmp_path)
    assert current_build(tmp_path) == second
    third = build_index(records[:60], tmp_path)
    remaining = {p.name for p in (tmp_path / "builds").iterdir()}
    assert remaining == {second.name, third.name}


def test_failed_build_leaves_the_previous_index(
    tmp_path: Path, records: list[CodeRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    good = build_index(records, tmp_path)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(build_module, "write_columns", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        build_index(records, tmp_path)
    assert current_build(tmp_path) == good
    assert not list((tmp_path / "builds").glob("*.partial"))


def test_leftovers_of_a_killed_build_are_removed(
    tmp_path: Path, records: list[CodeRecord]
) -> None:
    leftover = tmp_path / "builds" / "20200101-000000-0-1.partial"
    leftover.mkdir(parents=True)
    build_index(records, tmp_path)
    assert not leftover.exists()


def test_a_second_build_stops_with_a_clear_message(tmp_path: Path) -> None:
    with build_lock(tmp_path), pytest.raises(BuildError, match="another build"):
        build_index([CodeRecord("x", "X1", "x", "x")], tmp_path)


def test_nothing_to_index_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="nothing to index"):
        build_index([], tmp_path)
    assert not (tmp_path / "current").exists()


def test_current_is_a_relative_symlink(
    tmp_path: Path, records: list[CodeRecord]
) -> None:
    build_index(records[:20], tmp_path)
    assert not os.readlink(tmp_path / "current").startswith("/")
