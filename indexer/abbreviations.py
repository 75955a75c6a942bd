"""Expanding clinical abbreviations and lay phrases, per query and per document.

Three tables in ``indexer/data`` feed one :class:`Lexicon`:

- ``abbreviations-mined.tsv``: abbreviations learnt from the CMS short descriptors
  by aligning them with the long ones (see :mod:`indexer.lexicon`), each with the
  neighbouring words that supported it;
- ``shorthand.tsv``: reviewed clinical shorthand people type (``htn``, ``dm2``);
- ``lay-terms.tsv``: reviewed lay phrases and their clinical wording.

An abbreviation with several meanings is resolved by its neighbours::

    "Doc med rsn bone scn" -> "documentation medical reason bone scan"
    "Derang of ant horn of med mensc" -> "... of anterior horn of medial meniscus"

When neither the neighbours nor a clearly dominant meaning decide, nothing is
emitted for that token (``expand(..., alternatives=True)`` lists every reading
instead, for the query side).
"""

from __future__ import annotations

import csv
import io
import logging
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from indexer.analysis import STOP_WORDS, stem

logger = logging.getLogger(__name__)

MINED = "mined"
SHORTHAND = "shorthand"
LAY = "lay"

# Query side: reviewed tables first, because they hold what people mean by a
# token; index side: only what the CMS descriptors themselves support.
QUERY_SOURCES = (LAY, SHORTHAND, MINED)
INDEX_SOURCES = (MINED,)

MINED_FILE = "abbreviations-mined.tsv"
SHORTHAND_FILE = "shorthand.tsv"
LAY_FILE = "lay-terms.tsv"

MINED_COLUMNS = ("abbreviation", "expansion", "pairs", "share", "contexts", "example")
SHORTHAND_COLUMNS = ("abbreviation", "expansion", "source", "also_word", "note")
LAY_COLUMNS = ("phrase", "clinical", "note")

# A reading is chosen when its posterior, given the neighbours, reaches this.
DECISION_THRESHOLD = 0.75
# Decisions remembered before the memo is cleared (bounds memory at query time).
DECISION_CACHE_SIZE = 500_000
# Additive smoothing of neighbour counts (naive Bayes over left/right neighbours).
CONTEXT_SMOOTHING = 0.5

# One-letter shorthand with a slash ("w/o", "s/p", "d/t", "w/"), then words and
# numbers. A longer slash compound ("tear/inj") is split into its words.
_TOKEN = re.compile(r"(?<![a-z0-9])[a-z]/[a-z]?(?![a-z0-9])|[a-z0-9]+(?:'[a-z]+)?")


class LexiconError(Exception):
    """A lexicon table is missing or malformed.

    Messages name the file and row, show the offending value and say what was
    expected.
    """


@dataclass(frozen=True)
class Expansion:
    """One expansion of the token span ``[start, end)`` of a token list."""

    start: int
    end: int
    words: tuple[str, ...]
    source: str
    support: int


@dataclass(frozen=True)
class Reading:
    """One meaning of a key, with the evidence behind it.

    ``words == key`` (for a one-token key) is the "stays as written" reading that
    the mined table keeps for abbreviations that are also words ("cor pulmonale").
    ``contexts`` maps a neighbouring word to how often it was seen next to the key
    with this meaning. ``guarded`` readings (curated keys that are also ordinary
    words, such as "pad") are only offered as alternatives.
    """

    words: tuple[str, ...]
    source: str
    support: int = 0
    share: float = 1.0
    contexts: Mapping[str, int] = field(default_factory=dict, hash=False)
    guarded: bool = False


def tokenize_for_expansion(text: str) -> list[str]:
    """Lowercased words, keeping slash shorthand whole.

    ``"Athscl hrt dis w/o ang; tear/inj"`` ->
    ``["athscl", "hrt", "dis", "w/o", "ang", "tear", "inj"]``. Apostrophes are
    dropped as the analyzer drops them (``"alzheimer's"`` -> ``"alzheimers"``).
    """
    folded = text.lower()
    if not folded.isascii():
        decomposed = unicodedata.normalize("NFKD", folded)
        folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    if "'" not in folded:
        return _TOKEN.findall(folded)
    return [token.replace("'", "") for token in _TOKEN.findall(folded)]


