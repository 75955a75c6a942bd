"""Specialties for every code, from a reviewed rule table and an optional user file.

No public file maps codes to specialties, so ``corpus/data/specialty-rules.tsv``
holds general rules (see ``docs/specialties.md``): by code range, by category
(ICD-10-CM chapter or block, HCPCS section, BETOS category) and by whole words or
phrases of the descriptors. Every rule that matches a code adds its specialties;
a ``fallback`` rule adds its own only when no ``add`` rule matched. Specialties are
named in ``corpus/data/specialties.tsv`` by a slug, a label and the NUCC taxonomy
codes they stand for.
"""

from __future__ import annotations

import csv
import itertools
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Literal

from corpus import datadir
from corpus.categories import category_ids
from corpus.errors import CorpusError
from corpus.records import SYSTEM_LABELS, CodeRecord
from corpus.taxonomy import read_taxonomy

logger = logging.getLogger(__name__)

Mode = Literal["extend", "replace"]
SPECIALTIES_FILE = "specialties.tsv"
RULES_FILE = "specialty-rules.tsv"
USER_COLUMNS = ["system", "code", "specialty"]
# User files the corpus loader looks for at the top of the data directory.
USER_FILES: dict[str, Mode] = {
    "specialties.csv": "extend",
    "specialties-replace.csv": "replace",
}
TIERS = ("add", "fallback")
KINDS = ("range", "category", "keyword")
ANY_SYSTEM = "*"
# Turns a slug, label or NUCC name into a specialty id; the second argument
# says where the name was read, or None to accept unknown names as new.
Resolver = Callable[[str, str | None], str]

_WORD = re.compile(r"\w+")
_SLUG_GAP = re.compile(r"[^a-z0-9]+")
# Separates title from short descriptor so that no phrase spans the two.
_FIELD_BREAK = "|"


class SpecialtyError(CorpusError, ValueError):
    """A specialty table, rule table or user file is malformed."""


@dataclass(frozen=True)
class Specialty:
    """A specialty users can filter on: a stable slug, a label, its NUCC codes."""

    id: str
    label: str
    nucc_codes: tuple[str, ...] = ()
    nucc_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    """One row of the rule table, or one row of a user's code -> specialty file.

    ``kind`` is ``range``, ``category``, ``keyword`` or (user rows) ``code``;
    ``patterns`` holds the ranges, category ids, keywords or the one code.
    """

    id: str
    tier: str
    kind: str
    system: str
    patterns: tuple[str, ...]
    specialties: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True)
class Assignment:
    """One specialty given to a code, with the rule that gave it and why."""

    specialty_id: str
    label: str
    rule_id: str
    reason: str


