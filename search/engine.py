"""The search engine over one built index: ranked, faceted search and code details.

Ranking order, from the relevance brief: an exact code, then a code prefix, then
an exact phrase in a descriptor, then all words, then some words; within each,
results found without spelling correction first, active codes before terminated
ones, then BM25F score, where headers weigh a little less than billable codes.
"""

from __future__ import annotations

import datetime as dt
import gc
import itertools
import json
import logging
import re
import threading
import time
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import islice, product
from pathlib import Path
from typing import TypeVar

import numpy as np
import numpy.typing as npt
from whoosh import index as whoosh_index

from corpus.rvu import rvu_summary
from indexer.abbreviations import Lexicon
from indexer.analysis import STOP_WORDS, stem, terms
from indexer.columns import Columns, descendants, load_columns
from indexer.names import NEUTRAL_TERMS, name_key, name_terms
from search.errors import CodeNotFound, IndexUnavailable, InvalidRequest, SearchTimeout
from search.facets import FacetTable, Mask
from search.highlight import highlight
from search.matching import Match, Matcher, counted_slots
from search.query import (
    MAX_READINGS,
    Alternative,
    ParsedQuery,
    Reading,
    Slot,
    clean,
    normalize_code,
    parse,
)
from search.results import (
    CodeDetail,
    CodeSuggestion,
    FacetValue,
    Hit,
    Labelled,
    MatchReason,
    SearchRequest,
    SearchResult,
)
from search.spelling import Speller

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_LIMIT = 100
MAX_OFFSET = 1000
RERANK_DEPTH = 200
WIDEN_BELOW = 10
PER_FAMILY = 2
HEADER_FACTOR = 0.85
TIME_BUDGET_S = 2.0
NEVER = np.iinfo(np.int32).max

# A title made only of the query's words (and "unspecified", the default a coder
# picks for a bare term) is the query's own code: "cataract" -> H26.9 "Unspecified
# cataract" before "Congenital cataract". A synonym made of exactly the query's
# words names its code and the code's subtree ("fx ankle" -> S82.89 "Fracture of
# ankle NOS"), a little below a title.
TITLE_BONUS = 8e6
NAME_BONUS = 7e6
PHRASE_BONUS = 5e6
EXPANDED_PHRASE_BONUS = 3.5e6  # the phrase only once abbreviations are expanded
# A title whose head (the words before its first qualifier: "Walker" in "Walker,
# rigid (pickup)", "Displacement" in "Displacement of ... catheter") holds every
# query word is about the thing asked for, not an accessory or a complication.
HEAD_BONUS = 1e6
HEAD_KINDS = frozenset({"word", "lay", "completion"})
HEAD_END = re.compile(
    r"[,;(\[]| - | (?:of|for|due to|with|without|in|used|by|from|to|following|"
    r"on|other than|except|when|at|as|after|during)\b"
)
# "post-operative" (a pair a known word may join), "covid19" (a word run into a
# number).
_HYPHENATED = re.compile(r"\b([a-z]+)-([a-z]+)\b")
_WORD_NUMBER = re.compile(r"([a-z]{3,})([0-9]+)")
MAX_NAME_COMBINATIONS = 256
# A misspelt word whose stem meets some codes is read as its nearest word when
# that word is in this many times as many codes.
COLLISION_RATIO = 3

# Rank keys are built from tiers, highest first; each tier is worth more than any
# combination of the tiers below it.
CODE_EXACT, CODE_PREFIX = 2.0, 1.0


@dataclass
class Ranked:
    """Candidate documents of a query, their rank keys and how they matched."""

    candidates: npt.NDArray[np.bool_]
    keys: npt.NDArray[np.float64]
    match: Match | None
    code_tier: npt.NDArray[np.float32]
    parsed: ParsedQuery
    corrected_query: str | None


def _days(value: str | None, default: int) -> int:
    return dt.date.fromisoformat(value).toordinal() if value else default


