"""Loading the whole corpus: every reader run over the data directory, merged."""

from __future__ import annotations

import functools
import importlib
import importlib.util
import logging
import time
from collections.abc import Callable, Iterable, Sized
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

from corpus import datadir
from corpus.custom import read_custom
from corpus.datadir import Source
from corpus.hcpcs import (
    Modifier,
    layer_releases,
    read_hcpcs_descriptions,
    read_hcpcs_modifiers,
    read_hcpcs_workbook,
)
from corpus.icd10cm import read_icd10cm
from corpus.icd10cm_index import MAX_PHRASES_PER_CODE, read_index_terms
from corpus.records import CodeRecord
from corpus.rvu import RvuEntry, read_rvu, rvu_by_code, with_rvu

logger = logging.getLogger(__name__)

T = TypeVar("T", bound=Sized)
Item = TypeVar("Item")

# Called with a short description of each source before it is read.
Progress = Callable[[str], None]

# Modules of the other corpus stages, each with ``assign(records, data_dir)``.
ASSIGNING_MODULES = ("corpus.categories", "corpus.specialties")


@dataclass(frozen=True)
class SourceReport:
    """What reading one source gave: how many records, in how long."""

    name: str
    path: Path | None
    records: int
    seconds: float


@dataclass
class Corpus:
    """Every record of every source, with the modifiers and fee-schedule values."""

    records: list[CodeRecord]
    modifiers: list[Modifier] = field(default_factory=list)
    rvu: dict[str, RvuEntry] = field(default_factory=dict)
    sources: list[SourceReport] = field(default_factory=list)


def load_corpus(data_dir: Path | None, progress: Progress | None = None) -> Corpus:
    """Read ICD-10-CM (always) and every known file of ``data_dir`` into a Corpus.

    With ``data_dir`` None only ICD-10-CM, from its Python package, is read.
    Index phrases become ICD-10-CM synonyms, HCPCS releases are layered in
    release order, fee-schedule values become attributes, user sets are added
    (a user record replaces an official one with the same system and code).
    """
    loader = _Loader(progress)
    icd10cm = loader.read("icd10cm", None, lambda: list(read_icd10cm()))
    if data_dir is None:
        return Corpus(records=icd10cm, sources=loader.reports)

    sources = datadir.discover(data_dir)
    by_kind: dict[str, list[Source]] = {}
    for source in sources:
        by_kind.setdefault(source.kind, []).append(source)

    icd10cm = _add_index_terms(loader, icd10cm, by_kind)
    hcpcs, modifiers = _read_hcpcs(loader, by_kind)
    custom = [
        record
        for source in by_kind.get(datadir.CUSTOM, [])
        for record in loader.read(
            datadir.CUSTOM, source.path, _listed(read_custom, source.path)
        )
    ]
    rvu: dict[str, RvuEntry] = {}
    rvu_file: dict[str, str] = {}
    # Files are read in name order; a later file (a later quarter) wins.
    for source in by_kind.get(datadir.RVU, []):
        entries = loader.read(datadir.RVU, source.path, _listed(read_rvu, source.path))
        by_code = rvu_by_code(entries)
        rvu.update(by_code)
        rvu_file.update(dict.fromkeys(by_code, source.path.name))
    rvu_files = ", ".join(s.path.name for s in by_kind.get(datadir.RVU, [])) or None

    records = _merge([*icd10cm, *hcpcs], custom)
    records = [
        with_rvu(r, rvu.get(r.code), rvu_file.get(r.code, rvu_files)) for r in records
    ]
    records = _assign_from_other_stages(records, data_dir)
    return Corpus(records, modifiers, rvu, loader.reports)


def _listed(
    reader: Callable[..., Iterable[Item]], *arguments: object
) -> Callable[[], list[Item]]:
    """A reader call, deferred, whose items come back as a list."""
    return lambda: list(reader(*arguments))