class Lexicon:
    """Abbreviation and lay-phrase readings, keyed by token tuples."""

    def __init__(self, readings: Mapping[tuple[str, ...], Sequence[Reading]]) -> None:
        """Build from ``key -> readings`` (curated readings in preference order)."""
        self._readings: dict[tuple[str, ...], dict[str, tuple[Reading, ...]]] = {}
        for key, values in readings.items():
            for reading in values:
                by_source = self._readings.setdefault(key, {})
                by_source[reading.source] = (
                    *by_source.get(reading.source, ()),
                    reading,
                )
        # The longest key starting with each token, so that a scan tries only
        # the span lengths that can match.
        self._longest: dict[str, int] = {}
        for key in self._readings:
            self._longest[key[0]] = max(self._longest.get(key[0], 0), len(key))
        # Lay phrases once more as the stems of their words without the small
        # ones, so that "ringing in ears" reads as "ringing in the ears", "heart
        # attacks" as "heart attack" and "defibrilator vest" (a typo with the
        # same stem) as "defibrillator vest": stems -> the phrase.
        self._bare: dict[tuple[str, ...], tuple[str, ...]] = {}
        for key, by_source in self._readings.items():
            bare = tuple(stem(t) for t in key if t not in STOP_WORDS)
            if LAY in by_source and len(bare) >= 2 and key[0] not in STOP_WORDS:
                self._bare.setdefault(bare, key)
        self._bare_longest: dict[str, int] = {}
        for bare in self._bare:
            self._bare_longest[bare[0]] = max(
                self._bare_longest.get(bare[0], 0), len(bare)
            )
        # Decisions by (key, left, right): descriptors repeat the same contexts.
        self._decided: dict[
            tuple[tuple[str, ...], str | None, str | None], Reading | None
        ] = {}

    @classmethod
    def load_default(cls) -> Lexicon:
        """The lexicon of the tables shipped in ``indexer/data`` (read once)."""
        return _default_lexicon()

    @classmethod
    def from_tables(
        cls, mined: str = "", shorthand: str = "", lay: str = ""
    ) -> Lexicon:
        """Build from the text of the three TSV tables (any may be empty)."""
        readings: dict[tuple[str, ...], list[Reading]] = {}
        for key, reading in (
            *_parse_mined(mined, MINED_FILE),
            *_parse_shorthand(shorthand, SHORTHAND_FILE),
            *_parse_lay(lay, LAY_FILE),
        ):
            readings.setdefault(key, []).append(reading)
        return cls(readings)

    def __len__(self) -> int:
        """The number of keys."""
        return len(self._readings)

    def reviewed_words(self) -> list[str]:
        """Every one-word key of the reviewed tables (shorthand and lay words)."""
        return [
            key[0]
            for key, by_source in self._readings.items()
            if len(key) == 1 and (SHORTHAND in by_source or LAY in by_source)
        ]

    def phrase_keys(self) -> list[tuple[str, ...]]:
        """Every key of two words or more (lay phrases, multi-word shorthand)."""
        return [key for key in self._readings if len(key) > 1]

    def readings(self, key: Sequence[str]) -> tuple[Reading, ...]:
        """Every reading of ``key`` (a token tuple), all sources."""
        by_source = self._readings.get(tuple(key), {})
        return tuple(r for source in QUERY_SOURCES for r in by_source.get(source, ()))

    def expand(
        self,
        tokens: Sequence[str],
        *,
        sources: Sequence[str] = QUERY_SOURCES,
        alternatives: bool = False,
    ) -> list[Expansion]:
        """Expansions of the spans of ``tokens`` that the lexicon can read.

        Spans do not overlap; at each position the longest matching key wins.
        ``sources`` lists the tables to use, in order of preference for a span.
        One reading per span, chosen by the neighbouring tokens, or none when
        the evidence does not decide. With ``alternatives`` (for the query side,
        which ORs them) an undecided span yields every reading not ruled out,
        and a curated span all its readings, guarded ones included.
        """
        found: list[Expansion] = []
        longest_keys = self._longest
        position = 0
        count = len(tokens)
        while position < count:
            longest = longest_keys.get(tokens[position]) or 0
            matched = 0
            chosen: list[Reading] = []
            for length in range(min(longest, count - position), 0, -1):
                key = tuple(tokens[position : position + length])
                by_source = self._readings.get(key)
                if by_source is None:
                    continue
                chosen = self._choose(
                    key, by_source, tokens, position, sources, alternatives
                )
                if chosen:
                    matched = length
                    break
            # A lay phrase said otherwise (small words, other endings) wins
            # when it spans more: "broken wrists" before "broken" alone.
            if LAY in sources and self._begins_bare(tokens[position]):
                for key, end in self._bare_spans(tokens, position):
                    if end - position <= matched:
                        break
                    lay = self._choose(
                        key,
                        self._readings[key],
                        tokens,
                        position,
                        sources,
                        alternatives,
                    )
                    if lay:
                        chosen, matched = lay, end - position
                        break
            found.extend(
                Expansion(position, position + matched, r.words, r.source, r.support)
                for r in chosen
            )
            position += matched or 1
        return found

    def _begins_bare(self, token: str) -> bool:
        return token not in STOP_WORDS and stem(token) in self._bare_longest

    def _bare_spans(
        self, tokens: Sequence[str], position: int
    ) -> list[tuple[tuple[str, ...], int]]:
        """Lay phrases that the tokens from ``position`` say once stop words are
        ignored and words stemmed, as (phrase, end of the span), longest first."""
        spans = []
        bare: list[str] = []
        end = position
        longest = self._bare_longest[stem(tokens[position])]
        while end < len(tokens) and len(bare) < longest:
            token = tokens[end]
            end += 1
            if token in STOP_WORDS:
                continue
            bare.append(stem(token))
            key = self._bare.get(tuple(bare))
            if key is not None:
                spans.append((key, end))
        return spans[::-1]

    def expand_text(self, text: str, *, sources: Sequence[str] = INDEX_SOURCES) -> str:
        """``text`` as lowercased words with each decided expansion written out.

        For index time: ``"Doc med rsn bone scn"`` ->
        ``"documentation medical reason bone scan"``.
        """
        tokens = tokenize_for_expansion(text)
        expansions = self.expand(tokens, sources=sources)
        if not expansions:
            return " ".join(tokens)
        out: list[str] = []
        position = 0
        for expansion in expansions:
            out.extend(tokens[position : expansion.start])
            out.extend(expansion.words)
            position = expansion.end
        out.extend(tokens[position:])
        return " ".join(out)

    def _choose(
        self,
        key: tuple[str, ...],
        by_source: Mapping[str, tuple[Reading, ...]],
        tokens: Sequence[str],
        position: int,
        sources: Sequence[str],
        alternatives: bool,
    ) -> list[Reading]:
        """The readings of ``key`` at ``position`` to emit (see :meth:`expand`).

        A source that cannot decide (a guarded curated key, a mined token with
        no clear reading) leaves the span to the next source; a mined "as
        written" decision ends the search: the token is a word there.
        """
        if alternatives:
            return self._all_open(key, by_source, tokens, position, sources)
        for source in sources:
            candidates = by_source.get(source)
            if candidates is None:
                continue
            if source != MINED:
                # Curated tables list the preferred reading first.
                for reading in candidates:
                    if not reading.guarded:
                        return [reading]
                continue
            chosen = self._decide_at(key, candidates, tokens, position)
            if chosen is not None:
                return [] if chosen.words == key else [chosen]
        return []

    def _all_open(
        self,
        key: tuple[str, ...],
        by_source: Mapping[str, tuple[Reading, ...]],
        tokens: Sequence[str],
        position: int,
        sources: Sequence[str],
    ) -> list[Reading]:
        """For the query side: every reading of every source not ruled out, in
        order of preference. A curated meaning does not hide what the
        descriptors say: "std" is a sexually transmitted disease, and in "std
        w/c" the mined "standard"."""
        found: list[Reading] = []
        for source in sources:
            candidates = by_source.get(source)
            if candidates is None:
                continue
            if source != MINED:
                found.extend(candidates)
                continue
            chosen = self._decide_at(key, candidates, tokens, position)
            if chosen is not None:
                found.extend([] if chosen.words == key else [chosen])
            else:
                found.extend(r for r in candidates if r.words != key)
        unique: dict[tuple[str, ...], Reading] = {}
        for reading in found:
            unique.setdefault(reading.words, reading)
        return list(unique.values())

    def _decide_at(
        self,
        key: tuple[str, ...],
        candidates: Sequence[Reading],
        tokens: Sequence[str],
        position: int,
    ) -> Reading | None:
        """:meth:`_decide_mined` with the neighbours of ``key`` at ``position``."""
        left = tokens[position - 1] if position > 0 else None
        after = position + len(key)
        right = tokens[after] if after < len(tokens) else None
        return self._decide_mined(key, candidates, left, right)

    def _decide_mined(
        self,
        key: tuple[str, ...],
        candidates: Sequence[Reading],
        left: str | None,
        right: str | None,
    ) -> Reading | None:
        """The mined reading the neighbours support, else a dominant one, else None.

        A neighbour that no reading has seen carries no evidence and is skipped,
        so a token in an unseen context is decided by the shares alone.
        """
        memo = (key, left, right)
        if memo in self._decided:
            return self._decided[memo]
        neighbours = [
            word
            for word in (left, right)
            if word is not None and any(word in r.contexts for r in candidates)
        ]
        decided = _best(candidates, neighbours)
        if len(self._decided) >= DECISION_CACHE_SIZE:
            self._decided.clear()
        self._decided[memo] = decided
        return decided


