"""ICD-10-CM Alphabetic Index: index phrases as synonyms of the codes they lead to.

The index is a tree of terms: a main term ("Fracture") with indented subterms
("femur" > "shaft"), some of which carry a code (``S72.3-``) and some of which
send the reader elsewhere ("Heart attack, see Infarct, myocardium"). Each line
becomes a phrase made of its path of terms, main term first
("fracture femur shaft"); a two-term path also gives the subterm-first order,
which is how people say most of them ("heart attack" from "Attack" > "heart").
A line with a code gives its phrase to that code; a "see" or "see also" line
gives it to the code(s) of the line it points to.

Two inputs are read: the flattened main index CSV
(``RowID,Letter,Level,Term,See,SeeAlso,NonEssModif,Code``, rows in document
order) and the CDC index XML (the external-cause index; the main index XML has
the same schema). The neoplasm and drug tables are not read.

Known limits: phrases are built mechanically, so a few read oddly ("ear
swimmer's" beside "swimmer's ear"); non-essential modifiers are left out; a
reference that names a path the index does not have is dropped.
"""

from __future__ import annotations

import csv
import logging
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from corpus.errors import CorpusError

logger = logging.getLogger(__name__)

# At most this many phrases are kept per code, the shortest first.
MAX_PHRASES_PER_CODE = 40
# A reference to a term without a code stands for the codes of its subterms,
# but only for this many: more would spread a phrase too thin.
MAX_CODES_PER_REFERENCE = 20
# A reference that points to another reference is followed this far.
MAX_REFERENCE_DEPTH = 3
# Words that start a subterm which reads after the main term, never before it
# ("fracture with delayed healing", not "with delayed healing fracture").
CONNECTING_WORDS = frozenset(
    [
        "with",
        "without",
        "in",
        "of",
        "due",
        "from",
        "by",
        "for",
        "on",
        "to",
        "after",
        "following",
        "during",
        "complicating",
        "affecting",
        "involving",
        "and",
        "or",
        "as",
        "at",
        "not",
    ]
)
# Index conventions that searchers never type.
DROPPED_WORDS = frozenset({"NEC", "NOS"})
CSV_COLUMNS = (
    "RowID",
    "Letter",
    "Level",
    "Term",
    "See",
    "SeeAlso",
    "NonEssModif",
    "Code",
)
# A code at the end of a reference, after its term.
TRAILING_CODE = re.compile(r"^(.*\S)\s+([A-Z]\d[0-9A-Z](?:\.[0-9A-Z]{1,4})?-?)$")
# XML elements that give a line its code.
XML_CODE_TAGS = ("code", "subcat", "seecat")


@dataclass(frozen=True)
class IndexLine:
    """One line of the index: a term at a depth, with a code or a reference."""

    level: int
    term: str
    see: str = ""
    see_also: str = ""
    code: str = ""


@dataclass
class _Node:
    """A term of the rebuilt index tree."""

    line: IndexLine
    words: str
    parent: _Node | None = None
    children: dict[str, list[_Node]] = field(default_factory=dict)
    child_order: list[_Node] = field(default_factory=list)


def read_index_terms(path: Path) -> dict[str, list[str]]:
    """Index phrases by canonical code (``S72.3``), from a CSV or XML index file."""
    return index_terms(read_index_lines(path))


def read_index_lines(path: Path) -> list[IndexLine]:
    """The lines of an index file, in document order (CSV flattened, or XML)."""
    if path.suffix.lower() == ".xml":
        return _read_xml(path)
    return _read_csv(path)


def canonical_code(code: str) -> str:
    """The tabular form of a code: ``S72.3-`` -> ``S72.3``, ``J301`` -> ``J30.1``."""
    text = code.strip().upper().rstrip("-").rstrip(".")
    if len(text) > 3 and "." not in text:
        text = f"{text[:3]}.{text[3:]}"
    return text


