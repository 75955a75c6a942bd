"""Categories for every code: HCPCS sections and BETOS, ICD-10-CM chapters and blocks.

Each category is a :class:`~corpus.records.Category` with a stable id and a label;
its ``path`` names its ancestors so that a filter on a parent finds the children:

* HCPCS: the section named by the code's first letter (``hcpcs:E``), and where the
  release gives one the BETOS category (``betos:D1E``, path ``("betos:D",)``).
  Two-character modifiers get the section ``hcpcs:modifier``.
* ICD-10-CM: the chapter (``icd10cm:ch04``) and the block (``icd10cm:E08-E13``,
  path ``("icd10cm:ch04",)``), set by the reader and checked here.
"""

from __future__ import annotations

import csv
import functools
import logging
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType

from corpus import datadir
from corpus.errors import CorpusError
from corpus.records import Category, CodeRecord
from corpus.tables import read_keyed_tables

logger = logging.getLogger(__name__)

HCPCS = "hcpcs"
ICD10CM = "icd10cm"
MODIFIER = "modifier"
SECTIONS_FILE = "hcpcs-sections.tsv"
CHAPTER_PREFIX = f"{ICD10CM}:ch"


class CategoryError(CorpusError, ValueError):
    """A category table is missing or malformed."""


@dataclass(frozen=True)
class CategoryTables:
    """Labels of HCPCS sections, BETOS families and BETOS categories."""

    sections: Mapping[str, str]
    betos_families: Mapping[str, str]
    betos: Mapping[str, str]

    @classmethod
    def load(cls, layout: Path | None) -> CategoryTables:
        """Read the built-in tables and, if given, the record-layout code tables."""
        builtin = builtin_tables()
        if layout is None:
            return builtin
        return cls(builtin.sections, builtin.betos_families, read_betos_labels(layout))

    def betos_label(self, code: str) -> str:
        """The BETOS category's name, or a plain stand-in when it is unknown."""
        return self.betos.get(code, f"BETOS {code}")

    def family_label(self, letter: str) -> str:
        """The BETOS family's name, or a plain stand-in when it is unknown."""
        return self.betos_families.get(letter, f"BETOS {letter}")


@functools.cache
def builtin_tables() -> CategoryTables:
    """The HCPCS sections and BETOS families shipped in ``corpus/data``."""
    tables = read_keyed_tables(
        SECTIONS_FILE,
        ("kind", "key", "label"),
        ("section", "betos-family"),
        CategoryError,
    )
    return CategoryTables(tables["section"], tables["betos-family"], {})


def read_betos_labels(layout: Path) -> dict[str, str]:
    """Read the BETOS names from ``record-layout-code-tables.csv``."""
    labels: dict[str, str] = {}
    try:
        with layout.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames != ["table", "code", "description"]:
                raise CategoryError(
                    f"{layout}: header is {reader.fieldnames!r}; "
                    "expected ['table', 'code', 'description']"
                )
            for row in reader:
                if row["table"].strip().upper() == "BETOS":
                    labels[row["code"].strip().upper()] = row["description"].strip()
    except OSError as error:
        raise CategoryError(
            f"{layout}: cannot read the code tables: {error}"
        ) from error
    if not labels:
        raise CategoryError(f"{layout}: no row has table == BETOS")
    return labels


def assign_categories(
    records: Iterable[CodeRecord], layout: Path | None
) -> Iterator[CodeRecord]:
    """Give each HCPCS record its section and BETOS category; check ICD-10-CM ones.

    ``layout`` is the record-layout code-tables CSV that names the BETOS codes;
    without it BETOS categories are labelled with their bare code.
    """
    tables = CategoryTables.load(layout)
    for record in records:
        yield categorize(record, tables)


def assign(records: Iterable[CodeRecord], data_dir: Path) -> Iterator[CodeRecord]:
    """Categories for the corpus loader, with BETOS names from ``data_dir``.

    The layout table is the first ``record-layout-code-tables.csv`` found there.
    """
    layouts = [
        s.path
        for s in datadir.discover(data_dir)
        if s.kind == datadir.HCPCS_CODE_TABLES
    ]
    return assign_categories(records, layouts[0] if layouts else None)