def _best(candidates: Sequence[Reading], neighbours: Sequence[str]) -> Reading | None:
    """The reading whose posterior reaches ``DECISION_THRESHOLD``, if any.

    Naive Bayes over the neighbours: the prior is a reading's share, the
    likelihood of a neighbour its smoothed count among the reading's contexts.
    The share of readings too rare to be kept in the table stays in the
    denominator as one more reading with no contexts, so that rare noise cannot
    make a 60% reading look certain.
    """
    smoothing = CONTEXT_SMOOTHING
    scores: list[float] = []
    for reading in candidates:
        score = math.log(max(reading.share, 1e-9))
        for word in neighbours:
            seen = reading.contexts.get(word, 0)
            score += math.log((seen + smoothing) / (reading.support + 2 * smoothing))
        scores.append(score)
    rest = 1.0 - sum(r.share for r in candidates)
    if rest > 0.001:
        # Its support is estimated from the candidates' support per share.
        total = max(r.support / max(r.share, 1e-9) for r in candidates)
        unseen = math.log(smoothing / (rest * total + 2 * smoothing))
        scores.append(math.log(rest) + unseen * len(neighbours))

    top = max(scores)
    total = sum(math.exp(score - top) for score in scores)
    best = scores.index(top)
    if best >= len(candidates) or 1.0 / total < DECISION_THRESHOLD:
        return None
    return candidates[best]


