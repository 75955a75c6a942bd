"""Data directory discovery and whole-corpus loading, on the real files."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from corpus import datadir
from corpus.datadir import discover, recognise, resolve_data_dir
from corpus.load import Corpus, load_corpus
from corpus.records import CodeRecord


@pytest.fixture(scope="module")
def data_dir(corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory: links to the real folders plus an invented user set."""
    root = tmp_path_factory.mktemp("data")
    for name in ("hcpcs", "icd10cm-index", "pfs-rvu"):
        (root / name).symlink_to(corpus_dir / name, target_is_directory=True)
    custom = root / "custom"
    custom.mkdir()
    (custom / "mine.csv").write_text(
        "code,system,long,plain_language\n"
        "99990,cpt,Invented office visit,pretend checkup\n"
        "G0011,hcpcs,Invented replacement text,\n",
        encoding="utf-8",
    )
    return root


@pytest.fixture(scope="module")
def loaded(data_dir: Path) -> tuple[Corpus, list[str]]:
    """The corpus of the data directory, and the INFO lines logged while loading."""
    handler = _ListHandler()
    logger = logging.getLogger("corpus.load")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        corpus = load_corpus(data_dir)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    return corpus, handler.messages


class _ListHandler(logging.Handler):
    """Keeps the INFO messages it receives."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def records_by_key(corpus: Corpus) -> dict[str, CodeRecord]:
    """Records by ``system:code``."""
    return {record.key: record for record in corpus.records}


def test_resolve_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv(datadir.DATA_DIR_VARIABLE, str(tmp_path / "from-env"))
    assert resolve_data_dir(tmp_path / "option") == tmp_path / "option"
    assert resolve_data_dir(None) == tmp_path / "from-env"

    monkeypatch.delenv(datadir.DATA_DIR_VARIABLE)
    assert resolve_data_dir(None) is None
    default = tmp_path / ".local" / "share" / "medcodes" / "data"
    default.mkdir(parents=True)
    assert resolve_data_dir(None) == default


def test_discover_real_files(corpus_dir: Path) -> None:
    sources = discover(corpus_dir)
    kinds = [source.kind for source in sources]
    assert kinds == sorted(kinds, key=datadir.KIND_ORDER.index)
    hcpcs = [s for s in sources if s.kind.startswith("hcpcs-") and s.release]
    assert [(s.path.name, s.release) for s in hcpcs] == [
        ("HCPC2025_OCT_ANWEB.xlsx", "2025-10"),
        ("hcpcs-2026-jan-descriptions.csv", "2026-01"),
    ]
    names = {s.path.name: s.kind for s in sources}
    assert names["index-2025-flattened.csv"] == datadir.ICD10CM_INDEX
    assert names["PPRRVU2025_Oct-level2.csv"] == datadir.RVU
    assert names["nucc-taxonomy-25.1.csv"] == datadir.NUCC_TAXONOMY
    assert names["record-layout-code-tables.csv"] == datadir.HCPCS_CODE_TABLES
    assert "medical-abbreviations.csv" not in names


def test_discover_depth_and_user_sets(tmp_path: Path) -> None:
    deep = tmp_path / "a" / "b" / "c"
    deep.mkdir(parents=True)
    (deep / "too-deep.jsonl").write_text("", encoding="utf-8")
    (tmp_path / "a" / "b" / "ok.jsonl").write_text("", encoding="utf-8")
    (tmp_path / "custom").mkdir()
    (tmp_path / "custom" / "set.csv").write_text("", encoding="utf-8")
    (tmp_path / "loose.csv").write_text("", encoding="utf-8")
    found = {s.path.name for s in discover(tmp_path)}
    assert found == {"ok.jsonl", "set.csv"}
    assert recognise(tmp_path / "HCPC2026_JAN_ANWEB_v2.xlsx", tmp_path) is not None


def test_without_data_dir_only_icd10cm() -> None:
    corpus = load_corpus(None)
    assert {record.system for record in corpus.records} == {"icd10cm"}
    assert [s.name for s in corpus.sources] == ["icd10cm"]
    assert corpus.modifiers == [] and corpus.rvu == {}


def test_sources_are_reported(loaded: tuple[Corpus, list[str]]) -> None:
    corpus, messages = loaded
    names = [source.name for source in corpus.sources]
    assert names == [
        "icd10cm",
        "icd10cm-index",
        "icd10cm-external-index",
        "hcpcs-workbook",
        "hcpcs-descriptions",
        "custom",
        "rvu",
    ]
    assert all(source.records > 0 and source.seconds >= 0 for source in corpus.sources)
    read_lines = [m for m in messages if m.startswith("read ")]
    assert len(read_lines) == len(corpus.sources)


def test_index_phrases_follow_inclusion_terms(loaded: tuple[Corpus, list[str]]) -> None:
    records = records_by_key(loaded[0])
    heart = records["icd10cm:I21.9"]
    assert heart.synonyms[0] == "Myocardial infarction (acute) NOS"
    assert "heart attack" in heart.synonyms
    # A "-" code of the index lands on the category it abbreviates.
    femur = records["icd10cm:S72.30"]
    assert "fracture traumatic femur shaft" in femur.synonyms
    # Phrases equal to the title are not repeated as synonyms.
    assert records["icd10cm:M21.61"].title == "Bunion"
    assert "bunion" not in records["icd10cm:M21.61"].synonyms
    # External-cause index phrases land too.
    assert "abandonment" in records["icd10cm:X58"].synonyms


def test_synonyms_have_no_case_repeats(loaded: tuple[Corpus, list[str]]) -> None:
    for record in loaded[0].records:
        folded = [s.casefold() for s in record.synonyms]
        assert len(folded) == len(set(folded)), record.key


def test_hcpcs_layered_and_modifiers_apart(loaded: tuple[Corpus, list[str]]) -> None:
    corpus = loaded[0]
    records = records_by_key(corpus)
    assert "hcpcs:M1427" in records
    assert records["hcpcs:E0100"].attributes["releases"] == "2025-10,2026-01"
    assert len(corpus.modifiers) == 383
    assert not any(r.system == "hcpcs" and len(r.code) == 2 for r in corpus.records)


def test_rvu_values_become_attributes(loaded: tuple[Corpus, list[str]]) -> None:
    corpus = loaded[0]
    entry = corpus.rvu["G0012"]
    record = records_by_key(corpus)["hcpcs:G0012"]
    assert record.attributes["work_rvu"] == f"{entry.work_rvu:.2f}"
    assert record.attributes["status"] == entry.status
    assert record.attributes["global_days"] == entry.global_days
    assert not any(
        "work_rvu" in r.attributes for r in corpus.records if r.system == "icd10cm"
    )


def test_user_sets_are_added_and_replace(loaded: tuple[Corpus, list[str]]) -> None:
    records = records_by_key(loaded[0])
    assert records["cpt:99990"].synonyms == ("pretend checkup",)
    assert records["hcpcs:G0011"].title == "Invented replacement text"
    keys = [record.key for record in loaded[0].records]
    assert len(keys) == len(set(keys))