def index_terms(lines: Iterable[IndexLine]) -> dict[str, list[str]]:
    """Index phrases by canonical code, from index lines in document order."""
    # Outline: rebuild the tree; give every line's phrases to its own code and
    # to the codes its references resolve to; then order, dedupe and cap.
    main_terms = _build_tree(lines)
    defaults = _default_qualified(main_terms)
    lookup = _key_lookup(main_terms)
    # A reference by the head word alone ("see Fracture, ankle") means the
    # default sense first.
    for nodes in lookup.values():
        nodes.sort(key=lambda n: id(n) not in defaults)
    found: dict[str, dict[str, tuple[int, int, int]]] = {}
    order = 0

    for node in _walk(main_terms):
        targets: list[tuple[str, int]] = []
        if node.line.code:
            targets.append((canonical_code(node.line.code), 0))
        if node.line.see and not _is_generic(node.line.see):
            codes = _resolve_codes(lookup, node.line.see, MAX_REFERENCE_DEPTH)
            targets.extend((code, 1) for code in codes)
        if node.line.see_also and not targets and not _is_generic(node.line.see_also):
            # "See also" points at related entries, not at other names for this
            # one: it is followed only from a line with no code of its own, and
            # only to a term that is itself coded, never to every subterm of a
            # main term ("Fracture, traumatic - see also Fracture, pathological"
            # does not make pathological fractures traumatic ones).
            codes = _resolve_codes(
                lookup, node.line.see_also, MAX_REFERENCE_DEPTH, subterms=False
            )
            targets.extend((code, 1) for code in codes)
        if not targets:
            continue

        for phrase in _phrases(node, defaults):
            order += 1
            for code, via_reference in targets:
                by_phrase = found.setdefault(code, {})
                rank = (len(phrase.split()), via_reference, order)
                key = phrase.casefold()
                if key not in by_phrase or rank < by_phrase[key]:
                    by_phrase[key] = rank

    return {code: _best(by_phrase) for code, by_phrase in found.items()}


def _is_generic(reference: str) -> bool:
    """Whether a reference is the index's instruction to look up the condition
    itself ("Accidental - see condition"), not a term named "Condition"."""
    return reference.strip().casefold() == "condition"


def _best(by_phrase: dict[str, tuple[int, int, int]]) -> list[str]:
    """The shortest, most direct phrases first, at most MAX_PHRASES_PER_CODE."""
    ranked = sorted(by_phrase, key=by_phrase.__getitem__)
    return ranked[:MAX_PHRASES_PER_CODE]


def _build_tree(lines: Iterable[IndexLine]) -> list[_Node]:
    """Rebuild the term tree from the lines' levels; returns the main terms."""
    main_terms: list[_Node] = []
    stack: list[_Node] = []
    for line in lines:
        is_main = line.level == 0 or not stack
        node = _Node(line, _term_words(line.term, is_main))
        if is_main:
            main_terms.append(node)
            stack = [node]
            continue
        # A level that skips a step hangs under the deepest line above it.
        del stack[min(line.level, len(stack)) :]
        parent = stack[-1]
        node.parent = parent
        parent.child_order.append(node)
        for key in _keys(line.term):
            parent.children.setdefault(key, []).append(node)
        stack.append(node)
    return main_terms


def _walk(main_terms: list[_Node]) -> Iterable[_Node]:
    """Every node, in document order."""
    pending = list(reversed(main_terms))
    while pending:
        node = pending.pop()
        yield node
        pending.extend(reversed(node.child_order))


def _key_lookup(main_terms: list[_Node]) -> dict[str, list[_Node]]:
    """Main terms by every name a reference may use for them."""
    lookup: dict[str, list[_Node]] = {}
    for node in main_terms:
        for key in _keys(node.line.term):
            lookup.setdefault(key, []).append(node)
    return lookup


def _keys(term: str) -> list[str]:
    """Names a reference may use for a term: ``Infarct, infarction`` -> itself,
    ``infarct``, ``infarction``."""
    whole = _normalise(term)
    parts = [part.strip() for part in whole.split(",") if part.strip()]
    return list(dict.fromkeys([whole, *parts]))


def _normalise(text: str) -> str:
    """Lower case with single spaces, for matching references to terms."""
    return " ".join(text.casefold().split())