class Engine:
    """Search over one build directory (a Whoosh index and its columns)."""

    def __init__(self, build: Path, baseline: bool = False) -> None:
        """Open a build; ``baseline`` switches off expansion, synonyms and correction.

        The baseline is the same engine over the descriptors alone, which
        ``medcodes eval`` measures side by side with the full one.
        """
        started = time.perf_counter()
        self.build = build
        self.baseline = baseline
        try:
            self.whoosh = whoosh_index.open_dir(str(build / "whoosh"))
            impacts = "plain" if baseline else "full"
            self.columns: Columns = load_columns(build / "columns", impacts)
            self._searcher = self.whoosh.searcher()
        except Exception as error:  # any damage reads as "unusable", with the cause
            raise IndexUnavailable(
                f"the index at {build} cannot be opened ({error}); rebuild it with "
                "`medcodes build`"
            ) from error
        self.lexicon = None if baseline else Lexicon.load_default()
        self.matcher = Matcher(self.columns)
        self.speller = Speller(self.columns.vocabulary)
        docs = self.columns.docs
        self.size = len(docs)
        self.facets = FacetTable(docs, self.columns.labels)
        self.effective = np.asarray(
            [_days(d.effective, 0) for d in docs], dtype=np.int32
        )
        self.terminated = np.asarray(
            [_days(d.terminated, NEVER) for d in docs], dtype=np.int32
        )
        self.billable = np.asarray([d.billable for d in docs], dtype=bool)
        self._valid: tuple[int, Mask] | None = None
        self.header_factor = np.where(self.billable, 1.0, HEADER_FACTOR)
        self.by_code: dict[str, list[int]] = {}
        for docnum, row in enumerate(docs):
            self.by_code.setdefault(normalize_code(row.code), []).append(docnum)
        self.sorted_codes = sorted(self.by_code)
        order = sorted(range(self.size), key=lambda d: (docs[d].system, docs[d].code))
        self.browse_rank = np.empty(self.size, dtype=np.float64)
        self.browse_rank[np.asarray(order)] = np.arange(self.size, 0, -1)
        # A code's family for diversity: an ICD-10-CM subcategory (its first
        # five characters, "S82.8"); HCPCS codes are each their own.
        self.family = [
            row.code[:5] if row.system == "icd10cm" and len(row.code) > 5 else ""
            for row in docs
        ]
        # Suggestions are a glance at what the letters may mean: one family per
        # ICD-10-CM category ("B18" chronic, "B19" unspecified viral hepatitis).
        self.category_family = [
            row.code[:3] if row.system == "icd10cm" else "" for row in docs
        ]
        self.children: dict[str, list[int]] = {}
        for docnum, row in enumerate(docs):
            if row.parent:
                self.children.setdefault(f"{row.system}:{row.parent}", []).append(
                    docnum
                )
        self.parent_doc = np.full(self.size, -1, dtype=np.int32)
        for docnum, row in enumerate(docs):
            if row.parent:
                for other in self.by_code.get(normalize_code(row.parent), ()):
                    if docs[other].system == row.system:
                        self.parent_doc[docnum] = other
        self.descendants = descendants(self.parent_doc)
        # A seventh-character code is judged by the title it extends.
        stems = self.columns.stems
        self.stem_title = [
            docs[int(stems[d])].title if stems[d] >= 0 else row.title
            for d, row in enumerate(docs)
        ]
        self._whoosh_lock = threading.Lock()
        self._cache: OrderedDict[object, SearchResult] = OrderedDict()
        self._cache_lock = threading.Lock()
        # Hundreds of thousands of long-lived objects (rows, labels, tables)
        # made a full garbage collection cost 300 ms in the middle of a search;
        # they live as long as the index, so the collector stops scanning them.
        gc.freeze()
        log.info(
            "index opened: %d documents from %s in %.1f s",
            self.size,
            build,
            time.perf_counter() - started,
        )

    # -- request checks ----------------------------------------------------------

    def _check(self, request: SearchRequest) -> None:
        if not 1 <= request.limit <= MAX_LIMIT:
            raise InvalidRequest("limit", f"limit must be 1 to {MAX_LIMIT}")
        if not 0 <= request.offset <= MAX_OFFSET:
            raise InvalidRequest("offset", f"offset must be 0 to {MAX_OFFSET}")

    def valid_mask(self, as_of: dt.date) -> Mask:
        """Codes valid on a date (the last day asked is remembered)."""
        day = as_of.toordinal()
        cached = self._valid
        if cached is not None and cached[0] == day:
            return cached[1]
        mask: Mask = (self.effective <= day) & (day <= self.terminated)
        mask.flags.writeable = False
        self._valid = (day, mask)
        return mask

    # -- matching ----------------------------------------------------------------

    def code_matches(
        self, code: str, typed: str | None = None
    ) -> tuple[list[int], list[int]]:
        """Documents whose code equals ``code``, and those it is a prefix of.

        ``typed`` is the code as the user wrote it: a dot in it ("E11.6") says the
        code is dotted, which rules out undotted codes ("E1160", a HCPCS code).
        """
        exact = list(self.by_code.get(code, ()))
        prefixed: list[int] = []
        start = bisect_left(self.sorted_codes, code)
        for other in self.sorted_codes[start : start + 5000]:
            if not other.startswith(code):
                break
            if other != code:
                prefixed.extend(self.by_code[other])
        if typed and "." in typed:
            dotted = re.sub(r"[\s,-]", "", typed).upper()
            prefixed = [
                d
                for d in prefixed
                if self.columns.docs[d].code.upper().startswith(dotted)
            ]
        return exact, prefixed

    def corrections(self, parsed: ParsedQuery) -> tuple[ParsedQuery, str | None]:
        """Add spelling corrections to slots nothing satisfies, or that only a
        stem collision satisfies (see :meth:`_collides`); the new query text."""
        changed = False
        readings = []
        replaced: dict[str, str] = {}
        for reading in parsed.readings:
            slots = []
            for slot in reading.slots:
                collides = self._collides(slot.text)
                if not collides and any(
                    self.matcher.has_postings(a) for a in slot.alternatives
                ):
                    slots.append(slot)
                    continue
                if collides:
                    # What the stem meets is a guess too, below the correction.
                    slot = Slot(
                        slot.text,
                        tuple(
                            replace(a, kind="correction", weight=0.3)
                            if a.kind == "word"
                            else a
                            for a in slot.alternatives
                        ),
                    )
                extra = []
                # A run-together word first ("bedpan" is "bed pan", not "depan"),
                # unless a word one edit away is more used than either half
                # ("migrane" is migraine, not "migr ane").
                splits = self.speller.splits(slot.text) or self._number_split(slot.text)
                candidates = self.speller.candidates(slot.text)
                vocabulary = self.speller.vocabulary
                if candidates and candidates[0][1] == 1 and splits:
                    used = vocabulary[candidates[0][0]]
                    if all(used > min(vocabulary[w] for w in pair) for pair in splits):
                        splits = []
                for left, right in splits:
                    pair = f"{left} {right}"
                    terms = (stem(left), stem(right))
                    extra.append(Alternative(terms, pair, "correction", 0.6))
                    replaced.setdefault(slot.text, pair)
                for rank, (word, distance) in enumerate(candidates):
                    weight = _correction_weight(rank, distance, candidates[0][1])
                    extra.append(Alternative((stem(word),), word, "correction", weight))
                    replaced.setdefault(slot.text, word)
                if extra:
                    changed = True
                    slots.append(Slot(slot.text, (*slot.alternatives, *extra)))
                else:
                    slots.append(slot)
            readings.append(Reading(tuple(slots)))
        if not changed:
            return parsed, None
        corrected_text = " ".join(replaced.get(w, w) for w in parsed.words)
        # The query as corrected is read again, so that its abbreviations and
        # lay phrases count too ("bedside comode" -> bedside commode -> commode
        # chair); every word that was corrected stays marked as a correction.
        respelt = {replaced[w] for w in replaced}
        for reading in parse(corrected_text, self.lexicon).readings:
            if len(readings) >= 2 * MAX_READINGS:
                break
            readings.append(_as_corrections(reading, respelt))
        return (
            ParsedQuery(parsed.text, parsed.words, parsed.code, tuple(readings)),
            corrected_text,
        )

    def _number_split(self, word: str) -> list[tuple[str, str]]:
        """A known word run into a number the index has: "covid19" is covid 19."""
        found = _WORD_NUMBER.fullmatch(word)
        if found is None:
            return []
        left, right = found.groups()
        if not self.speller.is_known(left) or right not in self.columns.terms:
            return []
        return [(left, right)]

    def _collides(self, word: str) -> bool:
        """Whether a word unknown to the vocabulary meets only through its stem
        words far rarer than a word one edit away: "migrane" stems like the 10
        codes of "migrans", while "migraine" is in 83; "bunions" is no case, its
        nearest word "bunion" has the same stem."""
        if self.speller.is_known(word) or not word.isalpha():
            return False
        candidates = self.speller.candidates(word, limit=1)
        if not candidates or candidates[0][1] != 1:
            return False
        typed, nearest = stem(word), stem(candidates[0][0])
        if typed == nearest:
            return False
        typed_docs = self.matcher.alternative((typed,))
        nearest_docs = self.matcher.alternative((nearest,))
        if typed_docs is None or nearest_docs is None:
            return False
        return len(nearest_docs[0]) >= COLLISION_RATIO * len(typed_docs[0])

    def rank(self, text: str) -> Ranked:
        """Match a query and compute every document's rank key (no filters yet).

        A hyphenated pair the vocabulary knows as one word is read both ways:
        "post-operative" meets "postoperative" as well as "post operative".
        """
        parsed = parse(text, self.lexicon)
        joined = None if self.baseline else self._joined(text)
        if joined is not None:
            more = parse(joined, self.lexicon).readings[:MAX_READINGS]
            parsed = replace(parsed, readings=(*parsed.readings, *more))
        return self.rank_parsed(parsed, text)

    def _joined(self, text: str) -> str | None:
        """``text`` with each hyphenated pair that is a known word joined, or
        None when there is none."""

        def join(found: re.Match[str]) -> str:
            word = found.group(1) + found.group(2)
            return word if self.speller.is_known(word) else found.group(0)

        joined = _HYPHENATED.sub(join, text.lower())
        return joined if joined != text.lower() else None

    def rank_parsed(
        self,
        parsed: ParsedQuery,
        text: str,
        correct: bool = True,
        best_only: bool = False,
    ) -> Ranked:
        """Rank keys for readings already made (suggest widens them with prefixes).

        ``correct`` lets spelling correction step in when nothing matches every
        word; suggest has its own typo handling and switches it off, and with
        ``best_only`` asks for the best-covered documents alone.
        """
        code_tier = np.zeros(self.size, dtype=np.float32)
        if parsed.code:
            exact, prefixed = self.code_matches(parsed.code, text)
            # Shorter codes first: one level of the hierarchy at a time.
            depth = np.asarray(
                [len(self.columns.docs[d].code) for d in prefixed], dtype=np.float32
            )
            code_tier[prefixed] = CODE_PREFIX - 0.01 * depth
            code_tier[exact] = CODE_EXACT
        has_words = any(r.slots for r in parsed.readings)
        if not has_words:
            candidates = (
                code_tier > 0 if parsed.code else np.ones(self.size, dtype=bool)
            )
            keys = self.browse_rank + code_tier * 1e9
            return Ranked(candidates, keys, None, code_tier, parsed, None)

        match = self.matcher.match(parsed.readings)
        corrected_query = None
        if (
            correct
            and not self.baseline
            and (
                not (match.coverage >= 1.0).any()
                or any(self._collides(w) for w in parsed.words)
            )
        ):
            corrected, corrected_query = self.corrections(parsed)
            if corrected_query:
                parsed = corrected
                match = self.matcher.match(parsed.readings)
        if not best_only:
            first = parsed.readings[0]
            slots = [
                slot
                for slot, counts in zip(first.slots, counted_slots(first), strict=True)
                if counts
            ]
            # A word no document has ("afib w rvr") cannot be met: the floor is
            # half of the words that can.
            meetable = sum(
                any(self.matcher.has_postings(a) for a in slot.alternatives)
                for slot in slots
            )
            candidates = self._widen(match.coverage, len(slots), meetable)
            candidates = candidates | (code_tier > 0)

        # Keys only for documents that matched something (or are the code).
        if best_only:
            best = max(float(match.coverage.max()), 1e-6)
            # Nothing matched (a code typed whole, say): no candidates, not all.
            candidates = (match.coverage >= best - 1e-6) & (match.coverage > 0)
            live = np.flatnonzero(candidates)
        else:
            live = np.flatnonzero((match.coverage > 0) | (code_tier > 0))
        score = match.score[live].astype(np.float64) * self.header_factor[live]
        # Seventh-character siblings differ only in their suffix: score them
        # alike, so they keep the tabular order (initial encounter first).
        _even_out(score, self.columns.stems[live])
        coverage = match.coverage[live].astype(np.float64)
        live_keys = (
            code_tier[live].astype(np.float64) * 1e9
            + np.round(coverage * 20) * 1e6
            + (~match.corrected[live]) * 1e5
            + score
        )
        if not self.baseline:
            named = self.named(parsed)[live] & (coverage >= 1.0)
            live_keys += named * NAME_BONUS
        keys = np.full(self.size, -1e18)
        keys[live] = live_keys
        return Ranked(candidates, keys, match, code_tier, parsed, corrected_query)

    def named(self, parsed: ParsedQuery) -> Mask:
        """Documents one of whose synonyms is made of exactly the query's words
        (one alternative per slot), and the subtrees under them."""
        wanted: set[int] = set()
        for reading in parsed.readings:
            # A prefix is no word yet: it names nothing.
            options = [
                [a.terms for a in slot.alternatives if a.kind != "prefix"]
                for slot in reading.slots
            ]
            if not all(options):
                continue
            for combination in islice(product(*options), MAX_NAME_COMBINATIONS):
                wanted.add(name_key(t for terms in combination for t in terms))
        if not wanted:
            return np.zeros(self.size, dtype=bool)
        keys = np.fromiter(wanted, dtype=np.int64, count=len(wanted))
        starts = np.searchsorted(self.columns.name_keys, keys, side="left")
        ends = np.searchsorted(self.columns.name_keys, keys, side="right")
        named = np.zeros(self.size, dtype=bool)
        for start, end in zip(starts, ends, strict=True):
            named[self.columns.name_docs[start:end]] = True
        # A name given to a category names its whole subtree.
        firsts, counts, members = self.descendants
        for docnum in np.flatnonzero(named):
            first = firsts[docnum]
            named[members[first : first + counts[docnum]]] = True
        return named

    def _widen(self, coverage: npt.NDArray[np.float32], slots: int, live: int) -> Mask:
        """All words first; widen to fewer words only when that finds too little.

        Widening steps down one slot at a time until there are ``WIDEN_BELOW``
        candidates, never below half of the ``live`` slots, those some document
        can meet (one of two words).
        """
        floor = 1.0
        candidates: Mask = coverage >= floor - 1e-6
        step = 1.0 / max(slots, 1)
        # Never below one word met: a query of unknown words finds nothing.
        lowest = max(0.5 * live / max(slots, 1), step)
        while int(candidates.sum()) < WIDEN_BELOW and floor - step >= lowest - 1e-6:
            floor -= step
            candidates = coverage >= floor - 1e-6
        if not candidates.any():
            best = float(coverage.max()) if self.size else 0.0
            candidates = (coverage >= best - 1e-6) & (coverage > 0)
        return candidates

    # -- search ------------------------------------------------------------------

    def search(self, request: SearchRequest) -> SearchResult:
        """Ranked, faceted search; see the module docstring for the order."""
        started = time.perf_counter()
        self._check(request)
        text = clean(request.query)
        as_of = request.as_of or dt.date.today()
        cache_key = (request, text, as_of)
        with self._cache_lock:
            cached = self._cache.get(cache_key)
            if cached is not None:
                self._cache.move_to_end(cache_key)
                return cached

        masks = {
            name: self.facets.mask(name, values)
            for name, values in request.selections().items()
        }
        ranked = self.rank(text)
        base = ranked.candidates
        if not request.include_terminated:
            base = base & (self.valid_mask(as_of) | (ranked.code_tier >= CODE_EXACT))
        self._check_budget(started)
        facets = self.facets.count(base, masks)
        selected = base
        for mask in masks.values():
            if mask is not None:
                selected = selected & mask
        total = int(selected.sum())
        hits = self._page(ranked, selected, request, as_of)
        result = SearchResult(
            query=text,
            total=total,
            hits=hits,
            facets=self._with_selected(facets, request),
            did_you_mean=ranked.corrected_query,
            corrected=ranked.corrected_query is not None,
            took_ms=round((time.perf_counter() - started) * 1000, 2),
        )
        with self._cache_lock:
            self._cache[cache_key] = result
            if len(self._cache) > 512:
                self._cache.popitem(last=False)
        return result

    def _check_budget(self, started: float) -> None:
        if time.perf_counter() - started > TIME_BUDGET_S:
            raise SearchTimeout(
                f"the search ran past its {TIME_BUDGET_S:.0f} s budget and was stopped"
            )

    def _with_selected(
        self, facets: dict[str, tuple[FacetValue, ...]], request: SearchRequest
    ) -> dict[str, tuple[FacetValue, ...]]:
        """Keep selected values listed even when nothing matches them any more."""
        for name, values in request.selections().items():
            present = {v.value for v in facets[name]}
            missing = tuple(
                FacetValue(v, self.facets.label(name, v), 0)
                for v in values
                if v not in present
            )
            facets[name] = facets[name] + missing
        return facets

    def _page(
        self,
        ranked: Ranked,
        selected: Mask,
        request: SearchRequest,
        as_of: dt.date,
    ) -> tuple[Hit, ...]:
        active = self.valid_mask(as_of)
        ordered = self.order(ranked, selected, request.offset + request.limit, active)
        window = ordered[request.offset : request.offset + request.limit]
        return tuple(
            self._hit(docnum, key, ranked, request.explain) for key, docnum in window
        )

    def order(
        self,
        ranked: Ranked,
        selected: Mask,
        count: int,
        active: Mask | None = None,
        depth: int = RERANK_DEPTH,
        family: list[str] | None = None,
        per_family: int = PER_FAMILY,
    ) -> list[tuple[float, int]]:
        """The best ``selected`` documents as (key, docnum), in result order.

        The ``depth`` best by rank key get the bonuses that need a look at their
        text (phrase, title, head), then families are taken in turns. ``active``
        (valid on the day asked) puts valid codes first when equally relevant.
        """
        docnums = np.flatnonzero(selected)
        if len(docnums) == 0:
            return []
        keys = ranked.keys[docnums]
        if active is not None:
            keys = keys + active[docnums] * 1e4
        depth = min(len(docnums), max(depth, count))
        if depth < len(docnums):
            top = np.argpartition(-keys, depth - 1)[:depth]
            # A title short enough to be made of the query gets its look even
            # below the depth: "Heartburn" among thousands of "hea..." codes.
            short = np.flatnonzero(
                self.columns.title_sizes[docnums] <= _most_terms(ranked.parsed)
            )
            looks = max(depth // 2, 1)
            parts = [top, _best_of(short, keys, looks)]
            # Each reading of the query ("back b" as typed, and as the lay
            # phrase "back brace") gets its own best a look too.
            if ranked.match is not None and len(ranked.parsed.readings) > 1:
                readings = ranked.match.reading[docnums]
                order = np.argsort(readings, kind="stable")
                bounds = np.searchsorted(
                    readings[order], np.arange(len(ranked.parsed.readings) + 1)
                )
                for start, end in itertools.pairwise(bounds):
                    parts.append(_best_of(order[start:end], keys, looks // 2))
            top = np.unique(np.concatenate(parts))
        else:
            top = np.arange(len(docnums))
        typed, expanded = self._phrases(ranked)
        needs = _head_needs(ranked.parsed)
        query_terms = self._query_terms(ranked, strongest_guess=True) | NEUTRAL_TERMS
        prefixes = self._query_prefixes(ranked)
        complete = ranked.match.coverage if ranked.match is not None else None
        looked = docnums[top]
        has_typed = self._with_phrase(looked, typed)
        has_expanded = self._with_phrase(looked, expanded)
        boosted = []
        for i, position in enumerate(top):
            docnum = int(looked[i])
            bonus = 0.0
            if has_typed[i]:
                bonus += PHRASE_BONUS
            elif has_expanded[i]:
                bonus += EXPANDED_PHRASE_BONUS
            if complete is not None and complete[docnum] >= 1.0:
                title = _title_names(self.stem_title[docnum])
                if title and all(
                    t in query_terms or t.startswith(prefixes) for t in title
                ):
                    bonus += TITLE_BONUS
                else:
                    bonus += self._head_bonus(docnum, needs)
            boosted.append((float(keys[position]) + bonus, -docnum))
        boosted.sort(reverse=True)
        if ranked.parsed.code is None or not (ranked.code_tier > 0).any():
            families = family or self.family
            boosted = diversify(boosted, lambda item: families[-item[1]], per_family)
        return [(key, -negative) for key, negative in boosted]

    # -- phrases, hits, explanations ----------------------------------------------

    def _phrases(
        self, ranked: Ranked
    ) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
        """Term sequences that count as the query's exact phrase (two words or
        more): as typed (or a lay phrase the words stand for), and with the typed
        words' expansions ("fx rib" is "fracture rib" in "Multiple fractures of
        ribs")."""
        typed: set[tuple[str, ...]] = set()
        expanded: set[tuple[str, ...]] = set()
        base = [w for w in ranked.parsed.words if w not in STOP_WORDS]
        if len(base) >= 2:
            typed.add(tuple(stem(w) for w in base))
        for reading in ranked.parsed.readings:
            for slot in reading.slots:
                for alternative in slot.alternatives:
                    if len(alternative.terms) >= 2 and alternative.kind == "lay":
                        typed.add(alternative.terms)
            if len(reading.slots) >= 2:
                options = [
                    [
                        a.terms
                        for a in slot.alternatives
                        if a.kind not in ("correction", "prefix")
                    ]
                    for slot in reading.slots
                ]
                for combination in islice(product(*options), MAX_NAME_COMBINATIONS):
                    expanded.add(tuple(t for terms in combination for t in terms))
        # A phrase with a word no document has (a word still being typed)
        # matches nothing: leave it out before looking at any text.
        known = self.columns.terms

        def possible(phrases: set[tuple[str, ...]]) -> list[tuple[str, ...]]:
            return sorted(p for p in phrases if all(t in known for t in p))

        return possible(typed), possible(expanded - typed)

    def _head_bonus(self, docnum: int, needs: list[list[HeadNeed]]) -> float:
        """``HEAD_BONUS`` when the title's head has every slot of some reading of
        the query (see :func:`_head_needs`), less when the head's last word, the
        thing it names, is not one of them: "Axillary crutch extension" is an
        extension, "Crutches, forearm" are crutches."""
        head, present, spaced = _head_terms(self.stem_title[docnum])
        if not head:
            return 0.0
        last = head[-1]
        best = 0.0
        for reading in needs:
            named = False
            for words, phrases, begins in reading:
                if not words.isdisjoint(present):
                    named = named or last in words
                elif any(terms <= present for terms in phrases):
                    named = named or any(last in terms for terms in phrases)
                elif begins and any(" " + b in spaced for b in begins):
                    named = named or last.startswith(begins)
                else:
                    break
            else:
                best = max(best, HEAD_BONUS if named else HEAD_BONUS * 0.5)
        return best

    def _with_phrase(
        self, docnums: npt.NDArray[np.intp], phrases: list[tuple[str, ...]]
    ) -> npt.NDArray[np.bool_]:
        """Which of ``docnums`` say one of ``phrases``, its terms in a row, in
        a descriptor: one sweep over the documents' term sequences per phrase."""
        found = np.zeros(len(docnums), dtype=bool)
        if not phrases or len(docnums) == 0:
            return found
        columns = self.columns
        starts = columns.phrase_offsets[docnums]
        lengths = columns.phrase_offsets[docnums + 1] - starts
        bounds = np.concatenate(([0], np.cumsum(lengths)))
        gather = np.arange(bounds[-1]) + np.repeat(starts - bounds[:-1], lengths)
        sequence = columns.phrase_terms[gather]
        for phrase in phrases:
            ids = [columns.phrase_ids.get(term, -2) for term in phrase]
            windows = len(sequence) - len(ids) + 1
            if -2 in ids or windows <= 0:
                continue
            # Every text ends with -1, so no window runs from one into the next.
            hit = sequence[:windows] == ids[0]
            for k in range(1, len(ids)):
                hit &= sequence[k : windows + k] == ids[k]
            where = np.flatnonzero(hit)
            found[np.searchsorted(bounds, where, side="right") - 1] = True
        return found

    def _labelled(self, facet: str, values: tuple[str, ...]) -> tuple[Labelled, ...]:
        return tuple(Labelled(v, self.facets.label(facet, v)) for v in values)

    def _hit(self, docnum: int, key: float, ranked: Ranked, explain: bool) -> Hit:
        row = self.columns.docs[docnum]
        categories = self._labelled("category", row.categories)
        matched_terms = self._query_terms(ranked)
        match_kind = self._match_kind(docnum, ranked)
        return Hit(
            code=row.code,
            system=row.system,
            title=row.title,
            short=row.short,
            category=categories[-1] if categories else None,
            categories=categories,
            specialties=self._labelled("specialty", row.specialties),
            billable=row.billable,
            terminated=row.terminated,
            replaced_by=self._replaced_by(docnum) if row.terminated else None,
            score=round(float(ranked.match.score[docnum]), 4) if ranked.match else 0.0,
            match=match_kind,
            highlight={
                "title": highlight(row.title, matched_terms),
                "short": highlight(row.short, matched_terms),
            },
            explain=self._explain(docnum, ranked) if explain else (),
        )

    def _replaced_by(self, docnum: int) -> str | None:
        attributes = self.record_data(docnum).get("attributes")
        if isinstance(attributes, dict):
            value = attributes.get("replaced_by")
            return str(value) if value else None
        return None

    def _query_terms(self, ranked: Ranked, strongest_guess: bool = False) -> set[str]:
        """The terms the query's alternatives stand for, prefixes left out.

        With ``strongest_guess``, each slot's weaker spelling guesses are left
        out too: the terms a title may be made of to count as named by the
        query, so that "osteoperosis" names "Osteoporosis" and not the rarer
        "Osteopetrosis"."""
        found: set[str] = set()
        for reading in ranked.parsed.readings:
            for slot in reading.slots:
                guesses = [
                    a.weight for a in slot.alternatives if a.kind == "correction"
                ]
                floor = max(guesses, default=0.0) if strongest_guess else 0.0
                for alternative in slot.alternatives:
                    if alternative.kind == "prefix" or (
                        alternative.kind == "correction" and alternative.weight < floor
                    ):
                        continue
                    found.update(alternative.terms)
        return found

    def _query_prefixes(self, ranked: Ranked) -> tuple[str, ...]:
        """The beginnings of words still being typed (suggest's last word)."""
        return tuple(
            alternative.terms[0]
            for reading in ranked.parsed.readings
            for slot in reading.slots
            for alternative in slot.alternatives
            if alternative.kind == "prefix"
        )

    def _match_kind(self, docnum: int, ranked: Ranked) -> str:
        tier = ranked.code_tier[docnum]
        if tier >= CODE_EXACT:
            return "code"
        if tier > 0:
            return "code prefix"
        if ranked.match is None:
            return "browse"
        if ranked.match.corrected[docnum]:
            return "corrected"
        if ranked.match.coverage[docnum] >= 1.0:
            return "all words"
        return "some words"

    def _explain(self, docnum: int, ranked: Ranked) -> tuple[MatchReason, ...]:
        if ranked.match is None:
            return ()
        reading = ranked.parsed.readings[int(ranked.match.reading[docnum])]
        record = self.record_data(docnum)
        row = self.columns.docs[docnum]
        synonyms = record.get("synonyms", [])
        context = record.get("context", [])
        fields = {
            "title": set(_terms_of(row.title)),
            "short": set(_terms_of(row.short)),
            "expanded": set(_terms_of(row.expanded)),
            "synonyms": {t for s in _strings(synonyms) for t in _terms_of(s)},
            "context": {t for s in _strings(context) for t in _terms_of(s)},
        }
        reasons = []
        for slot in reading.slots:
            for alternative in slot.alternatives:
                found = self.matcher.alternative(alternative.terms)
                if found is None:
                    continue
                position = np.searchsorted(found[0], docnum)
                if position < len(found[0]) and found[0][position] == docnum:
                    where = tuple(
                        name
                        for name, present in fields.items()
                        if set(alternative.terms) <= present
                    )
                    reasons.append(
                        MatchReason(
                            slot.text, alternative.label, alternative.kind, where
                        )
                    )
        return tuple(reasons)

    # -- records -----------------------------------------------------------------

    def record_data(self, docnum: int) -> dict[str, object]:
        """The full stored record of a document."""
        with self._whoosh_lock:
            stored = self._searcher.stored_fields(docnum)
        data: dict[str, object] = json.loads(stored["record"])
        return data

    def find(self, code: str, system: str | None = None) -> int:
        """The docnum of a code (any format), optionally in one system."""
        for docnum in self.by_code.get(normalize_code(code), ()):
            if system is None or self.columns.docs[docnum].system == system:
                return docnum
        where = f" in {system}" if system else ""
        raise CodeNotFound(f"no code {code!r}{where} in the index")

    def detail(self, code: str, system: str | None = None) -> CodeDetail:
        """Every field of a code, its parent and children, labels and RVUs."""
        docnum = self.find(code, system)
        row = self.columns.docs[docnum]
        record = self.record_data(docnum)
        parent = None
        if row.parent:
            for other in self.by_code.get(normalize_code(row.parent), ()):
                if self.columns.docs[other].system == row.system:
                    parent = self._suggestion(other)
        children = tuple(
            self._suggestion(d)
            for d in self.children.get(f"{row.system}:{row.code}", ())
        )
        attributes = record.get("attributes", {})
        rvu = rvu_summary(
            row.system, attributes if isinstance(attributes, dict) else {}
        )
        return CodeDetail(
            record=record,
            parent=parent,
            children=children,
            categories=self._labelled("category", row.categories),
            specialties=self._labelled("specialty", row.specialties),
            rvu=rvu,
        )

    def _suggestion(self, docnum: int) -> CodeSuggestion:
        row = self.columns.docs[docnum]
        return CodeSuggestion(row.code, row.system, row.title)

    def all_facets(self) -> dict[str, tuple[FacetValue, ...]]:
        """Every facet value with its count over the whole index."""
        return self.facets.count(np.ones(self.size, dtype=bool), {})

    def close(self) -> None:
        """Release the Whoosh searcher."""
        self._searcher.close()


def _strings(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def diversify(
    items: list[T], family: Callable[[T], str], per_family: int = PER_FAMILY
) -> list[T]:
    """Reorder ranked items so no family fills the top: at most ``per_family``
    of a family before every other family has had its turn at that depth.

    ICD-10-CM lists many near-twins (right, left, unspecified; initial encounter,
    subsequent, sequela): without this, "fx ankle" shows ten stress fractures
    and no other kind. Order within a family, and between families, is kept.
    """
    placed: list[T] = []
    deferred: list[T] = []
    seen: dict[str, int] = {}
    for item in items:
        key = family(item)
        if not key or seen.get(key, 0) < per_family:
            seen[key] = seen.get(key, 0) + 1
            placed.append(item)
        else:
            deferred.append(item)
    return placed + deferred


@lru_cache(maxsize=100_000)
def _terms_of(text: str) -> tuple[str, ...]:
    return tuple(terms(text))


# What one slot needs of a title's head: one of these term sets, or a term
# beginning with one of these prefixes.
# Per slot: the one-word alternatives, the longer ones, and the prefixes typed.
HeadNeed = tuple[frozenset[str], tuple[frozenset[str], ...], tuple[str, ...]]


def _head_needs(parsed: ParsedQuery) -> list[list[HeadNeed]]:
    """Per reading and slot, what a head must hold: the words as typed, their
    lay phrases or completions (an abbreviation's guess does not make a head)."""
    needs = []
    for reading in parsed.readings:
        if not reading.slots:
            continue
        slots = []
        for slot in reading.slots:
            kept = [a.terms for a in slot.alternatives if a.kind in HEAD_KINDS]
            slots.append(
                (
                    frozenset(t[0] for t in kept if len(t) == 1),
                    tuple(frozenset(t) for t in kept if len(t) > 1),
                    tuple(a.terms[0] for a in slot.alternatives if a.kind == "prefix"),
                )
            )
        needs.append(slots)
    return needs


def _best_of(
    positions: npt.NDArray[np.intp], keys: npt.NDArray[np.float64], count: int
) -> npt.NDArray[np.intp]:
    """The ``count`` positions with the highest keys."""
    if count <= 0 or len(positions) <= count:
        return positions
    return positions[np.argpartition(-keys[positions], count - 1)[:count]]


def _correction_weight(rank: int, distance: int, best_distance: int) -> float:
    """How much a spelling candidate counts: the best one (nearest, then most
    used) most, so that "migrane" finds migraine before the rarer migrans."""
    weight = 0.6 if distance == 1 else 0.45
    if rank == 0:
        return weight
    return weight * (0.5 if distance == best_distance else 0.3)


def _as_corrections(reading: Reading, respelt: set[str]) -> Reading:
    """A reading of the corrected query: any slot holding a respelt word counts
    only as a correction."""
    slots = []
    for slot in reading.slots:
        if respelt.isdisjoint(slot.text.split()) and slot.text not in respelt:
            slots.append(slot)
            continue
        alternatives = tuple(
            Alternative(a.terms, a.label, "correction", a.weight * 0.6)
            for a in slot.alternatives
        )
        slots.append(Slot(slot.text, alternatives))
    return Reading(tuple(slots))


def _most_terms(parsed: ParsedQuery) -> int:
    """The most index terms a title made of the query can have."""
    return max(
        (
            sum(max(len(a.terms) for a in slot.alternatives) for slot in r.slots)
            for r in parsed.readings
            if all(slot.alternatives for slot in r.slots)
        ),
        default=0,
    )


def _even_out(score: npt.NDArray[np.float64], stems: npt.NDArray[np.int32]) -> None:
    """Give documents that extend the same code (``stems``, -1 for none) the
    best score among them, in place."""
    extended = np.flatnonzero(stems >= 0)
    if len(extended) < 2:
        return
    order = extended[np.argsort(stems[extended], kind="stable")]
    groups = stems[order]
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    best = np.maximum.reduceat(score[order], starts)
    score[order] = np.repeat(best, np.diff(np.r_[starts, len(order)]))


@lru_cache(maxsize=100_000)
def _title_names(title: str) -> frozenset[str]:
    return name_terms(title)


@lru_cache(maxsize=100_000)
def _head_terms(title: str) -> tuple[tuple[str, ...], frozenset[str], str]:
    """A title's head as terms, as a set, and as one string with a space before
    each term (a term begins with ``p`` where the string holds " " + p)."""
    found = HEAD_END.search(title.lower())
    head = tuple(terms(title[: found.start()] if found else title))
    return head, frozenset(head), "".join(" " + t for t in head)


def validate_as_of(value: str | None) -> dt.date | None:
    """Parse an ``as_of`` date (YYYY-MM-DD)."""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidRequest(
            "as_of", f"as_of must be a date as YYYY-MM-DD, not {value!r}"
        ) from None