class _Loader:
    """Runs readers, timing them and keeping one report per source."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.reports: list[SourceReport] = []

    def read(self, name: str, path: Path | None, reader: Callable[[], T]) -> T:
        """Run one reader, log and keep its report, return what it read."""
        label = name if path is None else f"{name} {path.name}"
        if self.progress is not None:
            self.progress(f"reading {label}")
        started = time.perf_counter()
        result = reader()
        seconds = time.perf_counter() - started
        self.reports.append(SourceReport(name, path, len(result), seconds))
        logger.info("read %s: %d records in %.1f s", label, len(result), seconds)
        return result


def _add_index_terms(
    loader: _Loader, records: list[CodeRecord], by_kind: dict[str, list[Source]]
) -> list[CodeRecord]:
    """Merge the Alphabetic Index phrases into the ICD-10-CM records' synonyms."""
    phrases: dict[str, list[str]] = {}
    for kind in (datadir.ICD10CM_INDEX, datadir.ICD10CM_EXTERNAL_INDEX):
        for source in by_kind.get(kind, []):
            terms = loader.read(
                kind, source.path, functools.partial(read_index_terms, source.path)
            )
            for code, code_phrases in terms.items():
                phrases.setdefault(code, []).extend(code_phrases)
    if not phrases:
        return records

    known = {record.code for record in records}
    unknown = sorted(set(phrases) - known)
    if unknown:
        # The index is a year older than the tabular list: a few codes changed.
        logger.warning(
            "index phrases for %d codes not in the tabular list skipped (e.g. %s)",
            len(unknown),
            ", ".join(unknown[:5]),
        )
    return [_with_phrases(record, phrases.get(record.code, [])) for record in records]


def _with_phrases(record: CodeRecord, phrases: list[str]) -> CodeRecord:
    """The record with index phrases after its inclusion terms, without repeats."""
    if not phrases:
        return record
    seen = {text.casefold() for text in (record.title, record.short, *record.synonyms)}
    added: list[str] = []
    for phrase in phrases:
        if phrase.casefold() not in seen and len(added) < MAX_PHRASES_PER_CODE:
            seen.add(phrase.casefold())
            added.append(phrase)
    return replace(record, synonyms=(*record.synonyms, *added)) if added else record


def _read_hcpcs(
    loader: _Loader, by_kind: dict[str, list[Source]]
) -> tuple[list[CodeRecord], list[Modifier]]:
    """Read every HCPCS release, oldest first, layering each over the ones before."""
    releases = [
        *by_kind.get(datadir.HCPCS_WORKBOOK, []),
        *by_kind.get(datadir.HCPCS_DESCRIPTIONS, []),
    ]
    releases.sort(key=lambda s: (s.release or "", s.kind != datadir.HCPCS_WORKBOOK))

    records: list[CodeRecord] = []
    modifiers: dict[str, Modifier] = {}
    for source in releases:
        if source.kind == datadir.HCPCS_WORKBOOK:
            reader = read_hcpcs_workbook
        else:
            reader = read_hcpcs_descriptions
        release = loader.read(
            source.kind,
            source.path,
            _listed(reader, source.path, source.release),
        )
        records = layer_releases(records, release)
        # Same file, already parsed: no extra report for the modifiers.
        modifiers.update((m.code, m) for m in read_hcpcs_modifiers(source.path))
    return records, [modifiers[code] for code in sorted(modifiers)]


def _merge(official: list[CodeRecord], custom: list[CodeRecord]) -> list[CodeRecord]:
    """All records by key; a user record replaces an official one with its key."""
    by_key = {record.key: record for record in official}
    replaced = sum(1 for record in custom if record.key in by_key)
    if replaced:
        logger.warning("user code sets replace %d official records", replaced)
    by_key.update((record.key, record) for record in custom)
    return list(by_key.values())


def _assign_from_other_stages(
    records: list[CodeRecord], data_dir: Path
) -> list[CodeRecord]:
    """Hook: let the category and specialty modules complete the records.

    Each module in ASSIGNING_MODULES that exists and has
    ``assign(records, data_dir) -> Iterable[CodeRecord]`` is called in turn;
    missing ones are skipped, so this stage works before they are written.
    """
    for name in ASSIGNING_MODULES:
        if importlib.util.find_spec(name) is None:
            logger.debug("%s not present: skipped", name)
            continue
        assign = getattr(importlib.import_module(name), "assign", None)
        if assign is None:
            logger.debug("%s has no assign(records, data_dir): skipped", name)
            continue
        started = time.perf_counter()
        assigned: Iterable[CodeRecord] = assign(records, data_dir)
        records = list(assigned)
        logger.info(
            "%s.assign: %d records in %.1f s",
            name,
            len(records),
            time.perf_counter() - started,
        )
    return records
