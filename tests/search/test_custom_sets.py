"""User code sets from the data directory, searched like the built-in ones.

The sets are invented (codes ZZ..., LX...) with short-only descriptors written
the way CMS abbreviates; real ICD-10-CM records compete with them in the index.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from corpus.custom import category_id
from corpus.load import Corpus, load_corpus
from corpus.records import CodeRecord
from indexer.build import build_index
from search.engine import Engine
from search.index import IndexHome
from search.results import SearchRequest

DEMO_SET = (
    {
        "code": "ZZ001",
        "system": "cpt-demo",
        "short": "Fx repair fem",
        "category": "Musculoskeletal",
    },
    {
        "code": "ZZ002",
        "system": "cpt-demo",
        "short": "Fx repair humerus",
        "category": "Musculoskeletal",
    },
    {
        "code": "ZZ003",
        "system": "cpt-demo",
        "short": "Doc med rsn xray",
        "category": "Quality measures",
    },
)
LOCAL_CSV = (
    "code,system,short,long,category,terminated\n"
    "LX001,custom,Doc med rsn bone scn,,Quality measures,\n"
    "LX002,custom,Old local panel,Retired local laboratory panel,Panels,2020-12-31\n"
)
MUSCULOSKELETAL = category_id("cpt-demo", "Musculoskeletal")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with a JSON Lines set in a subfolder and a CSV set."""
    data = tmp_path_factory.mktemp("custom-data")
    (data / "licensed").mkdir()
    lines = [json.dumps(row) for row in DEMO_SET]
    (data / "licensed" / "demo.jsonl").write_text("\n".join(lines) + "\n")
    (data / "custom").mkdir()
    (data / "custom" / "local.csv").write_text(LOCAL_CSV)
    # A CSV outside a folder named custom is not a code set.
    (data / "notes.csv").write_text("code,system,short\nNO1,custom,ignored\n")
    return data


@pytest.fixture(scope="module")
def corpus(data_dir: Path) -> Corpus:
    """Everything ``load_corpus`` reads from the data directory."""
    return load_corpus(data_dir)


@pytest.fixture(scope="module")
def engine(
    corpus: Corpus, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """The user sets and the real femur and humerus fracture codes, indexed."""
    subset: list[CodeRecord] = [
        r
        for r in corpus.records
        if r.system != "icd10cm" or r.code.startswith(("S72.0", "S42.2"))
    ]
    home = tmp_path_factory.mktemp("custom-home")
    build_index(subset, home)
    engine = IndexHome(home).engine()
    yield engine
    engine.close()


def test_load_corpus_reads_the_user_sets(corpus: Corpus, data_dir: Path) -> None:
    keys = {record.key for record in corpus.records}
    assert {f"cpt-demo:{row['code']}" for row in DEMO_SET} <= keys
    assert {"custom:LX001", "custom:LX002"} <= keys
    assert "custom:NO1" not in keys
    read = {report.path for report in corpus.sources if report.name == "custom"}
    assert read == {
        data_dir / "licensed" / "demo.jsonl",
        data_dir / "custom" / "local.csv",
    }
    # The real ICD-10-CM is there too.
    assert sum(r.system == "icd10cm" for r in corpus.records) > 70_000


def test_short_descriptors_are_found_by_full_words(engine: Engine) -> None:
    result = engine.search(SearchRequest(query="fracture repair femur", explain=True))
    # Real femur fractures (S72.0...) compete, but only the repair has "repair".
    assert result.hits[0].code == "ZZ001"
    assert any(h.system == "icd10cm" for h in result.hits)
    # "fracture" is not in "Fx repair fem": it was found through the expansion.
    reasons = {r.typed: r.fields for r in result.hits[0].explain}
    assert reasons["fracture"] == ("expanded",)

    result = engine.search(SearchRequest(query="documentation medical reason xray"))
    assert result.hits[0].code == "ZZ003"
    assert result.hits[0].match == "all words"

    result = engine.search(SearchRequest(query="medical reason bone scan"))
    assert result.hits[0].code == "LX001"


def test_user_categories_are_facets(engine: Engine, corpus: Corpus) -> None:
    facets = engine.all_facets()
    categories = {value.value: value for value in facets["category"]}
    expected = [
        r.code
        for r in corpus.records
        if any(c.id == MUSCULOSKELETAL for c in r.categories)
    ]
    assert categories[MUSCULOSKELETAL].label == "Musculoskeletal"
    assert categories[MUSCULOSKELETAL].count == len(expected) == 2
    assert {v.value for v in facets["system"]} >= {"cpt-demo", "custom", "icd10cm"}

    result = engine.search(
        SearchRequest(query="fracture", categories=(MUSCULOSKELETAL,))
    )
    assert sorted(hit.code for hit in result.hits) == sorted(expected)
    # The facet counts of the unfiltered query show the user category beside ICD's.
    counts = {v.value: v.count for v in result.facets["category"]}
    assert counts[MUSCULOSKELETAL] == 2
    assert counts["icd10cm:ch19"] > 0


def test_user_codes_follow_validity(engine: Engine) -> None:
    assert "LX002" not in [
        h.code for h in engine.search(SearchRequest("local panel")).hits
    ]
    retired = engine.search(SearchRequest("local panel", include_terminated=True))
    assert [h.code for h in retired.hits] == ["LX002"]
    assert retired.hits[0].terminated == "2020-12-31"