@lru_cache(maxsize=1)
def _default_lexicon() -> Lexicon:
    """Read the shipped tables once per process."""
    folder = resources.files("indexer") / "data"
    texts = []
    for name in (MINED_FILE, SHORTHAND_FILE, LAY_FILE):
        try:
            texts.append((folder / name).read_text(encoding="utf-8"))
        except FileNotFoundError as error:
            raise LexiconError(
                f"indexer/data/{name}: not found; expected the shipped lexicon "
                "table (regenerate the mined one with python -m indexer.lexicon)"
            ) from error
    lexicon = Lexicon.from_tables(*texts)
    logger.info("Lexicon loaded: %d keys", len(lexicon))
    return lexicon


def _rows(
    text: str, name: str, columns: Sequence[str]
) -> Iterable[tuple[int, dict[str, str]]]:
    """Rows of a TSV table with the expected header, numbered from the file top."""
    if not text.strip():
        return
    reader = csv.reader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(reader)
    if tuple(header) != tuple(columns):
        raise LexiconError(
            f"{name} row 1: header {header!r}; expected {list(columns)!r}"
        )
    for number, row in enumerate(reader, start=2):
        if not row or row[0].startswith("#"):
            continue
        if len(row) != len(columns):
            raise LexiconError(
                f"{name} row {number}: {len(row)} fields in {row!r}; "
                f"expected {len(columns)} ({', '.join(columns)})"
            )
        yield number, dict(zip(columns, row, strict=True))