def _resolve_codes(
    lookup: dict[str, list[_Node]], reference: str, depth: int, subterms: bool = True
) -> list[str]:
    """The codes a "see" reference (``Infarct, myocardium``) leads to.

    With ``subterms`` false, only a coded term counts, never its subterms' codes.
    """
    parts = [part.strip() for part in _normalise(reference).split(",") if part.strip()]
    # "Ulcer, pressure, by site" means: pick a subterm of "pressure" yourself.
    by_subterm = bool(parts) and parts[-1].startswith("by ")
    for taken in range(len(parts), 0, -1):
        for main in lookup.get(", ".join(parts[:taken]), []):
            node = _descend(main, parts[taken:])
            if node is None:
                continue
            if not subterms:
                return [canonical_code(node.line.code)] if node.line.code else []
            return _node_codes(lookup, node, depth, by_subterm)
    return []


def _descend(node: _Node, parts: list[str]) -> _Node | None:
    """The subterm of ``node`` that the remaining reference parts name."""
    if not parts:
        return node
    for taken in range(len(parts), 0, -1):
        for child in node.children.get(", ".join(parts[:taken]), []):
            found = _descend(child, parts[taken:])
            if found is not None:
                return found
    if all(part.startswith("by ") for part in parts):
        return node
    return None


def _node_codes(
    lookup: dict[str, list[_Node]], node: _Node, depth: int, by_subterm: bool
) -> list[str]:
    """A node's code; else its reference's codes; else its subterms' codes.

    A reference "by site" (or "by type"...) takes the subterms' codes as well.
    """
    own = [canonical_code(node.line.code)] if node.line.code else []
    if own and not by_subterm:
        return own
    if not own and node.line.see and depth > 0:
        return _resolve_codes(lookup, node.line.see, depth - 1)
    children = [
        canonical_code(child.line.code) for child in node.child_order if child.line.code
    ]
    return list(dict.fromkeys([*own, *children]))[:MAX_CODES_PER_REFERENCE]


def _term_words(term: str, is_main: bool) -> str:
    """A term as phrase words: ``Attack, attacks`` -> ``attack``;
    ``cyanotic, newborn`` -> ``cyanotic newborn``."""
    parts = [part.strip() for part in term.split(",") if part.strip()]
    if not parts:
        return ""
    first = parts[0].casefold()
    # "Abdomen, abdominal" lists spellings of one word: keep the first.
    is_spelling_list = len(parts) > 1 and all(
        " " not in p and p.casefold()[:3] == first[:3] for p in parts
    )
    words = parts[:1] if is_spelling_list else parts
    text = " ".join(" ".join(words).split())
    text = " ".join(w for w in text.split() if w not in DROPPED_WORDS)
    # Main terms are capitalised as headings; acronyms (HIV) keep their case.
    if is_main and len(text) > 1 and text[1].islower():
        text = text[0].lower() + text[1:]
    return text


def _default_qualified(main_terms: list[_Node]) -> dict[int, str]:
    """Main terms whose qualifier is the default sense of their head word.

    ``Fracture, traumatic`` (1,194 lines) is where the index puts a plain
    fracture: there is no main term ``Fracture``, and the other qualified forms
    (pathological: 102 lines; nontraumatic, burst...) are together less than
    half its size. Such a main term also answers to
    its head word alone: ``fracture ankle`` as well as ``fracture traumatic
    ankle``. Returns the head word by ``id`` of the main-term node.
    """
    sizes: dict[int, int] = {}
    for node in main_terms:
        count, pending = 0, [node]
        while pending:
            current = pending.pop()
            count += 1
            pending.extend(current.child_order)
        sizes[id(node)] = count
    plain = {_normalise(node.line.term) for node in main_terms}
    by_head: dict[str, list[_Node]] = {}
    for node in main_terms:
        head, _, qualifier = node.line.term.partition(",")
        if qualifier.strip() and node.words != head.strip().casefold():
            by_head.setdefault(head.strip(), []).append(node)
    defaults: dict[int, str] = {}
    for head, nodes in by_head.items():
        if len(nodes) < 2 or _normalise(head) in plain:
            continue
        largest = max(nodes, key=lambda n: sizes[id(n)])
        others = sum(sizes[id(n)] for n in nodes if n is not largest)
        if sizes[id(largest)] > 2 * others:
            defaults[id(largest)] = _term_words(head, is_main=True)
    return defaults


