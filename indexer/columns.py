"""Compact columns kept beside the Whoosh index and loaded into memory at search time.

Whoosh's own matchers take 30-300 ms for a common two-word query over the full
corpus (measured in ``benchmarks/bench_search.py``), too slow to count facets and
totals on every keystroke. So after the Whoosh index is committed, the build reads
its postings back once and stores, per term, the documents and a precomputed
BM25F impact; per document, the few fields a result row shows and its facet values;
and the vocabulary with document frequencies for spelling and completion. The
arrays are memory-mapped ``.npy`` files, so every service process shares them.
"""

from __future__ import annotations

import json
import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from whoosh.index import Index
from whoosh.reading import IndexReader

from corpus.records import CodeRecord
from indexer.analysis import STOP_WORDS, terms, words
from indexer.names import NEUTRAL_TERMS, extension_stems, name_terms, synonym_keys
from indexer.schema import TEXT_FIELDS

K1 = 1.2
FORMAT_VERSION = 6
# A synonym of an ancestor counts in a descendant at this share of its weight.
INHERITED = 0.9

IntArray = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class DocRow:
    """What a result row needs of one document, kept in memory."""

    key: str
    code: str
    system: str
    title: str
    short: str
    expanded: str
    parent: str | None
    categories: tuple[str, ...]
    specialties: tuple[str, ...]
    billable: bool
    effective: str | None
    terminated: str | None


@dataclass
class Columns:
    """The in-memory side of one built index."""

    terms: dict[str, int]
    offsets: npt.NDArray[np.int64]
    postings_docs: IntArray
    postings_impacts: FloatArray
    docs: list[DocRow]
    vocabulary: dict[str, int]
    labels: dict[str, dict[str, str]]
    term_names: list[str]
    # Per document, the code its title extends (-1 if none); and every synonym's
    # name key, sorted, with its document (see ``indexer.names``).
    stems: IntArray
    title_sizes: IntArray
    name_keys: npt.NDArray[np.int64]
    name_docs: IntArray
    # Per document, its descriptors (title, short, expanded) as term ids in
    # order, each text ended by -1, for phrase checks; and those terms' ids.
    phrase_ids: dict[str, int]
    phrase_offsets: npt.NDArray[np.int64]
    phrase_terms: IntArray

    def term_range(self, prefix: str) -> tuple[int, int]:
        """Ids ``[start, end)`` of the index terms starting with ``prefix``.

        Terms are numbered in sorted order and their postings are stored in that
        order, so the postings of all of them form one contiguous slice.
        """
        names = self.term_names
        return bisect_left(names, prefix), bisect_left(names, prefix + "\uffff")

    def postings_slice(self, start: int, end: int) -> tuple[IntArray, FloatArray]:
        """The postings of term ids ``[start, end)``, documents possibly repeated."""
        first, last = self.offsets[start], self.offsets[end]
        return self.postings_docs[first:last], self.postings_impacts[first:last]

    def postings(self, term: str) -> tuple[IntArray, FloatArray] | None:
        """The documents containing an index term, and the term's impact in each."""
        index = self.terms.get(term)
        if index is None:
            return None
        start, end = self.offsets[index], self.offsets[index + 1]
        return self.postings_docs[start:end], self.postings_impacts[start:end]


def _read_postings(
    reader: IndexReader, field: str, term: bytes
) -> Iterator[tuple[list[int], list[float]]]:
    """Yield (docnums, weights) block by block for one term of one leaf reader."""
    matcher = reader.postings(field, term)
    if hasattr(matcher, "_read_ids"):
        # Block-wise reading of Whoosh 2.7's W3 postings: one decode per block of
        # 128 instead of one Python call per posting.
        while matcher.is_active():
            matcher._read_ids()
            matcher._read_weights()
            yield list(matcher._ids), list(matcher._weights)
            matcher._next_block()
        return
    ids: list[int] = []
    weights: list[float] = []
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(matcher.weight())
        matcher.next()
    yield ids, weights


PLAIN_FIELDS = ("title", "short")