def _key(value: str, name: str, number: int) -> tuple[str, ...]:
    """The token tuple of a table key, which must not be empty."""
    key = tuple(tokenize_for_expansion(value))
    if not key:
        raise LexiconError(
            f"{name} row {number}: key {value!r} has no words; expected a word"
        )
    return key


def _words(value: str, name: str, number: int) -> tuple[str, ...]:
    """The words of an expansion, which must not be empty."""
    words = tuple(tokenize_for_expansion(value))
    if not words:
        raise LexiconError(
            f"{name} row {number}: expansion {value!r} has no words; "
            "expected one or more words"
        )
    return words


def _parse_mined(text: str, name: str) -> Iterable[tuple[tuple[str, ...], Reading]]:
    """Readings of the mined table."""
    for number, row in _rows(text, name, MINED_COLUMNS):
        try:
            support = int(row["pairs"])
            share = float(row["share"])
            contexts = _parse_contexts(row["contexts"])
        except ValueError as error:
            raise LexiconError(
                f"{name} row {number}: {error}; expected integer pairs, a decimal "
                "share and contexts as 'word:count word:count'"
            ) from error
        key = _key(row["abbreviation"], name, number)
        yield (
            key,
            Reading(
                words=_words(row["expansion"], name, number),
                source=MINED,
                support=support,
                share=share,
                contexts=contexts,
            ),
        )


def _parse_contexts(value: str) -> dict[str, int]:
    """``"rsn:57 doc:40"`` -> ``{"rsn": 57, "doc": 40}``."""
    contexts: dict[str, int] = {}
    for item in value.split():
        word, _, count = item.rpartition(":")
        if not word:
            raise ValueError(f"context {item!r} has no word")
        contexts[word] = int(count)
    return contexts


def _parse_shorthand(text: str, name: str) -> Iterable[tuple[tuple[str, ...], Reading]]:
    """Readings of the curated shorthand table."""
    for number, row in _rows(text, name, SHORTHAND_COLUMNS):
        if row["also_word"] not in ("yes", "no"):
            raise LexiconError(
                f"{name} row {number}: also_word {row['also_word']!r}; "
                "expected yes or no"
            )
        key = _key(row["abbreviation"], name, number)
        yield (
            key,
            Reading(
                words=_words(row["expansion"], name, number),
                source=SHORTHAND,
                guarded=row["also_word"] == "yes",
            ),
        )


def _parse_lay(text: str, name: str) -> Iterable[tuple[tuple[str, ...], Reading]]:
    """Readings of the lay-terms table."""
    for number, row in _rows(text, name, LAY_COLUMNS):
        key = _key(row["phrase"], name, number)
        yield key, Reading(words=_words(row["clinical"], name, number), source=LAY)
