"""Text analysis shared by the index writer and the query side.

One chain turns descriptor text into index terms, and the query side runs the same
chain so that both meet::

    "Fractures of the Femur, initial encounter" -> ["fractur", "femur", "initi",
                                                     "encount"]

Steps: fold case and accents, split into words (keeping codes such as ``E11.9`` and
shorthand such as ``w/o`` whole), drop a short stop list, stem with NLTK's Snowball
English stemmer. Snowball, not Whoosh's Porter, because Porter mishandles "y"
(hypertension / hypertensive do not meet); the stop list is our own because the
usual ones drop "with", "without", "not" and "no", which separate codes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from nltk.stem.snowball import SnowballStemmer
from whoosh.analysis import Composable, Token, Tokenizer

STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "for",
        "to",
        "in",
        "on",
        "and",
        "or",
        "by",
        "at",
        "is",
        "are",
        "as",
        "be",
        "from",
        "its",
        "this",
        "that",
    ]
)

# One-letter shorthand with a slash ("w/o", "s/p", "w/c"), then a word, a code or a
# number with internal dots ("e11.9", "0.5"). Everything else separates words, so a
# longer slash compound is its words: "boot/shoe", "gastrostomy/jejunostomy".
_WORD = re.compile(r"(?<![a-z0-9])[a-z]/[a-z](?![a-z0-9])|[a-z0-9]+(?:[.'][a-z0-9]+)*")
_CODE_SHAPE = re.compile(r"^[a-z][0-9][0-9a-z]*(?:\.[0-9a-z]+)?$")

_stemmer = SnowballStemmer("english")


def fold(text: str) -> str:
    """Lowercase and strip accents: ``"Ménière's"`` -> ``"meniere's"``."""
    if text.isascii():  # nearly every descriptor: skip the Unicode round trip
        return text.lower()
    # Decompose, lowercase, decompose again: compatibility forms ("𝓐") only
    # become letters after NFKD, and lowercasing can add combining marks ("İ").
    decomposed = unicodedata.normalize(
        "NFKD", unicodedata.normalize("NFKD", text).lower()
    )
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    """Split folded text into words, keeping codes and one-letter slash shorthand whole.

    Possessive and elided apostrophes are dropped: ``"swimmer's"`` -> ``"swimmers"``.
    """
    return [w.replace("'", "") for w in _WORD.findall(fold(text))]


def is_code_shaped(word: str) -> bool:
    """Whether a folded word looks like a code (a letter, a digit, then more)."""
    return bool(_CODE_SHAPE.match(word))


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The index term for one folded word: codes and numbers whole, words stemmed."""
    if word[0].isdigit() or is_code_shaped(word) or "/" in word:
        return word.replace(".", "") if is_code_shaped(word) else word
    return str(_stemmer.stem(word))


def terms(text: str) -> list[str]:
    """The index terms of a text, in order, stop words removed."""
    return [stem(w) for w in words(text) if w not in STOP_WORDS]


class MedicalTokenizer(Tokenizer):  # type: ignore[misc]
    """Whoosh tokenizer running :func:`terms`, so Whoosh indexes exactly our terms."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MedicalTokenizer)

    def __hash__(self) -> int:
        return hash(type(self))

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for pos, term in enumerate(terms(value), start=start_pos):
            token.text = term
            token.boost = 1.0
            token.stopped = False
            if positions:
                token.pos = pos
            yield token


def medical_analyzer() -> Composable:
    """The Whoosh analyzer used for every text field of the index."""
    return MedicalTokenizer()
