"""What names a code: its descriptor stripped of standard suffixes, and its synonyms.

Two facts about ICD-10-CM shape ranking and are derived here, once, at build time:

- A code with a seventh character repeats its parent's title and adds a standard
  suffix (", initial encounter for closed fracture", ", sequela"). The suffix is
  not what the code is about, so it must not lengthen the descriptor in BM25F
  (otherwise the shortest suffix, "sequela", wins every fracture query), and a
  title "made of the query" is judged without it.
- An inclusion term or an Alphabetic Index phrase made of exactly the query's
  words ("Fracture of ankle NOS" for "fx ankle") names the code, and the index
  names a category for its whole subtree. The build stores one hashed key per
  synonym, the sorted set of its index terms without neutral words, so that the
  engine can find every code a query names with one sorted lookup.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from corpus.records import CodeRecord
from indexer.analysis import terms

# Words a coder's default choice carries that a searcher never types:
# "cataract" names H26.9 "Unspecified cataract", "fx ankle" names "Fracture of
# ankle NOS".
NEUTRAL_TERMS = frozenset({"unspecifi", "nos"})
# Phrases that say "unspecified" in more words: "Urinary tract infection, site
# not specified" is the plain urinary tract infection.
NEUTRAL_PHRASES = re.compile(
    r"\b(?:site )?not (?:otherwise )?specified\b|\bnot elsewhere classified\b",
    re.IGNORECASE,
)
# ICD-10-CM chapter 20 (V00-Y99) says how an injury came about; its inclusion
# terms list the objects involved ("Hearing aids" under W44.G1 "Audio device
# entering into or through a natural orifice"), which name no diagnosis.
EXTERNAL_CAUSES = frozenset("VWXY")


class TitledRow(Protocol):
    """The fields of a document row this module reads."""

    @property
    def system(self) -> str: ...
    @property
    def code(self) -> str: ...
    @property
    def parent(self) -> str | None: ...
    @property
    def title(self) -> str: ...


def name_terms(text: str) -> frozenset[str]:
    """The index terms a title or synonym names its code with: neutral words
    and phrases left out."""
    return frozenset(terms(NEUTRAL_PHRASES.sub(" ", text))) - NEUTRAL_TERMS


def name_key(words: Iterable[str]) -> int:
    """A stable 63-bit key of a set of index terms, neutral terms left out."""
    text = " ".join(sorted(set(words) - NEUTRAL_TERMS))
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def extension_stems(rows: Sequence[TitledRow]) -> npt.NDArray[np.int32]:
    """For each document, the docnum of the code its title extends, else -1.

    A document extends its parent when its title is the parent's title followed
    by ", " and a suffix: ICD-10-CM's seventh characters (51,338 codes).
    """
    by_code = {(row.system, row.code): docnum for docnum, row in enumerate(rows)}
    stems = np.full(len(rows), -1, dtype=np.int32)
    for docnum, row in enumerate(rows):
        if not row.parent:
            continue
        parent = by_code.get((row.system, row.parent))
        if parent is not None and row.title.startswith(rows[parent].title + ", "):
            stems[docnum] = parent
    return stems


def synonym_keys(
    records: Iterable[CodeRecord], docnum_of: dict[str, int]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32]]:
    """Every synonym's name key and its document, sorted by key (external
    causes left out)."""
    pairs: set[tuple[int, int]] = set()
    for record in records:
        if record.system == "icd10cm" and record.code[:1] in EXTERNAL_CAUSES:
            continue
        docnum = docnum_of[record.key]
        for synonym in record.synonyms:
            found = name_terms(synonym)
            if found:
                pairs.add((name_key(found), docnum))
    ordered = sorted(pairs)
    keys = np.fromiter((k for k, _ in ordered), dtype=np.int64, count=len(ordered))
    docs = np.fromiter((d for _, d in ordered), dtype=np.int32, count=len(ordered))
    return keys, docs