class SpecialtyRules:
    """The compiled rule table (plus a user file), ready to assign specialties."""

    def __init__(
        self,
        specialties: Mapping[str, Specialty],
        rules: Iterable[Rule],
        mode: Mode = "extend",
    ) -> None:
        """Compile ``rules``; user ``code`` rules come first and win in replace mode."""
        if mode not in ("extend", "replace"):
            raise SpecialtyError(f"mode {mode!r} is not one of 'extend', 'replace'")
        self.specialties = dict(specialties)
        self.rules = tuple(rules)
        self.mode = mode
        unknown = {
            s for rule in self.rules for s in rule.specialties
        } - self.specialties.keys()
        if unknown:
            raise SpecialtyError(f"rules name unknown specialties {sorted(unknown)}")

        self._codes: dict[tuple[str, str], list[int]] = {}
        self._ranges: dict[tuple[str, str], list[tuple[int, str, str]]] = {}
        self._categories: dict[str, list[int]] = {}
        self._keywords = _KeywordIndex()
        for index, rule in enumerate(self.rules):
            self._compile(index, rule)

    @classmethod
    def load(
        cls,
        taxonomy_path: Path | None = None,
        user_file: Path | None = None,
        mode: Mode = "extend",
    ) -> SpecialtyRules:
        """Load the built-in rules, check them against NUCC, add the user's file.

        With ``taxonomy_path`` every NUCC code of every specialty must exist in
        that file under the name the specialty table gives. ``mode`` says what a
        user row does to its code: ``extend`` adds to the rules' specialties,
        ``replace`` stands instead of them (codes not in the file keep the rules).
        """
        specialties = read_specialties()
        if taxonomy_path is not None:
            check_against_taxonomy(specialties, taxonomy_path)
        rules = read_rules(specialties)
        user_rules: list[Rule] = []
        if user_file is not None:
            user_rules = read_user_file(user_file, specialties)

        compiled = cls(specialties, [*user_rules, *rules], mode)
        logger.info(
            "loaded %d specialty rules, %d user rows (%s), %d specialties",
            len(rules),
            len(user_rules),
            mode,
            len(specialties),
        )
        return compiled

    def assign(self, record: CodeRecord) -> tuple[Assignment, ...]:
        """Every specialty the rules give ``record``, each with its rule and reason."""
        assignments = []
        for index, detail in self._matches(record):
            rule = self.rules[index]
            reason = _reason(rule, detail)
            for specialty_id in rule.specialties:
                label = self.specialties[specialty_id].label
                assignments.append(Assignment(specialty_id, label, rule.id, reason))
        return tuple(assignments)

    def specialty_ids(self, record: CodeRecord) -> tuple[str, ...]:
        """The record's specialty ids, in rule order, without repeats."""
        ids: dict[str, None] = {}
        for index, _ in self._matches(record):
            for specialty_id in self.rules[index].specialties:
                ids[specialty_id] = None
        return tuple(ids)

    def labels(self) -> dict[str, str]:
        """Map every specialty id to its label."""
        return {key: specialty.label for key, specialty in self.specialties.items()}

    def _compile(self, index: int, rule: Rule) -> None:
        """File the rule under the lookup that finds it fast."""
        if rule.kind == "code":
            self._codes.setdefault((rule.system, rule.patterns[0]), []).append(index)
        elif rule.kind == "range":
            for pattern in rule.patterns:
                low, high = _parse_range(pattern, rule.id)
                # Index by first character so a code looks at few ranges.
                for letter in range(ord(low[0]), ord(high[0]) + 1):
                    key = (rule.system, chr(letter))
                    self._ranges.setdefault(key, []).append((index, low, high))
        elif rule.kind == "category":
            for category in rule.patterns:
                self._categories.setdefault(category, []).append(index)
        else:
            for keyword in rule.patterns:
                self._keywords.add(index, keyword, rule.id)

    def _matches(self, record: CodeRecord) -> list[tuple[int, str]]:
        """Indexes of the rules that apply to ``record``, in order, with details.

        Steps: user code rows (which alone count in replace mode), then code
        ranges, categories and keywords; fallback rules count only when no
        ``add`` rule matched.
        """
        system = record.system
        code = normalize_code(record.code)
        hits: dict[int, str] = {}

        for index in self._codes.get((system, code), ()):
            hits[index] = code
        if hits and self.mode == "replace":
            return sorted(hits.items())

        for index, low, high in self._ranges.get((system, code[:1]), ()):
            if low <= code[: len(low)] and code[: len(high)] <= high:
                hits.setdefault(index, f"{low}-{high}")
        for category in category_ids(record):
            for index in self._categories.get(category, ()):
                if self.rules[index].system in (ANY_SYSTEM, system):
                    hits.setdefault(index, category)
        for index, keyword in self._keywords.find(record.title, record.short):
            if self.rules[index].system in (ANY_SYSTEM, system):
                hits.setdefault(index, keyword)

        added = [(i, d) for i, d in hits.items() if self.rules[i].tier != "fallback"]
        return sorted(added or hits.items())