def descendants(parents: npt.NDArray[np.int32]) -> tuple[IntArray, IntArray, IntArray]:
    """Every document's descendants as CSR arrays (starts, counts, documents),
    from each document's parent docnum (-1 for none)."""
    size = len(parents)
    pairs_doc: list[IntArray] = []
    pairs_ancestor: list[IntArray] = []
    current = np.arange(size, dtype=np.int32)
    ancestor = parents.copy()
    while True:
        has = ancestor >= 0
        if not has.any():
            break
        pairs_doc.append(current[has])
        pairs_ancestor.append(ancestor[has])
        current = current[has]
        ancestor = parents[ancestor[has]]
    if not pairs_doc:
        empty = np.zeros(0, dtype=np.int32)
        return np.zeros(size, dtype=np.int32), np.zeros(size, dtype=np.int32), empty
    docs = np.concatenate(pairs_doc)
    ancestors = np.concatenate(pairs_ancestor)
    order = np.argsort(ancestors, kind="stable")
    counts = np.bincount(ancestors, minlength=size).astype(np.int32)
    starts = (np.cumsum(counts) - counts).astype(np.int32)
    return starts, counts, docs[order].astype(np.int32)


def _spread(
    docs: IntArray,
    contributions: FloatArray,
    tree: tuple[IntArray, IntArray, IntArray],
) -> tuple[IntArray, FloatArray]:
    """A term's postings handed down to every descendant, at ``INHERITED``."""
    starts, counts, members = tree
    repeat = counts[docs]
    total = int(repeat.sum())
    if total == 0:
        return docs[:0], contributions[:0]
    firsts = np.repeat(starts[docs], repeat)
    steps = np.arange(total) - np.repeat(np.cumsum(repeat) - repeat, repeat)
    inherited = members[firsts + steps]
    return inherited, np.repeat(contributions * INHERITED, repeat).astype(np.float32)


def compute_impacts(
    index: Index,
    stems: npt.NDArray[np.int32] | None = None,
    parents: npt.NDArray[np.int32] | None = None,
) -> dict[str, tuple[dict[str, int], Any, Any, Any]]:
    """Read every text field's postings and fold them into BM25F impacts per term.

    Returns two sets: ``full`` over every text field, and ``plain`` over the
    descriptors alone (no expansions, synonyms or context), the baseline that
    ``medcodes eval`` compares against. A document that ``stems`` maps to the
    code it extends (see ``indexer.names``) is normalised by that code's
    descriptor lengths, so a seventh character's suffix does not weigh.

    With ``parents`` (each document's parent docnum), the ``full`` set hands
    every synonym down the hierarchy: the Alphabetic Index and inclusion terms
    name a category for its whole subtree ("Fracture, ankle S82.89-"), so its
    descendants match them too, at ``INHERITED`` weight. Inherited postings do
    not count in a term's document frequency.
    """
    per_field: dict[str, dict[str, list[tuple[IntArray, FloatArray]]]] = {}
    with index.reader() as reader:
        total_docs = reader.doc_count_all()
        leaves = list(reader.leaf_readers())
        lengths_of = {}
        for field in TEXT_FIELDS:
            lengths = np.zeros(total_docs, dtype=np.float32)
            for leaf, offset in leaves:
                for docnum in range(leaf.doc_count_all()):
                    lengths[offset + docnum] = leaf.doc_field_length(docnum, field) or 0
            lengths_of[field] = lengths
        # The indexer leaves the short descriptor and its expansion empty where
        # they would repeat the title; the title then carries their weight too.
        title_weight = np.full(total_docs, TEXT_FIELDS["title"][0], dtype=np.float32)
        for field in ("short", "expanded"):
            title_weight += np.where(lengths_of[field] == 0, TEXT_FIELDS[field][0], 0.0)
        if stems is not None:
            extended = np.flatnonzero(stems >= 0)
            for field in ("title", "short", "expanded"):
                lengths = lengths_of[field]
                stem_lengths = lengths[stems[extended]]
                both = (lengths[extended] > 0) & (stem_lengths > 0)
                lengths[extended[both]] = stem_lengths[both]
        for field, (weight, b) in TEXT_FIELDS.items():
            per_term = per_field.setdefault(field, {})
            lengths = lengths_of[field]
            present = lengths[lengths > 0]
            average = float(present.mean()) if len(present) else 1.0
            norm = (1.0 - b) + b * lengths / average
            if field == "title":
                norm = norm / (title_weight / weight)
            for leaf, offset in leaves:
                for term in leaf.lexicon(field):
                    chunks = list(_read_postings(leaf, field, term))
                    docs = np.fromiter(
                        (d + offset for ids, _ in chunks for d in ids), dtype=np.int32
                    )
                    tfs = np.fromiter(
                        (w for _, ws in chunks for w in ws), dtype=np.float32
                    )
                    contribution = (weight * tfs / norm[docs]).astype(np.float32)
                    per_term.setdefault(term.decode("utf-8"), []).append(
                        (docs, contribution)
                    )
    inherited: dict[str, list[tuple[IntArray, FloatArray]]] = {}
    if parents is not None:
        tree = descendants(parents)
        for term, parts in per_field["synonyms"].items():
            spread = [_spread(docs, values, tree) for docs, values in parts]
            inherited[term] = [part for part in spread if len(part[0])]
    return {
        "full": _fold(per_field, tuple(TEXT_FIELDS), total_docs, inherited),
        "plain": _fold(per_field, PLAIN_FIELDS, total_docs),
    }


