"""Query understanding: what the user typed, turned into slots of alternatives.

A query is a sequence of *slots*, one per typed word; a document matches a slot
when it matches any of the slot's *alternatives*: the word itself, an expansion of
it ("fx" -> "fracture"), or a spelling correction. A multi-word expansion ("heart
attack" -> "myocardial infarction") gives a second *reading* in which one slot
stands for the whole span. Nothing here is Whoosh query syntax: operators, field
names, quotes and wildcards typed by a user are only words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

from indexer.abbreviations import LAY, Expansion, Lexicon
from indexer.analysis import STOP_WORDS, fold, is_code_shaped, stem, words

MAX_QUERY_CHARS = 256
MAX_WORDS = 16
MAX_WORD_CHARS = 48
MAX_READINGS = 4

_CODE_SEPARATORS = re.compile(r"(?<=\w)[\s,-]+(?=\w)|-$")
_REPEATED_DOTS = re.compile(r"\.{2,}")  # "f32..a"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # C0, DEL and C1


@dataclass(frozen=True)
class Alternative:
    """One way to satisfy a slot: all of ``terms`` must occur in the document."""

    terms: tuple[str, ...]
    label: str
    kind: str  # "word", "expansion", "lay", "correction", "prefix", "completion"
    weight: float = 1.0


@dataclass(frozen=True)
class Slot:
    """A typed word (or span of words) and the alternatives that satisfy it."""

    text: str
    alternatives: tuple[Alternative, ...]


@dataclass(frozen=True)
class Reading:
    """One interpretation of the whole query as slots."""

    slots: tuple[Slot, ...]


@dataclass(frozen=True)
class ParsedQuery:
    """A cleaned query, its words, the code it may be and its readings."""

    text: str
    words: tuple[str, ...]
    code: str | None
    readings: tuple[Reading, ...]


def clean(text: str) -> str:
    """Bound and tidy raw input: no C0/C1 control characters, single spaces, a cap."""
    text = _CONTROL.sub(" ", text)[:MAX_QUERY_CHARS]
    return " ".join(text.split())


def normalize_code(text: str) -> str:
    """A code as compared: upper case, no dots or spaces (``e11.9`` -> ``E119``)."""
    return re.sub(r"[\s.]", "", text).upper()


def _code_candidate(text: str, typed: list[str]) -> str | None:
    """The code a query may be: one word, or a code with a space, hyphen,
    comma or doubled dot in it as people write them ("E 11.9", "e11-9", "E11,9",
    "f32..a")."""
    compact = text.replace(" ", "")
    if len(typed) == 1 and (is_code_shaped(fold(compact)) or compact.endswith(".")):
        return normalize_code(compact)
    joined = _REPEATED_DOTS.sub(".", _CODE_SEPARATORS.sub("", text))
    if (
        len(typed) <= 3
        and any(c.isdigit() for c in text)
        and is_code_shaped(fold(joined))
    ):
        return normalize_code(joined)
    return None


def word_alternative(word: str, kind: str = "word", weight: float = 1.0) -> Alternative:
    """The alternative for a single word as typed."""
    return Alternative((stem(word),), word, kind, weight)


def _lay_pairs(
    typed: list[str],
    kept: list[int],
    expansions: list[Expansion],
    lexicon: Lexicon,
) -> list[Expansion]:
    """Two-word lay phrases typed in index order or in shorthand.

    Coders are taught the Alphabetic Index, which puts the main word first
    ("catheter, urethral"), and they abbreviate ("cath urethral"): a pair of
    neighbouring words reads as a lay phrase in either order, each word as typed
    or as its one-word expansion.
    """
    spans = {(e.start, e.end) for e in expansions}
    forms: dict[int, set[str]] = {i: {typed[i]} for i in kept}
    for expansion in expansions:
        one_word = expansion.end - expansion.start == 1 and len(expansion.words) == 1
        if one_word and expansion.start in forms:
            forms[expansion.start].add(expansion.words[0])
    found: list[Expansion] = []
    for first, second in pairwise(kept):
        if (first, second + 1) in spans:
            continue
        seen: set[tuple[str, ...]] = set()
        for a in sorted(forms[first]):
            for b in sorted(forms[second]):
                for key in ((a, b), (b, a)):
                    if key == (typed[first], typed[second]):
                        continue  # as typed: already looked up
                    for reading in lexicon.readings(key):
                        if reading.source == LAY and reading.words not in seen:
                            seen.add(reading.words)
                            found.append(
                                Expansion(first, second + 1, reading.words, LAY, 0)
                            )
    return found


def parse(text: str, lexicon: Lexicon | None) -> ParsedQuery:
    """Parse a query into readings. ``text`` must already be :func:`clean`.

    With no lexicon, words stand for themselves only (the evaluation baseline).
    """
    typed = [w[:MAX_WORD_CHARS] for w in words(text)][:MAX_WORDS]
    content = [w for w in typed if w not in STOP_WORDS] or typed
    code = _code_candidate(text, typed)

    # Expand over the words as typed, so that lay phrases with small words in
    # them ("water on the knee") match; then map each span onto the content words.
    expansions = lexicon.expand(typed, alternatives=True) if lexicon else []
    kept = [i for i, w in enumerate(typed) if w not in STOP_WORDS] or list(
        range(len(typed))
    )
    if lexicon:
        expansions.extend(_lay_pairs(typed, kept, expansions, lexicon))
    by_start: dict[int, list[Alternative]] = {}
    spans: list[tuple[int, int, Alternative]] = []
    for expansion in expansions:
        terms = tuple(stem(w) for w in expansion.words if w not in STOP_WORDS)
        covered = [
            k for k, i in enumerate(kept) if expansion.start <= i < expansion.end
        ]
        if not terms or not covered:
            continue
        start, end = covered[0], covered[-1] + 1
        kind = "lay" if expansion.source == "lay" else "expansion"
        alternative = Alternative(terms, " ".join(expansion.words), kind, 0.95)
        if end - start == 1:
            by_start.setdefault(start, []).append(alternative)
        else:
            spans.append((start, end, alternative))

    base = tuple(
        Slot(word, (word_alternative(word), *by_start.get(i, ())))
        for i, word in enumerate(content)
    )
    readings = [Reading(base)]
    for start, end, alternative in spans[: MAX_READINGS - 1]:
        span_slot = Slot(" ".join(content[start:end]), (alternative,))
        readings.append(Reading((*base[:start], span_slot, *base[end:])))
    return ParsedQuery(text, tuple(typed), code, tuple(readings))
