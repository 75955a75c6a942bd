"""Spelling correction against the index vocabulary.

Candidates come from a deletion index (the SymSpell idea: a word and a typo of it
within edit distance two share a string reached by deleting at most one character
from each, or two from one), so a lookup is a few dozen dictionary probes rather
than a scan of the vocabulary. Candidates are then ranked by true
Damerau-Levenshtein distance, then by how many codes use the word.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Iterable

MIN_WORD = 4
MIN_SPLIT_PART = 3
MAX_DISTANCE = 2
COMPLETION_CACHE = 20_000


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def distance(a: str, b: str) -> int:
    """Optimal string alignment distance (Damerau-Levenshtein, adjacent swaps)."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(
                previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost
            )
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


class Speller:
    """Finds the vocabulary words nearest to a misspelt one."""

    def __init__(self, vocabulary: dict[str, int]) -> None:
        self.vocabulary = vocabulary
        self.sorted_words = sorted(vocabulary)
        self._index: dict[str, list[str]] = {}
        self._completions: dict[tuple[str, int], tuple[str, ...]] = {}
        self._nearest: dict[str, list[tuple[str, int]]] = {}
        # Two edits that each change a letter of a long word ("hypertenshun",
        # "glocoma") share no deletion with it: words by first letter and
        # length, to look through when nothing one edit away is known.
        self._by_shape: dict[tuple[str, int], list[str]] = {}
        for word in vocabulary:
            if len(word) < MIN_WORD - 1:
                continue
            for key in (word, *_deletes(word)):
                self._index.setdefault(key, []).append(word)
            self._by_shape.setdefault((word[0], len(word)), []).append(word)

    def is_known(self, word: str) -> bool:
        """Whether ``word`` occurs in the vocabulary as it is."""
        return word in self.vocabulary

    def candidates(self, word: str, limit: int = 3) -> list[tuple[str, int]]:
        """Nearest vocabulary words as (word, distance), best first."""
        if len(word) < MIN_WORD or not word.isalpha():
            return []
        known = self._nearest.get(word)
        if known is not None:
            return known[:limit]
        probes = {word} | _deletes(word)
        if len(word) > MIN_WORD:
            probes |= {d2 for d1 in _deletes(word) for d2 in _deletes(d1)}
        found: dict[str, int] = {}
        for probe in probes:
            for candidate in self._index.get(probe, ()):
                if candidate not in found and candidate != word:
                    found[candidate] = distance(word, candidate)
        allowed = 1 if len(word) < 6 else MAX_DISTANCE
        if allowed == MAX_DISTANCE and 1 not in found.values():
            found.update(self._two_changes(word, found))
        ranked = sorted(
            (d, -self.vocabulary[w], w) for w, d in found.items() if d <= allowed
        )
        # Kept whole, whatever the limit: a word is looked up more than once
        # per query (collision check, then correction).
        nearest = [(w, d) for d, _, w in ranked]
        if len(self._nearest) > COMPLETION_CACHE:
            self._nearest.clear()
        self._nearest[word] = nearest
        return nearest[:limit]

    def _two_changes(self, word: str, found: dict[str, int]) -> dict[str, int]:
        """Words of the same first letter two edits away that the deletion
        index cannot reach (a millisecond or two; only for unknown long words)."""
        letters = set(word)
        more = {}
        for length in range(len(word) - MAX_DISTANCE, len(word) + MAX_DISTANCE + 1):
            for candidate in self._by_shape.get((word[0], length), ()):
                # Two edits change at most four letters of the set.
                if (
                    candidate in found
                    or len(letters.symmetric_difference(candidate)) > 4
                ):
                    continue
                away = distance(word, candidate)
                if away <= MAX_DISTANCE:
                    more[candidate] = away
        return more

    def splits(self, word: str, limit: int = 2) -> list[tuple[str, str]]:
        """Two known words a run-together word is made of ("bedpan" -> "bed pan"),
        the split whose rarer half is most used first."""
        if len(word) < 2 * MIN_SPLIT_PART or not word.isalpha():
            return []
        found = []
        for i in range(MIN_SPLIT_PART, len(word) - MIN_SPLIT_PART + 1):
            left, right = word[:i], word[i:]
            if left in self.vocabulary and right in self.vocabulary:
                rarer = min(self.vocabulary[left], self.vocabulary[right])
                found.append((-rarer, left, right))
        return [(left, right) for _, left, right in sorted(found)[:limit]]

    def completions(self, prefix: str, limit: int) -> list[str]:
        """Vocabulary words starting with ``prefix``, most used first."""
        key = (prefix, limit)
        cached = self._completions.get(key)
        if cached is not None:
            return list(cached)
        start = bisect.bisect_left(self.sorted_words, prefix)
        end = bisect.bisect_left(self.sorted_words, prefix + "\uffff")
        span = heapq.nsmallest(
            limit, self.sorted_words[start:end], key=lambda w: -self.vocabulary[w]
        )
        if len(self._completions) > COMPLETION_CACHE:
            self._completions.clear()
        self._completions[key] = tuple(span)
        return span

    def fuzzy_prefixes(self, prefix: str) -> Iterable[str]:
        """Prefixes within one edit of ``prefix`` that begin some vocabulary word."""
        letters = "abcdefghijklmnopqrstuvwxyz"
        variants = _deletes(prefix)
        for i in range(len(prefix) + 1):
            for letter in letters:
                variants.add(prefix[:i] + letter + prefix[i:])
                if i < len(prefix):
                    variants.add(prefix[:i] + letter + prefix[i + 1 :])
        for i in range(len(prefix) - 1):
            variants.add(prefix[:i] + prefix[i + 1] + prefix[i] + prefix[i + 2 :])
        variants.discard(prefix)
        for variant in sorted(variants):
            if len(variant) < MIN_WORD - 1:
                continue
            position = bisect.bisect_left(self.sorted_words, variant)
            if position < len(self.sorted_words) and self.sorted_words[
                position
            ].startswith(variant):
                yield variant
