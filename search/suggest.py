"""Suggestions while typing: word completions and the best codes so far.

The word being typed is a prefix; the words before it may sit anywhere in a
descriptor, in any order, and a word that is not (yet) a whole indexed word is
taken as a prefix too, so "bone sc", "sc bone" and "rsn bone" all reach M1427.
Everything is answered from memory: the vocabulary sorted for prefix ranges, and
the same postings, expansions and code table as search.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import threading
import time
from bisect import bisect_left
from collections import OrderedDict
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from indexer.analysis import STOP_WORDS, stem, words
from indexer.columns import Columns
from search.engine import Engine
from search.errors import InvalidRequest
from search.query import (
    Alternative,
    ParsedQuery,
    Reading,
    Slot,
    clean,
    normalize_code,
    parse,
)
from search.results import CodeSuggestion, Suggestions
from search.spelling import MIN_WORD

log = logging.getLogger(__name__)

MAX_LIMIT = 20
FUZZY_FANOUT = 8
COMPLETED_FANOUT = 6
PER_CATEGORY = 2
KNOWN_WORD_PREFIX = 0.7
MIN_SHORTHAND_PREFIX = 2
SHORTHAND_FANOUT = 3
LETTERS = "abcdefghijklmnopqrstuvwxyz"
FIRST_KEYSTROKES = LETTERS + "0123456789"
RERANK_DEPTH = 40
MIN_PHRASE_PREFIX = 2
MAX_PHRASE_READINGS = 3
VOCABULARY_FANOUT = 16
COMPLETION_DEPTH = 12
CACHE_SIZE = 4096
SCOPE_CACHE_SIZE = 32


class Suggester:
    """Answers keystrokes for one engine, with a small cache of recent inputs."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._cache: OrderedDict[tuple[str, int], Suggestions] = OrderedDict()
        self._doc_words: dict[int, frozenset[str]] = {}
        lexicon = engine.lexicon
        self._phrases = sorted(
            " ".join(key) for key in (lexicon.phrase_keys() if lexicon else [])
        )
        self._shorthand = sorted(lexicon.reviewed_words() if lexicon else [])
        self._lock = threading.Lock()
        self._scopes: OrderedDict[tuple[Slot, ...], npt.NDArray[np.bool_]] = (
            OrderedDict()
        )
        # The first keystrokes have the most candidates and the least to go on:
        # answer every single character, and every two letters, from a table
        # made once, up front (about 700 inputs, 2 s).
        started = time.perf_counter()
        self._first_keystroke = {
            text: self._suggest(text, False, MAX_LIMIT)
            for text in (
                *FIRST_KEYSTROKES,
                *(a + b for a in LETTERS for b in LETTERS),
            )
        }
        gc.freeze()  # long-lived, like the engine's tables
        log.info(
            "suggest tables for %d first keystrokes made in %.1f s",
            len(self._first_keystroke),
            time.perf_counter() - started,
        )

    def suggest(self, text: str, limit: int = 8) -> Suggestions:
        """Completions and codes for what is typed so far."""
        started = time.perf_counter()
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidRequest("limit", f"limit must be 1 to {MAX_LIMIT}")
        raw_end_space = text[-1:].isspace()
        text = clean(text)
        first = self._first_keystroke.get(text.lower())
        if first is not None and not raw_end_space:
            return Suggestions(
                text,
                first.completions[:limit],
                first.codes[:limit],
                round((time.perf_counter() - started) * 1000, 3),
            )
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
        """Alternatives for a word being typed: every index term it begins.

        Index terms are stems, often shorter than the word ("cellulitis" is
        "cellul"), so the typed letters are also completed to the most used
        words they begin and those words' stems taken ("cellulit" -> cellul).
        A word of four letters or more that begins nothing is read with one
        typo ("pnue" -> "pneu").
        """
        columns = self.engine.columns
        # Not the stem as a prefix: "hepatitis" is "hepat", which begins
        # hepatic and hepatoma too; the completions below give its stem whole.
        found = [prefix] if _begins_a_term(columns, prefix) else []
        completed = self._completed(prefix, found, 1.0)
        shorthand = self._shorthand_completions(prefix)
        if found or completed:
            return [
                *(Alternative((p,), p, "prefix") for p in found),
                *completed,
                *shorthand,
            ]
        if shorthand:
            return shorthand
        # A code ("a4253") is no misspelt word: read with a typo, it only finds
        # unrelated codes.
        if len(prefix) < MIN_WORD or any(c.isdigit() for c in prefix):
            return []
        alternatives: list[Alternative] = []
        for variant in self.engine.speller.fuzzy_prefixes(prefix):
            if _begins_a_term(columns, variant):
                alternatives.append(Alternative((variant,), variant, "prefix", 0.6))
            else:
                alternatives.extend(self._completed(variant, [], 0.6))
            if len(alternatives) >= FUZZY_FANOUT:
                break
        return alternatives

    def _completed(
        self, prefix: str, covered: list[str], weight: float
    ) -> list[Alternative]:
        """The stems of the most used words ``prefix`` begins, where no prefix in
        ``covered`` reaches them already."""
        terms = self.engine.columns.terms
        found: dict[str, str] = {}
        for word in self.engine.speller.completions(prefix, COMPLETED_FANOUT):
            term = stem(word)
            if term in terms and not term.startswith(tuple(covered)):
                found.setdefault(term, word)
        return [
            Alternative((term,), word, "completion", weight)
            for term, word in found.items()
        ]

    def _shorthand_completions(self, prefix: str) -> list[Alternative]:
        """The readings of reviewed shorthand the typed letters begin ("cv" -> cva)."""
        lexicon = self.engine.lexicon
        if lexicon is None or len(prefix) < MIN_SHORTHAND_PREFIX:
            return []
        start = bisect_left(self._shorthand, prefix)
        keys = []
        for key in self._shorthand[start : start + SHORTHAND_FANOUT * 4]:
            if not key.startswith(prefix):
                break
            if key != prefix:
                keys.append(key)
        alternatives = []
        for key in sorted(keys, key=len)[:SHORTHAND_FANOUT]:
            for reading in lexicon.readings((key,)):
                if reading.source == "mined":
                    continue
                terms = tuple(stem(w) for w in reading.words if w not in STOP_WORDS)
                if terms:
                    alternatives.append(Alternative(terms, key, "expansion", 0.9))
        return alternatives

    def _slot(self, slot: Slot, as_prefix: bool) -> Slot:
        """Widen a parsed slot with prefix completions of the typed word."""
        matcher = self.engine.matcher
        known = any(matcher.has_postings(a) for a in slot.alternatives)
        # Every word may still be a prefix ("sc bone"); the last one surely is.
        if (
            as_prefix or not known or len(slot.text) < MIN_WORD
        ) and " " not in slot.text:
            extra = self._prefix_alternatives(slot.text)
            if known:
                # A whole word as typed ("c" in "hepatitis c") outranks the words
                # it merely begins.
                extra = [
                    replace(a, weight=a.weight * KNOWN_WORD_PREFIX)
                    if a.kind == "prefix"
                    else a
                    for a in extra
                ]
            return Slot(slot.text, (*slot.alternatives, *extra))
        return slot

    def _suggest(self, text: str, ends_with_space: bool, limit: int) -> Suggestions:
        engine = self.engine
        typed = words(text)
        if not typed:
            return Suggestions(text, (), ())

        parsed = parse(text, engine.lexicon)
        code_docs: list[int] = []
        # A code as typed so far, in any of the forms search reads ("n18 6",
        # "l 1832", "f32..a"); one word is always worth a look as a prefix.
        code = parsed.code or (normalize_code(text) if len(typed) == 1 else None)
        if code and not ends_with_space:
            exact, prefixed = engine.code_matches(code, text)
            code_docs = exact + _interleave_systems(engine, prefixed)
        base = list(parsed.readings)
        if len(typed) > 1 and typed[-1] in STOP_WORDS and not ends_with_space:
            # A small word still being typed begins a longer one ("fx an" ->
            # ankle); if it is the stop word, the next keystroke says so.
            tail = Slot(typed[-1], ())
            base = [Reading((*r.slots, tail)) for r in parsed.readings]
        readings = []
        for reading in (*base, *self._phrase_readings(typed, ends_with_space)):
            slots = list(reading.slots)
            for i, slot in enumerate(slots):
                is_last = i == len(slots) - 1 and not ends_with_space
                slots[i] = self._slot(slot, as_prefix=is_last)
            readings.append(Reading(tuple(slots)))
        if not any(r.slots for r in readings):
            return Suggestions(text, (), self._codes(code_docs[:limit]))

        # Rank as search does (inheritance, names, phrases, titles, heads, valid
        # codes only, families in turns) over the best-covered documents.
        query = ParsedQuery(text, tuple(typed), None, tuple(readings))
        ranked = engine.rank_parsed(query, text, correct=False, best_only=True)
        assert ranked.match is not None
        pool = ranked.candidates & engine.valid_mask(dt.date.today())
        ordered_top = _take_turns(
            [
                d
                for _, d in engine.order(
                    ranked,
                    pool,
                    limit,
                    depth=RERANK_DEPTH,
                    family=engine.category_family,
                    per_family=PER_CATEGORY,
                )
            ],
            ranked.match.reading,
        )
        chosen = ordered_top[:limit]
        if code_docs:
            exact_first = [
                d
                for d in code_docs[:1]
                if normalize_code(engine.columns.docs[d].code) == code
            ]
            chosen = list(dict.fromkeys(exact_first + code_docs[:limit] + chosen))[
                :limit
            ]
        completions = self._completions(
            typed, readings, ordered_top, ends_with_space, limit
        )
        return Suggestions(text, completions, self._codes(chosen))

    def _phrase_readings(
        self, typed: list[str], ends_with_space: bool
    ) -> list[Reading]:
        """Readings for lay phrases the typed words begin ("underactive th")."""
        text = " ".join(typed)
        lexicon = self.engine.lexicon
        if (
            lexicon is None
            or len(text) < MIN_PHRASE_PREFIX
            or (ends_with_space and len(typed) < 2)
        ):
            return []
        start = bisect_left(self._phrases, text)
        readings = []
        for phrase in self._phrases[start : start + MAX_PHRASE_READINGS * 4]:
            if not phrase.startswith(text):
                break
            alternatives = tuple(
                Alternative(
                    tuple(stem(w) for w in reading.words if w not in STOP_WORDS),
                    " ".join(reading.words),
                    "lay",
                    0.95,
                )
                for reading in lexicon.readings(tuple(phrase.split()))
            )
            alternatives = tuple(a for a in alternatives if a.terms)
            if alternatives:
                readings.append(Reading((Slot(text, alternatives),)))
            if len(readings) >= MAX_PHRASE_READINGS:
                break
        return readings

    def _completions(
        self,
        typed: list[str],
        readings: list[Reading],
        top: list[int],
        ends_with_space: bool,
        limit: int,
    ) -> tuple[str, ...]:
        """Phrases to type next: the typed words, the last one completed.

        After earlier words, completions come from the words of the best codes
        so far, so that "bone sc" offers "bone scan" (what the codes say) before
        "bone scapula" (what is merely frequent); the vocabulary fills in when
        they offer too few. A first word is completed by how many codes use it
        ("pneu": pneumonia). A word already typed is not offered again.
        """
        if ends_with_space or not readings[0].slots:
            return ()
        last = readings[0].slots[-1]
        stems = [a.terms[0] for a in last.alternatives if a.kind == "prefix"]
        if not stems and not any(a.kind == "completion" for a in last.alternatives):
            return ()
        prefix = typed[-1]
        from_codes: dict[str, float] = {}
        starts = (prefix, *stems)
        for rank, docnum in enumerate(top[:COMPLETION_DEPTH]):
            for word in self._words_of(docnum):
                if word.startswith(starts):
                    from_codes[word] = from_codes.get(word, 0.0) + 1.0 / (rank + 1)
        candidates = set(from_codes) | set(
            self.engine.speller.completions(prefix, VOCABULARY_FANOUT)
        )
        matcher = self.engine.matcher
        scope = self._scope(readings[0].slots[:-1])

        def together(word: str) -> int:
            """Codes with this word and every earlier word."""
            found = matcher.alternative((stem(word),))
            if found is None:
                return 0
            return len(found[0]) if scope is None else int(scope[found[0]].sum())

        def weight(word: str) -> tuple[float, float, str]:
            used, shown = -counts[word], -from_codes.get(word, 0.0)
            return (used, shown, word) if scope is None else (shown, used, word)

        earlier = set(typed[:-1])
        counts = {w: together(w) for w in candidates if w not in earlier}
        ranked = sorted((w for w in counts if counts[w] > 0), key=weight)
        head = " ".join(typed[:-1])
        return tuple(f"{head} {word}".strip() for word in ranked[:limit])

    def _scope(self, slots: tuple[Slot, ...]) -> npt.NDArray[np.bool_] | None:
        """Documents that meet every earlier word (None if there is none).

        The earlier words stay the same while the last one is typed, so the
        answer is kept for the next keystrokes.
        """
        if not slots:
            return None
        with self._lock:
            cached = self._scopes.get(slots)
            if cached is not None:
                self._scopes.move_to_end(slots)
                return cached
        scope = self.engine.matcher.match_reading(Reading(slots)).coverage >= 1.0
        with self._lock:
            self._scopes[slots] = scope
            if len(self._scopes) > SCOPE_CACHE_SIZE:
                self._scopes.popitem(last=False)
        return scope

    def _words_of(self, docnum: int) -> frozenset[str]:
        """The completable words of a document's descriptors (cached)."""
        found = self._doc_words.get(docnum)
        if found is None:
            row = self.engine.columns.docs[docnum]
            found = frozenset(
                w
                # Not the short descriptor: "wheelchr" is no word to offer.
                for w in words(f"{row.title} {row.expanded}")
                if w.isalpha() and w not in STOP_WORDS
            )
            if len(self._doc_words) > CACHE_SIZE * 4:
                self._doc_words.clear()
            self._doc_words[docnum] = found
        return found

    def _codes(self, docnums: list[int]) -> tuple[CodeSuggestion, ...]:
        docs = self.engine.columns.docs
        return tuple(
            CodeSuggestion(docs[d].code, docs[d].system, docs[d].title) for d in docnums
        )


