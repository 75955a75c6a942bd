"""Matching readings against the in-memory postings: coverage and BM25F score.

For every document the matcher works out how many of a reading's slots it
satisfies (its *coverage*), the summed impact of the best alternative per slot
(its *score*), and whether any slot was satisfied only through a spelling
correction. All of it is dense arithmetic over one array per quantity, which is
what makes totals and facet counts exact and cheap on every query.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from indexer.columns import Columns
from search.query import Alternative, Reading, Slot

Floats = npt.NDArray[np.float32]
Ints = npt.NDArray[np.int32]

CACHE_SIZE = 4096
# Dense outcomes of recent slots (about 0.5 MB each).
SLOT_CACHE_SIZE = 24
# Below this many postings, a prefix's documents are summed by sorting.
SPARSE_PREFIX_POSTINGS = 20_000
PINNED_PREFIXES = "abcdefghijklmnopqrstuvwxyz0123456789"
# Words that join the others rather than name something.
CONNECTORS = frozenset({"with", "w"})


# A slot's best impact per document, and where an alternative that is not a
# spelling correction met it (None: no correction among the alternatives).
SlotOutcome = tuple[Floats, npt.NDArray[np.bool_] | None]


@dataclass
class Match:
    """Per-document outcome of matching a query (arrays of the index's size)."""

    coverage: Floats  # share of slots satisfied, 0..1
    score: Floats
    corrected: npt.NDArray[np.bool_]  # some slot met only through a correction
    reading: npt.NDArray[np.int8]  # which reading gave the best outcome


class Matcher:
    """Scores readings over one index's postings, caching alternatives' postings."""

    def __init__(self, columns: Columns) -> None:
        self.columns = columns
        self.size = len(columns.docs)
        self._cache: OrderedDict[tuple[str, ...], tuple[Ints, Floats] | None] = (
            OrderedDict()
        )
        self._lock = threading.Lock()
        self._slots: OrderedDict[Slot, SlotOutcome] = OrderedDict()
        self._none = np.zeros(self.size, dtype=bool)
        # One-letter prefixes span a twentieth of all postings each; reduce them
        # once, up front, instead of on the keystroke that needs them.
        self._pinned: dict[str, tuple[Ints, Floats] | None] = {
            letter: self._reduce_prefix(letter) for letter in PINNED_PREFIXES
        }

    def alternative(self, terms: tuple[str, ...]) -> tuple[Ints, Floats] | None:
        """Documents containing all ``terms``, with the summed impacts."""
        with self._lock:
            if terms in self._cache:
                self._cache.move_to_end(terms)
                return self._cache[terms]
        result = self._intersect(terms)
        with self._lock:
            self._cache[terms] = result
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return result

    def _intersect(self, terms: tuple[str, ...]) -> tuple[Ints, Floats] | None:
        lists = []
        for term in dict.fromkeys(terms):
            postings = self.columns.postings(term)
            if postings is None:
                return None
            lists.append(postings)
        lists.sort(key=lambda p: len(p[0]))
        docs, impacts = np.asarray(lists[0][0]), np.asarray(lists[0][1])
        for other_docs, other_impacts in lists[1:]:
            docs, mine, theirs = np.intersect1d(
                docs, other_docs, assume_unique=True, return_indices=True
            )
            impacts = impacts[mine] + np.asarray(other_impacts)[theirs]
            if len(docs) == 0:
                break
        return docs.astype(np.int32), impacts.astype(np.float32)

    def prefix(self, prefix: str) -> tuple[Ints, Floats] | None:
        """Documents with any index term starting with ``prefix``, impacts summed.

        One contiguous slice of the postings, reduced with a single ``bincount``.
        """
        if prefix in self._pinned:
            return self._pinned[prefix]
        key = ("\x00prefix", prefix)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        result = self._reduce_prefix(prefix)
        with self._lock:
            self._cache[key] = result
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return result

    def _reduce_prefix(self, prefix: str) -> tuple[Ints, Floats] | None:
        start, end = self.columns.term_range(prefix)
        if end <= start:
            return None
        docs, impacts = self.columns.postings_slice(start, end)
        if len(docs) < SPARSE_PREFIX_POSTINGS:
            # Few postings: sort them rather than sweep an index-sized array.
            hits, inverse = np.unique(docs, return_inverse=True)
            summed = np.bincount(inverse, weights=impacts)
            return hits.astype(np.int32), summed.astype(np.float32)
        dense = np.bincount(docs, weights=impacts, minlength=self.size)
        hits = np.flatnonzero(dense).astype(np.int32)
        return hits, dense[hits].astype(np.float32)

    def found(self, alternative: Alternative) -> tuple[Ints, Floats] | None:
        """The documents satisfying an alternative, with its impact in each."""
        if alternative.kind == "prefix":
            return self.prefix(alternative.terms[0])
        return self.alternative(alternative.terms)

    def has_postings(self, alternative: Alternative) -> bool:
        """Whether any document satisfies this alternative."""
        found = self.found(alternative)
        return found is not None and len(found[0]) > 0

    def match_reading(
        self,
        reading: Reading,
        memo: dict[Slot, SlotOutcome] | None = None,
    ) -> Match:
        """Coverage, score and correction flags of one reading for every document.

        ``memo`` keeps each slot's outcome for the other readings of the same
        query, which share most of their slots.
        """
        outcomes = []
        for slot in reading.slots:
            known = memo.get(slot) if memo is not None else None
            if known is None:
                known = self._match_slot(slot)
                if memo is not None:
                    memo[slot] = known
            outcomes.append(known)
        if len(outcomes) == 1:  # the common case while typing: no sums to make
            best, exact = outcomes[0]
            hit = best > 0
            return Match(
                coverage=hit.astype(np.float32),
                score=best.copy(),
                corrected=hit & ~exact if exact is not None else self._none.copy(),
                reading=np.zeros(self.size, dtype=np.int8),
            )
        satisfied = np.zeros(self.size, dtype=np.float32)
        score = np.zeros(self.size, dtype=np.float32)
        corrected = self._none.copy()
        hit = np.empty(self.size, dtype=bool)
        # A connecting "with" adds to the score but is not a word a code must
        # have ("problems with sleep" is a sleep disorder), unless it is all.
        counted = counted_slots(reading)
        for (best, exact), counts in zip(outcomes, counted, strict=True):
            np.greater(best, 0, out=hit)
            if counts:
                satisfied += hit
            score += best
            if exact is not None:
                corrected |= hit & ~exact
        np.divide(satisfied, max(sum(counted), 1), out=satisfied)
        return Match(
            coverage=satisfied,
            score=score,
            corrected=corrected,
            reading=np.zeros(self.size, dtype=np.int8),
        )

    def _match_slot(self, slot: Slot) -> SlotOutcome:
        """A slot's best weighted impact per document, and where a non-correction
        alternative met it (None when every alternative is one: wherever the
        slot is met).

        The last few are kept: while a query is typed its earlier words come
        back with every keystroke.
        """
        with self._lock:
            kept = self._slots.get(slot)
            if kept is not None:
                self._slots.move_to_end(slot)
                return kept
        best = np.zeros(self.size, dtype=np.float32)
        corrections = any(a.kind == "correction" for a in slot.alternatives)
        exact = np.zeros(self.size, dtype=bool) if corrections else None
        for alternative in slot.alternatives:
            found = self.found(alternative)
            if found is None or len(found[0]) == 0:
                continue
            docs, impacts = found
            weighted = impacts * alternative.weight
            current = best[docs]
            better = weighted > current
            best[docs[better]] = weighted[better]
            if exact is not None and alternative.kind != "correction":
                exact[docs] = True
        best.flags.writeable = False
        if exact is not None:
            exact.flags.writeable = False
        with self._lock:
            self._slots[slot] = (best, exact)
            if len(self._slots) > SLOT_CACHE_SIZE:
                self._slots.popitem(last=False)
        return best, exact

    def match(self, readings: tuple[Reading, ...]) -> Match:
        """The best reading per document."""
        memo: dict[Slot, SlotOutcome] = {}
        best = self.match_reading(readings[0], memo)
        for number, reading in enumerate(readings[1:], start=1):
            other = self.match_reading(reading, memo)
            better = np.flatnonzero(
                (other.coverage > best.coverage)
                | ((other.coverage == best.coverage) & (other.score > best.score))
            )
            best.coverage[better] = other.coverage[better]
            best.score[better] = other.score[better]
            best.corrected[better] = other.corrected[better]
            best.reading[better] = number
        return best


def counted_slots(reading: Reading) -> list[bool]:
    """Which slots of a reading count toward its coverage: all but connecting
    words, unless the reading is nothing else."""
    counted = [slot.text not in CONNECTORS for slot in reading.slots]
    return counted if any(counted) else [True] * len(counted)