def categorize(record: CodeRecord, tables: CategoryTables) -> CodeRecord:
    """One record with its categories set (records of other systems unchanged)."""
    if record.system == HCPCS:
        return _categorize_hcpcs(record, tables)
    if record.system == ICD10CM:
        return _complete_icd10cm(record)
    return record


def category_ids(record: CodeRecord) -> set[str]:
    """Every category id of the record plus all their ancestors' ids."""
    ids: set[str] = set()
    for category in record.categories:
        ids.add(category.id)
        ids.update(category.path)
    return ids


def category_labels(
    records: Iterable[CodeRecord], layout: Path | None = None
) -> dict[str, str]:
    """Map every category id the records use, parents included, to its label."""
    tables = CategoryTables.load(layout)
    labels: dict[str, str] = {}
    parents: set[str] = set()
    for record in records:
        for category in record.categories:
            labels.setdefault(category.id, category.label)
            parents.update(category.path)

    # Parents are ids only; BETOS families are named by our table, ICD-10-CM
    # chapters are categories of the records themselves.
    for parent in parents - labels.keys():
        system, _, key = parent.partition(":")
        if system == "betos":
            labels[parent] = tables.family_label(key)
        else:
            labels[parent] = key
    return labels


def _categorize_hcpcs(record: CodeRecord, tables: CategoryTables) -> CodeRecord:
    """Replace the record's HCPCS section and BETOS category with fresh ones."""
    kept = [c for c in record.categories if not c.id.startswith(("hcpcs:", "betos:"))]
    code = record.code.strip().upper()
    key = MODIFIER if len(code) == 2 else code[:1]
    label = tables.sections.get(key)
    if label is None:
        logger.warning("HCPCS code %s: no section is named by %r", record.code, key)
        label = f"HCPCS {key} codes"
    added = [Category(f"{HCPCS}:{key}", label)]

    betos = record.attributes.get("betos", "").strip().upper()
    if betos:
        family = f"betos:{betos[0]}"
        added.append(Category(f"betos:{betos}", tables.betos_label(betos), (family,)))
    return replace(record, categories=(*added, *kept))


def _complete_icd10cm(record: CodeRecord) -> CodeRecord:
    """Make sure the record has a chapter and a block whose path names the chapter."""
    chapters = [c for c in record.categories if c.id.startswith(CHAPTER_PREFIX)]
    if not chapters:
        looked_up = _icd10cm_categories(record.code)
        if not looked_up:
            logger.warning("ICD-10-CM code %s: no chapter known", record.code)
            return record
        others = [c for c in record.categories if c.id not in {x.id for x in looked_up}]
        return replace(record, categories=(*looked_up, *others))

    chapter = chapters[0].id
    fixed = tuple(
        replace(c, path=(chapter,))
        if c.id.startswith(f"{ICD10CM}:") and c.id != chapter and not c.path
        else c
        for c in record.categories
    )
    return record if fixed == record.categories else replace(record, categories=fixed)


def _icd10cm_categories(code: str) -> tuple[Category, ...]:
    """Chapter and block of an ICD-10-CM code, from the simple_icd_10_cm package."""
    cm = _simple_icd_10_cm()
    if not cm.is_valid_item(code):
        return ()
    ancestors = cm.get_ancestors(code)
    chapter_name = ancestors[-1]
    chapter = Category(
        f"{CHAPTER_PREFIX}{int(chapter_name):02d}", cm.get_description(chapter_name)
    )
    # The block is the ancestor just below the chapter (a few blocks share
    # their name with a category, so look at the position, not the name).
    if len(ancestors) < 2:
        return (chapter,)
    block_name = ancestors[-2]
    block = Category(
        f"{ICD10CM}:{block_name}", cm.get_description(block_name), (chapter.id,)
    )
    return (chapter, block)


@functools.cache
def _simple_icd_10_cm() -> ModuleType:
    """The simple_icd_10_cm module, imported without its DeprecationWarning."""
    with warnings.catch_warnings():
        # It reads its data through pkg_resources, which warns on import.
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm

    module: ModuleType = simple_icd_10_cm
    return module