def _phrases(node: _Node, defaults: dict[int, str] | None = None) -> list[str]:
    """The phrases of a node's path: main term first, and for a two-term path
    the subterm first too (``attack heart``, ``heart attack``); under a main term
    qualified by its default sense, the path without the qualifier as well."""
    path: list[_Node] = []
    current: _Node | None = node
    while current is not None:
        path.insert(0, current)
        current = current.parent
    words = [n.words for n in path if n.words]
    if not words:
        return []

    phrases = [" ".join(words)]
    if len(path) == 2 and len(words) == 2:
        subterm = words[1].split()
        if len(subterm) <= 3 and subterm[0].casefold() not in CONNECTING_WORDS:
            phrases.insert(0, f"{words[1]} {words[0]}")
    head = (defaults or {}).get(id(path[0]))
    if head and len(path) > 1 and path[0].words:
        phrases.append(" ".join([head, *(n.words for n in path[1:] if n.words)]))
    return phrases


def _read_csv(path: Path) -> list[IndexLine]:
    """Lines of the flattened index CSV."""
    lines = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise CorpusError(
                    f"{path}, line 1: header lacks {', '.join(missing)}; expected "
                    f"{','.join(CSV_COLUMNS)}"
                )
            for number, row in enumerate(reader, start=2):
                lines.append(_csv_line(path, number, row))
    except (OSError, UnicodeDecodeError) as error:
        raise CorpusError(f"{path}: cannot read the index file ({error})") from None
    return lines


def _csv_line(path: Path, number: int, row: dict[str, str]) -> IndexLine:
    """One CSV row as an index line."""
    level_text = (row["Level"] or "").strip()
    if not level_text.isdigit():
        raise CorpusError(
            f"{path}, line {number}: Level is {level_text!r}, expected a number "
            "(0 for a main term)"
        )
    see, see_code = _split_code((row["See"] or "").strip())
    see_also, see_also_code = _split_code((row["SeeAlso"] or "").strip())
    return IndexLine(
        level=int(level_text),
        term=(row["Term"] or "").strip(),
        see=see,
        see_also=see_also,
        code=(row["Code"] or "").strip() or see_code or see_also_code,
    )


def _split_code(reference: str) -> tuple[str, str]:
    """A reference and the line's own code the flattening glued onto its end.

    ``Fracture, traumatic M84.40`` -> (``Fracture, traumatic``, ``M84.40``); a
    reference to a category (``category M01``) is left whole.
    """
    found = TRAILING_CODE.match(reference)
    if found is None or found.group(1).casefold().endswith("category"):
        return reference, ""
    return found.group(1), found.group(2)


def _read_xml(path: Path) -> list[IndexLine]:
    """Lines of a CDC index XML file (``mainTerm`` and nested ``term`` elements)."""
    try:
        root = ElementTree.parse(path).getroot()
    except (OSError, ElementTree.ParseError) as error:
        raise CorpusError(f"{path}: not a readable index XML file ({error})") from None

    lines: list[IndexLine] = []
    for main in root.iter("mainTerm"):
        _xml_term(main, 0, lines)
    if not lines:
        raise CorpusError(f"{path}: no <mainTerm> elements; expected a CDC index XML")
    return lines


def _xml_term(element: ElementTree.Element, level: int, lines: list[IndexLine]) -> None:
    """Add one term element and its subterms, in document order."""
    title = element.find("title")
    codes = [
        (child.text or "").strip()
        for tag in XML_CODE_TAGS
        for child in element.findall(tag)
    ]
    lines.append(
        IndexLine(
            level=level,
            term=_xml_title(title) if title is not None else "",
            see=(element.findtext("see") or "").strip(),
            see_also=(element.findtext("seeAlso") or "").strip(),
            code=next((code for code in codes if code), ""),
        )
    )
    for child in element.findall("term"):
        level_text = child.get("level", "")
        child_level = int(level_text) if level_text.isdigit() else level + 1
        _xml_term(child, child_level, lines)


def _xml_title(title: ElementTree.Element) -> str:
    """A title's text without its non-essential modifiers (``<nemod>``)."""
    pieces = [title.text or ""]
    for child in title:
        if child.tag != "nemod":
            pieces.append(child.text or "")
        pieces.append(child.tail or "")
    text = " ".join("".join(pieces).split())
    return re.sub(r"\s+,", ",", text)