class _KeywordIndex:
    """Whole-word keyword and phrase lookup over token sets, not per-rule regexes.

    A descriptor is lower-cased and split into words once. Single words are found
    by set intersection; ``prefix*`` words through a cache filled the first time a
    word is seen; a phrase is tested by substring only when its first two words
    occur next to each other (set intersection of word pairs).
    """

    def __init__(self) -> None:
        self._words: dict[str, list[tuple[int, str]]] = {}
        self._prefixes: list[tuple[str, int, str]] = []
        self._phrases: dict[str, list[tuple[str, int, str]]] = {}
        self._prefix_hits: dict[str, list[tuple[int, str]]] = {}
        self._seen: set[str] = set()
        self._word_keys: frozenset[str] = frozenset()
        self._pair_keys: frozenset[str] = frozenset()

    def add(self, index: int, keyword: str, rule_id: str) -> None:
        """Register one keyword (``bone scan``, ``radiograph*``) of rule ``index``."""
        words = _WORD.findall(keyword.lower())
        wildcard = keyword.endswith("*")
        if not words or (wildcard and len(words) > 1):
            raise SpecialtyError(
                f"{RULES_FILE} rule {rule_id}: keyword {keyword!r} must be words, "
                "or a single word ending in * (a prefix)"
            )
        if wildcard:
            self._prefixes.append((words[0], index, keyword))
            self._seen.clear()
            self._prefix_hits.clear()
            return

        # Plurals match too: "fracture" finds "fractures".
        for ending in ("", "s", "es"):
            variant = [*words[:-1], words[-1] + ending]
            if len(variant) == 1:
                self._words.setdefault(variant[0], []).append((index, keyword))
            else:
                pair = " ".join(variant[:2])
                entry = (f" {' '.join(variant)} ", index, keyword)
                self._phrases.setdefault(pair, []).append(entry)
        self._word_keys = frozenset(self._words)
        self._pair_keys = frozenset(self._phrases)

    def find(self, *texts: str) -> list[tuple[int, str]]:
        """Rules (index, keyword) whose keywords occur as whole words in ``texts``."""
        tokens: list[str] = []
        for text in texts:
            tokens.extend(_WORD.findall(text.lower()))
            tokens.append(_FIELD_BREAK)
        present = set(tokens)
        hits: list[tuple[int, str]] = []

        for word in present & self._word_keys:
            hits.extend(self._words[word])
        for word in present - self._seen:
            self._learn(word)
        for word in present & self._prefix_hits.keys():
            hits.extend(self._prefix_hits[word])
        pairs = set(map(" ".join, itertools.pairwise(tokens)))
        starts = pairs & self._pair_keys
        if starts:
            joined = f" {' '.join(tokens)} "
            for pair in starts:
                hits.extend(
                    (index, keyword)
                    for phrase, index, keyword in self._phrases[pair]
                    if phrase in joined
                )
        return hits

    def _learn(self, word: str) -> None:
        """Remember which prefix keywords a word matches (most words: none)."""
        self._seen.add(word)
        found = [(i, k) for prefix, i, k in self._prefixes if word.startswith(prefix)]
        if found:
            self._prefix_hits[word] = found


def assign_specialties(
    records: Iterable[CodeRecord], rules: SpecialtyRules
) -> Iterator[CodeRecord]:
    """Fill each record's ``specialties`` with ids from ``rules``, in rule order."""
    started = time.perf_counter()
    count = 0
    for record in records:
        count += 1
        yield _with_specialties(record, rules.specialty_ids(record))
    logger.info(
        "assigned specialties to %d records in %.2f s",
        count,
        time.perf_counter() - started,
    )


def _with_specialties(record: CodeRecord, ids: tuple[str, ...]) -> CodeRecord:
    """A copy of ``record`` with ``specialties`` set.

    Equivalent to ``dataclasses.replace`` but about ten times faster, which
    matters over 100,000 records: copy the instance dictionary, change one key.
    """
    if not hasattr(record, "__dict__"):
        return replace(record, specialties=ids)
    copied: CodeRecord = object.__new__(CodeRecord)
    copied.__dict__.update(record.__dict__)
    copied.__dict__["specialties"] = ids
    return copied


def assign(records: Iterable[CodeRecord], data_dir: Path) -> Iterator[CodeRecord]:
    """Specialties for the corpus loader, with the NUCC file and user file of
    ``data_dir``.

    The user file is ``specialties.csv`` (extend) or ``specialties-replace.csv``
    (replace) at the top of ``data_dir``; having both is an error.
    """
    sources = datadir.discover(data_dir)
    taxonomies = [s.path for s in sources if s.kind == datadir.NUCC_TAXONOMY]
    present = [
        (name, mode) for name, mode in USER_FILES.items() if (data_dir / name).is_file()
    ]
    if len(present) > 1:
        raise SpecialtyError(
            f"{data_dir}: both {' and '.join(n for n, _ in present)} exist; "
            "keep one (extend or replace)"
        )
    user_file: Path | None = None
    mode: Mode = "extend"
    if present:
        user_file, mode = data_dir / present[0][0], present[0][1]
    rules = SpecialtyRules.load(taxonomies[0] if taxonomies else None, user_file, mode)
    return assign_specialties(records, rules)