def _fold(
    per_field: dict[str, dict[str, list[tuple[IntArray, FloatArray]]]],
    chosen: tuple[str, ...],
    total_docs: int,
    inherited: dict[str, list[tuple[IntArray, FloatArray]]] | None = None,
) -> tuple[dict[str, int], Any, Any, Any]:
    """BM25F impacts over the chosen fields, as a term table and CSR arrays."""
    per_term: dict[str, list[tuple[IntArray, FloatArray]]] = {}
    for field in chosen:
        for term, parts in per_field[field].items():
            per_term.setdefault(term, []).extend(parts)
    names = sorted(per_term)
    offsets = np.zeros(len(names) + 1, dtype=np.int64)
    all_docs: list[IntArray] = []
    all_impacts: list[FloatArray] = []
    for i, name in enumerate(names):
        own = np.concatenate([d for d, _ in per_term[name]])
        df = len(np.unique(own))
        parts = per_term[name] + (inherited or {}).get(name, [])
        docs = np.concatenate([d for d, _ in parts])
        contributions = np.concatenate([c for _, c in parts])
        unique_docs, inverse = np.unique(docs, return_inverse=True)
        pseudo_tf = np.bincount(inverse, weights=contributions).astype(np.float32)
        idf = math.log(1.0 + (total_docs - df + 0.5) / (df + 0.5))
        impact = (idf * pseudo_tf * (K1 + 1) / (K1 + pseudo_tf)).astype(np.float32)
        all_docs.append(unique_docs.astype(np.int32))
        all_impacts.append(impact)
        offsets[i + 1] = offsets[i] + len(unique_docs)
    terms = {name: i for i, name in enumerate(names)}
    return terms, offsets, np.concatenate(all_docs), np.concatenate(all_impacts)


def title_sizes(rows: list[DocRow], stems: npt.NDArray[np.int32]) -> IntArray:
    """How many distinct index terms each title has (a seventh-character code's
    the title it extends), neutral words left out: a title that few terms can
    be made of the query, whatever its score."""
    sizes = np.zeros(len(rows), dtype=np.int32)
    for docnum, row in enumerate(rows):
        stem = int(stems[docnum])
        title = rows[stem].title if stem >= 0 else row.title
        sizes[docnum] = len(name_terms(title))
    return sizes


def phrase_sequences(
    rows: list[DocRow],
) -> tuple[list[str], npt.NDArray[np.int64], IntArray]:
    """Every document's descriptors as term ids in order, for phrase checks.

    Returns the terms (an id is a position in it), the offsets of each
    document's ids and the ids, each text ended by -1 so that no phrase spans
    two texts or two documents. Neutral terms are left out: "fracture of
    unspecified femur" says "fracture femur".
    """
    ids: dict[str, int] = {}
    flat: list[int] = []
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    for docnum, row in enumerate(rows):
        for text in (row.title, row.short, row.expanded):
            flat.extend(
                ids.setdefault(term, len(ids))
                for term in terms(text)
                if term not in NEUTRAL_TERMS
            )
            flat.append(-1)
        offsets[docnum + 1] = len(flat)
    return list(ids), offsets, np.asarray(flat, dtype=np.int32)


def parent_docnums(rows: list[DocRow]) -> npt.NDArray[np.int32]:
    """Each document's parent docnum in the same code system, -1 for none."""
    by_code = {(row.system, row.code): docnum for docnum, row in enumerate(rows)}
    return np.asarray(
        [by_code.get((row.system, row.parent or ""), -1) for row in rows],
        dtype=np.int32,
    )


def vocabulary_of(records: Iterable[CodeRecord]) -> dict[str, int]:
    """Folded, unstemmed words with their document frequency, for spelling."""
    counts: Counter[str] = Counter()
    for record in records:
        seen = set(words(record.title)) | set(words(record.short))
        for synonym in record.synonyms:
            seen.update(words(synonym))
        counts.update(
            w for w in seen if w.isalpha() and len(w) > 1 and w not in STOP_WORDS
        )
    return dict(counts)


