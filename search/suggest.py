"""Suggestions while typing: word completions and the best codes so far.

The word being typed is a prefix; the words before it may sit anywhere in a
descriptor, in any order, and a word that is not (yet) a whole indexed word is
taken as a prefix too, so "bone sc", "sc bone" and "rsn bone" all reach M1427.
Everything is answered from memory: the vocabulary sorted for prefix ranges, and
the same postings, expansions and code table as search.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

import numpy as np

from indexer.analysis import STOP_WORDS, stem, words
from search.engine import CODE_EXACT, CODE_PREFIX, HEADER_FACTOR, Engine
from search.errors import InvalidRequest
from search.query import Alternative, Reading, Slot, clean, normalize_code, parse
from search.results import CodeSuggestion, Suggestions
from search.spelling import MIN_WORD

MAX_LIMIT = 20
PREFIX_FANOUT = 12
CACHE_SIZE = 4096


class Suggester:
    """Answers keystrokes for one engine, with a small cache of recent inputs."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._cache: OrderedDict[tuple[str, int], Suggestions] = OrderedDict()
        self._lock = threading.Lock()

    def suggest(self, text: str, limit: int = 8) -> Suggestions:
        """Completions and codes for what is typed so far."""
        started = time.perf_counter()
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidRequest("limit", f"limit must be 1 to {MAX_LIMIT}")
        raw_end_space = text[-1:].isspace()
        text = clean(text)
        key = (text + (" " if raw_end_space else ""), limit)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        result = self._suggest(text, raw_end_space, limit)
        result = Suggestions(
            result.query,
            result.completions,
            result.codes,
            round((time.perf_counter() - started) * 1000, 3),
        )
        with self._lock:
            self._cache[key] = result
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return result

    def _prefix_alternatives(self, prefix: str) -> list[Alternative]:
        speller = self.engine.speller
        found = speller.completions(prefix, PREFIX_FANOUT)
        if not found and len(prefix) >= MIN_WORD:
            for variant in speller.fuzzy_prefixes(prefix):
                found.extend(speller.completions(variant, 4))
        return [Alternative((stem(w),), w, "prefix") for w in dict.fromkeys(found)]

    def _slot(self, slot: Slot, as_prefix: bool) -> Slot:
        """Widen a parsed slot with prefix completions of the typed word."""
        matcher = self.engine.matcher
        known = any(matcher.has_postings(a) for a in slot.alternatives)
        if as_prefix or not known:
            extra = self._prefix_alternatives(slot.text) if " " not in slot.text else []
            if not extra and not known and len(slot.text) >= MIN_WORD:
                extra = [
                    Alternative((stem(w),), w, "correction", 0.6)
                    for w, _ in self.engine.speller.candidates(slot.text)
                ]
            return Slot(slot.text, (*slot.alternatives, *extra))
        return slot

    def _suggest(self, text: str, ends_with_space: bool, limit: int) -> Suggestions:
        engine = self.engine
        typed = words(text)
        if not typed:
            return Suggestions(text, (), ())

        code_docs: list[int] = []
        if len(typed) == 1 and not ends_with_space:
            code = normalize_code(text)
            exact, prefixed = engine.code_matches(code)
            ordered = sorted(prefixed, key=lambda d: engine.columns.docs[d].code)
            code_docs = exact + ordered

        parsed = parse(text, engine.lexicon)
        readings = []
        for reading in parsed.readings:
            slots = list(reading.slots)
            for i, slot in enumerate(slots):
                is_last = i == len(slots) - 1 and not ends_with_space
                slots[i] = self._slot(slot, as_prefix=is_last)
            readings.append(Reading(tuple(slots)))
        if not any(r.slots for r in readings):
            return Suggestions(text, (), self._codes(code_docs[:limit]))

        match = engine.matcher.match(tuple(readings))
        factor = np.where(engine.billable, 1.0, HEADER_FACTOR)
        keys = match.coverage.astype(np.float64) * 1e6 + match.score * factor
        keys[match.coverage < max(float(match.coverage.max()), 1e-6)] = -1.0
        tier = np.zeros(engine.size)
        tier[code_docs] = CODE_PREFIX
        if code_docs:
            tier[code_docs[0]] = CODE_EXACT if normalize_code(
                engine.columns.docs[code_docs[0]].code
            ) == normalize_code(text) else CODE_PREFIX
        keys = keys + tier * 1e9
        depth = min(limit, engine.size)
        top = np.argpartition(-keys, depth - 1)[:depth]
        ordered_top = [int(d) for d in top[np.argsort(-keys[top], kind="stable")]]
        chosen = [d for d in ordered_top if keys[d] > 0]
        if code_docs:
            chosen = list(dict.fromkeys(code_docs[:limit] + chosen))[:limit]
        completions = self._completions(typed, readings, ends_with_space, limit)
        return Suggestions(text, completions, self._codes(chosen))

    def _completions(
        self,
        typed: list[str],
        readings: list[Reading],
        ends_with_space: bool,
        limit: int,
    ) -> tuple[str, ...]:
        """Phrases to type next: earlier words plus the completions of the last."""
        if ends_with_space or not readings[0].slots:
            return ()
        last = readings[0].slots[-1]
        options = [a for a in last.alternatives if a.kind in ("prefix", "correction")]
        if not options:
            return ()
        head = [w for w in typed[:-1]]
        earlier = Reading(readings[0].slots[:-1])
        scope = None
        if earlier.slots:
            scope = self.engine.matcher.match_reading(earlier).coverage >= 1.0
        ranked: list[tuple[int, str]] = []
        for option in options:
            found = self.engine.matcher.alternative(option.terms)
            if found is None:
                continue
            count = int(scope[found[0]].sum()) if scope is not None else len(found[0])
            if count:
                ranked.append((count, option.label))
        ranked.sort(key=lambda pair: -pair[0])
        prefix = " ".join(w for w in head if w not in STOP_WORDS or w in head)
        return tuple(
            f"{prefix} {label}".strip() for _, label in ranked[:limit]
        )

    def _codes(self, docnums: list[int]) -> tuple[CodeSuggestion, ...]:
        docs = self.engine.columns.docs
        return tuple(
            CodeSuggestion(docs[d].code, docs[d].system, docs[d].title) for d in docnums
        )