def _take_turns(docnums: list[int], reading: npt.NDArray[np.int8]) -> list[int]:
    """Interleave the codes of different readings, each in its own order.

    Letters that begin several lay phrases ("artificial " -> arm, eye, leg) are
    several questions at once: each gets a turn near the top.
    """
    queues: dict[int, list[int]] = {}
    for docnum in docnums:
        queues.setdefault(int(reading[docnum]), []).append(docnum)
    if len(queues) < 2:
        return docnums
    merged: list[int] = []
    lists = list(queues.values())
    for position in range(max(len(q) for q in lists)):
        merged.extend(q[position] for q in lists if position < len(q))
    return merged


def _begins_a_term(columns: Columns, prefix: str) -> bool:
    start, end = columns.term_range(prefix)
    return end > start


def _interleave_systems(engine: Engine, docnums: list[int]) -> list[int]:
    """Code-prefix matches, shorter codes first, taking turns between systems.

    "j34" is both the ICD-10-CM category J34 and the HCPCS drugs J3400-J3490; a
    list of one system's codes only would hide the other.
    """
    docs = engine.columns.docs
    by_system: dict[str, list[int]] = {}
    # One level at a time: "E11.6" lists E11.61 ... E11.69 before E11.610.
    for docnum in sorted(docnums, key=lambda d: (len(docs[d].code), docs[d].code)):
        by_system.setdefault(docs[docnum].system, []).append(docnum)
    queues = list(by_system.values())
    merged: list[int] = []
    for position in range(max((len(q) for q in queues), default=0)):
        merged.extend(q[position] for q in queues if position < len(q))
    return merged