def doc_rows(index: Index) -> list[DocRow]:
    """The in-memory row of every document, in docnum order."""
    with index.searcher() as searcher:
        rows: list[DocRow] = []
        for stored in searcher.reader().all_stored_fields():
            record = json.loads(stored["record"])
            rows.append(
                DocRow(
                    key=stored["key"],
                    code=record["code"],
                    system=record["system"],
                    title=record["title"],
                    short=record["short"],
                    expanded=stored.get("expanded", ""),
                    parent=record["parent"],
                    categories=tuple(filter(None, stored["category"].split(","))),
                    specialties=tuple(record["specialties"]),
                    billable=record["billable"],
                    effective=record["effective"],
                    terminated=record["terminated"],
                )
            )
    return rows


def write_columns(
    index: Index,
    directory: Path,
    records: list[CodeRecord],
    labels: dict[str, dict[str, str]],
) -> None:
    """Derive the columns from a committed Whoosh index and write them."""
    directory.mkdir(parents=True, exist_ok=True)
    rows = doc_rows(index)
    stems = extension_stems(rows)
    np.save(directory / "stems.npy", stems)
    np.save(directory / "title_sizes.npy", title_sizes(rows, stems))
    name_keys, name_docs = synonym_keys(
        records, {row.key: docnum for docnum, row in enumerate(rows)}
    )
    np.save(directory / "name_keys.npy", name_keys)
    np.save(directory / "name_docs.npy", name_docs)
    phrase_names, phrase_offsets, phrase_terms = phrase_sequences(rows)
    np.save(directory / "phrase_offsets.npy", phrase_offsets)
    np.save(directory / "phrase_terms.npy", phrase_terms)
    impact_sets = compute_impacts(index, stems, parent_docnums(rows))
    term_lists: dict[str, list[str]] = {}
    for name, (table, offsets, docs, impacts) in impact_sets.items():
        np.save(directory / f"{name}_offsets.npy", offsets)
        np.save(directory / f"{name}_docs.npy", docs)
        np.save(directory / f"{name}_impacts.npy", impacts)
        term_lists[name] = sorted(table, key=table.__getitem__)
    meta = {
        "format": FORMAT_VERSION,
        "terms": term_lists,
        "docs": [list(row.__dict__.values()) for row in rows],
        "vocabulary": vocabulary_of(records),
        "labels": labels,
        "phrase_terms": phrase_names,
    }
    with open(directory / "meta.json", "w", encoding="utf-8") as handle:
        json.dump(meta, handle, separators=(",", ":"))


def _doc_row(row: list[Any]) -> DocRow:
    key, code, system, title, short, expanded, parent = row[:7]
    billable, effective, terminated = row[9:]
    return DocRow(
        key,
        code,
        system,
        title,
        short,
        expanded,
        parent,
        tuple(row[7]),
        tuple(row[8]),
        billable,
        effective,
        terminated,
    )


def load_columns(directory: Path, impacts: str = "full") -> Columns:
    """Load the columns written by :func:`write_columns` (arrays memory-mapped).

    ``impacts`` chooses the term impacts: ``full`` (every field) or ``plain``
    (descriptors only, the evaluation baseline).
    """
    with open(directory / "meta.json", encoding="utf-8") as handle:
        meta = json.load(handle)
    if meta.get("format") != FORMAT_VERSION:
        raise ValueError(
            f"index columns in {directory} have format {meta.get('format')!r}, "
            f"expected {FORMAT_VERSION}: rebuild the index with `medcodes build`"
        )
    docs = [_doc_row(row) for row in meta["docs"]]
    names = meta["terms"][impacts]
    return Columns(
        term_names=names,
        terms={term: i for i, term in enumerate(names)},
        offsets=np.load(directory / f"{impacts}_offsets.npy", mmap_mode="r"),
        postings_docs=np.load(directory / f"{impacts}_docs.npy", mmap_mode="r"),
        postings_impacts=np.load(directory / f"{impacts}_impacts.npy", mmap_mode="r"),
        docs=docs,
        vocabulary=meta["vocabulary"],
        labels=meta["labels"],
        stems=np.load(directory / "stems.npy"),
        title_sizes=np.load(directory / "title_sizes.npy"),
        name_keys=np.load(directory / "name_keys.npy", mmap_mode="r"),
        name_docs=np.load(directory / "name_docs.npy", mmap_mode="r"),
        phrase_ids={term: i for i, term in enumerate(meta["phrase_terms"])},
        phrase_offsets=np.load(directory / "phrase_offsets.npy"),
        phrase_terms=np.load(directory / "phrase_terms.npy"),
    )