def specialty_labels(rules: SpecialtyRules | None = None) -> dict[str, str]:
    """Map specialty ids to labels: the built-in ones, or those of ``rules``."""
    if rules is not None:
        return rules.labels()
    return {key: specialty.label for key, specialty in read_specialties().items()}


def normalize_code(code: str) -> str:
    """A code as rules compare it: upper case, no dot or space (``e11.9`` -> E119)."""
    return code.replace(".", "").replace(" ", "").upper()


def slugify(name: str) -> str:
    """A stable id from a name: ``Hematology & Oncology`` -> ``hematology-oncology``."""
    return _SLUG_GAP.sub("-", name.lower()).strip("-")


def read_specialties() -> dict[str, Specialty]:
    """Read the built-in specialty table (``corpus/data/specialties.tsv``)."""
    specialties: dict[str, Specialty] = {}
    for line, row in _data_rows(SPECIALTIES_FILE, ["id", "label", "nucc", "nucc_name"]):
        key, label, codes, names = (value.strip() for value in row)
        nucc_codes = tuple(codes.split(";"))
        nucc_names = tuple(names.split(";"))
        if key != slugify(key) or key in specialties:
            raise SpecialtyError(
                f"{SPECIALTIES_FILE} line {line}: id {key!r} is repeated or not a slug"
            )
        if len(nucc_codes) != len(nucc_names):
            raise SpecialtyError(
                f"{SPECIALTIES_FILE} line {line}: {len(nucc_codes)} NUCC codes but "
                f"{len(nucc_names)} names; expected one name per code"
            )
        specialties[key] = Specialty(key, label, nucc_codes, nucc_names)
    return specialties


def check_against_taxonomy(
    specialties: Mapping[str, Specialty], taxonomy_path: Path
) -> None:
    """Raise unless every specialty's NUCC codes exist with the names given."""
    names = {entry.code: entry.name for entry in read_taxonomy(taxonomy_path)}
    for specialty in specialties.values():
        for code, name in zip(specialty.nucc_codes, specialty.nucc_names, strict=True):
            if names.get(code) != name:
                raise SpecialtyError(
                    f"{SPECIALTIES_FILE}: specialty {specialty.id!r} names NUCC code "
                    f"{code} {name!r}, but {taxonomy_path} has "
                    f"{names.get(code, 'no such code')!r}"
                )


def read_rules(specialties: Mapping[str, Specialty]) -> list[Rule]:
    """Read and check the built-in rule table (``corpus/data/specialty-rules.tsv``)."""
    columns = ["id", "tier", "kind", "system", "match", "specialties", "note"]
    resolve = _resolver(specialties)
    rules: list[Rule] = []
    seen: set[str] = set()
    for line, row in _data_rows(RULES_FILE, columns):
        rule_id, tier, kind, system, match, named, note = (v.strip() for v in row)
        where = f"{RULES_FILE} line {line} (rule {rule_id!r})"
        if not rule_id or rule_id in seen:
            raise SpecialtyError(f"{where}: rule id is empty or repeated")
        if tier not in TIERS or kind not in KINDS:
            raise SpecialtyError(
                f"{where}: tier {tier!r} / kind {kind!r}; expected tier in {TIERS} "
                f"and kind in {KINDS}"
            )
        if system != ANY_SYSTEM and system not in SYSTEM_LABELS:
            raise SpecialtyError(
                f"{where}: system {system!r}; expected '*' or one of "
                f"{sorted(SYSTEM_LABELS)}"
            )
        if kind == "range" and system == ANY_SYSTEM:
            raise SpecialtyError(f"{where}: a range rule must name its system")
        separator = "|" if kind == "keyword" else ";"
        patterns = tuple(p.strip() for p in match.split(separator) if p.strip())
        if kind == "range":
            patterns = tuple(normalize_code(p) for p in patterns)
            for pattern in patterns:
                _parse_range(pattern, rule_id)
        ids = tuple(resolve(name, where) for name in named.split(";") if name.strip())
        if not patterns or not ids:
            raise SpecialtyError(f"{where}: needs a match and at least one specialty")
        seen.add(rule_id)
        rules.append(Rule(rule_id, tier, kind, system, patterns, ids, note))
    return rules


