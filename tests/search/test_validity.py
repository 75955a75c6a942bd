"""Releases and validity: layered HCPCS releases, replacements, search ``as_of``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from corpus.hcpcs import (
    CODE_START,
    CROSS_REFERENCE_COLUMNS,
    _workbook_rows,
    layer_releases,
    read_hcpcs_descriptions,
    read_hcpcs_workbook,
)
from corpus.records import CodeRecord
from indexer.build import build_index
from search.engine import Engine
from search.index import IndexHome
from search.results import SearchRequest

OCTOBER = "hcpcs/HCPC2025_OCT_ANWEB.xlsx"
JANUARY = "hcpcs/hcpcs-2026-jan-descriptions.csv"
# Sections kept in the small index: C (pass-through drugs, often terminated and
# replaced by permanent codes), Q5 (biosimilars) and M1 (quality measures).
PREFIXES = ("C9", "Q5", "M1")


@pytest.fixture(scope="module")
def releases(corpus_dir: Path) -> list[CodeRecord]:
    """The October 2025 workbook with the January 2026 descriptions laid over it."""
    october = read_hcpcs_workbook(corpus_dir / OCTOBER, "2025-10")
    january = read_hcpcs_descriptions(corpus_dir / JANUARY, "2026-01")
    return layer_releases(october, january)


@pytest.fixture(scope="module")
def subset(releases: list[CodeRecord]) -> list[CodeRecord]:
    """The records of the small index."""
    return [record for record in releases if record.code.startswith(PREFIXES)]


@pytest.fixture(scope="module")
def engine(
    subset: list[CodeRecord], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """An engine over a small index of real HCPCS records."""
    home = tmp_path_factory.mktemp("validity-home")
    build_index(subset, home)
    engine = IndexHome(home).engine()
    yield engine
    engine.close()


def codes(engine: Engine, query: str, **options: object) -> list[str]:
    """The codes a search returns (up to 100)."""
    request = SearchRequest(query=query, limit=100, **options)  # type: ignore[arg-type]
    return [hit.code for hit in engine.search(request).hits]


def test_cross_references_become_replacements(
    corpus_dir: Path, releases: list[CodeRecord]
) -> None:
    by_code = {record.code: record for record in releases}
    rows = [
        r
        for r in _workbook_rows(corpus_dir / OCTOBER)
        if r.values["RECID"] == CODE_START
    ]
    replaced = related = 0
    for row in rows:
        record = by_code[row.values["HCPC"]]
        cells = [row.values[c] for c in CROSS_REFERENCE_COLUMNS if row.values.get(c)]
        expected = ",".join(dict.fromkeys(cells))
        if record.terminated is not None:
            assert record.attributes.get("replaced_by", "") == expected
            assert "cross_reference" not in record.attributes
            replaced += bool(expected)
        else:
            assert record.attributes.get("cross_reference", "") == expected
            assert "replaced_by" not in record.attributes
            related += bool(expected)
    # Most cross-references are on terminated codes, but not all of them.
    assert replaced > related > 0
    # A pass-through code ended when its permanent code came (CMS quarterly update).
    assert by_code["C9173"].attributes["replaced_by"] == "Q5148"
    assert by_code["C9173"].terminated == dt.date(2025, 6, 30)


def test_releases_and_changes_are_recorded(
    corpus_dir: Path, releases: list[CodeRecord]
) -> None:
    october = {r.code: r for r in read_hcpcs_workbook(corpus_dir / OCTOBER)}
    january = {r.code: r for r in read_hcpcs_descriptions(corpus_dir / JANUARY)}
    added = set(january) - set(october)
    assert "M1427" in added
    for record in releases:
        if record.code in added:
            assert record.attributes["releases"] == "2026-01"
            assert record.attributes["added_in"] == "2026-01"
            # Not valid before the release that brought it.
            assert record.effective == dt.date(2026, 1, 1)
        elif record.code in january:
            assert record.attributes["releases"] == "2025-10,2026-01"
            assert record.effective == october[record.code].effective
            assert record.terminated == october[record.code].terminated
        revised = (
            record.code in october
            and record.code in january
            and october[record.code].title.casefold()
            != january[record.code].title.casefold()
        )
        assert revised == (
            "long description revised" in record.attributes.get("changed", "")
        )


def test_as_of_gives_the_codes_valid_then(
    engine: Engine, subset: list[CodeRecord]
) -> None:
    query = "nypozi"
    answers = {}
    for day in (dt.date(2025, 3, 1), dt.date(2025, 5, 1), dt.date(2025, 8, 1)):
        expected = {
            r.code
            for r in subset
            if query in f"{r.title} {r.short}".casefold() and r.is_active(day)
        }
        found = codes(engine, query, as_of=day)
        assert set(found) == expected
        answers[day] = frozenset(found)
    # C9173 ended on 2025-06-30 and Q5148 began on 2025-04-01: three answers.
    assert len(set(answers.values())) == 3
    assert "C9173" in answers[dt.date(2025, 3, 1)]
    assert "C9173" not in answers[dt.date(2025, 8, 1)]


def test_terminated_codes_stay_findable(engine: Engine) -> None:
    after = dt.date(2025, 8, 1)
    result = engine.search(
        SearchRequest(query="nypozi", as_of=after, include_terminated=True)
    )
    hit = next(h for h in result.hits if h.code == "C9173")
    assert hit.terminated == "2025-06-30"
    # Active codes rank before terminated ones.
    assert result.hits[0].code == "Q5148"
    # An exact code is found even when terminated, and says what replaced it.
    assert codes(engine, "C9173", as_of=after)[0] == "C9173"
    detail = engine.detail("C9173")
    assert detail.record["attributes"]["replaced_by"] == "Q5148"  # type: ignore[index]
    assert detail.record["terminated"] == "2025-06-30"


def test_code_added_in_a_later_release(engine: Engine) -> None:
    query = "documentation medical reason bone scan"
    assert "M1427" not in codes(engine, query, as_of=dt.date(2025, 12, 31))
    assert "M1427" in codes(engine, query, as_of=dt.date(2026, 1, 2))


def test_as_of_defaults_to_today(engine: Engine) -> None:
    today = dt.date.today()
    for query in ("nypozi", "injection", "bone scan"):
        assert codes(engine, query) == codes(engine, query, as_of=today)