def read_user_file(path: Path, specialties: dict[str, Specialty]) -> list[Rule]:
    """Read a user's ``system,code,specialty`` CSV into one ``code`` rule per row.

    ``specialty`` is a slug or a label of a known specialty (or its NUCC name);
    an unknown name becomes a new specialty whose id is its slug. Adds those
    new specialties to ``specialties``.
    """
    resolve = _resolver(specialties)
    systems = {label.lower(): key for key, label in SYSTEM_LABELS.items()}
    systems["hcpcs"] = "hcpcs"
    rules: list[Rule] = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = [cell.strip().lower() for cell in next(reader, [])]
            if header != USER_COLUMNS:
                raise SpecialtyError(
                    f"{path} line 1: header is {header!r}; expected {USER_COLUMNS}"
                )
            for line, row in enumerate(reader, 2):
                if not any(cell.strip() for cell in row):
                    continue
                cells = [cell.strip() for cell in row]
                if len(cells) != 3 or not all(cells):
                    raise SpecialtyError(
                        f"{path} line {line}: {row!r}; expected three non-empty "
                        "values: system,code,specialty"
                    )
                system = systems.get(cells[0].lower(), cells[0].lower())
                specialty_id = resolve(cells[2], None)
                if specialty_id not in specialties:
                    specialties[specialty_id] = Specialty(specialty_id, cells[2])
                    resolve = _resolver(specialties)
                code = normalize_code(cells[1])
                rule_id = f"user:{path.name}:{line}"
                rules.append(
                    Rule(rule_id, "add", "code", system, (code,), (specialty_id,))
                )
    except OSError as error:
        raise SpecialtyError(f"{path}: cannot read the user file: {error}") from error
    return rules


def _resolver(specialties: Mapping[str, Specialty]) -> Resolver:
    """A function from a slug, label or NUCC name to a specialty id."""
    names: dict[str, str] = {}
    clashes: set[str] = set()
    for specialty in specialties.values():
        aliases = {specialty.id, specialty.label.lower()}
        for name in specialty.nucc_names:
            aliases.update({name.lower(), name.rpartition(" / ")[2].lower()})
        for alias in aliases:
            if names.setdefault(alias, specialty.id) != specialty.id:
                clashes.add(alias)
    for alias in clashes:
        del names[alias]

    def resolve(name: str, where: str | None) -> str:
        key = name.strip().lower()
        found = names.get(key) or names.get(slugify(key))
        if found is not None:
            return found
        if where is not None:
            raise SpecialtyError(
                f"{where}: specialty {name!r} is not in {SPECIALTIES_FILE}; "
                "use its id or label"
            )
        return slugify(key)

    return resolve


def _data_rows(name: str, columns: list[str]) -> Iterator[tuple[int, list[str]]]:
    """Rows of a packaged tab-separated file, skipping ``#`` comments and blanks."""
    text = (resources.files("corpus") / "data" / name).read_text(encoding="utf-8")
    header_seen = False
    for line, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.startswith("#"):
            continue
        row = raw.split("\t")
        if not header_seen:
            if row != columns:
                raise SpecialtyError(
                    f"{name} line {line}: header {row!r}; expected {columns}"
                )
            header_seen = True
            continue
        if len(row) != len(columns):
            raise SpecialtyError(
                f"{name} line {line}: {len(row)} fields in {raw!r}; "
                f"expected {len(columns)} ({', '.join(columns)})"
            )
        yield line, row


def _parse_range(pattern: str, rule_id: str) -> tuple[str, str]:
    """Split ``A0000-A0999`` (or a single ``V5008``) into its two ends."""
    low, _, high = pattern.partition("-")
    high = high or low
    if not low or len(low) != len(high) or low > high:
        raise SpecialtyError(
            f"{RULES_FILE} rule {rule_id}: range {pattern!r}; expected LOW-HIGH "
            "with ends of equal length, LOW <= HIGH (A0000-A0999)"
        )
    return low, high


def _reason(rule: Rule, detail: str) -> str:
    """Why a rule matched, in words, for an explanation to the user."""
    if rule.kind == "code":
        return f"listed for code {detail} in the user file ({rule.id})"
    if rule.kind == "range":
        reason = f"code in range {detail}"
    elif rule.kind == "category":
        reason = f"in category {detail}"
    else:
        reason = f'descriptor contains "{detail}"'
    if rule.tier == "fallback":
        reason += " (fallback: no more specific rule matched)"
    return f"{reason}; {rule.note}" if rule.note else reason
