"""Name keys and seventh-character stems, on invented rows."""

from __future__ import annotations

from dataclasses import dataclass

from corpus.records import CodeRecord
from indexer.analysis import terms
from indexer.names import extension_stems, name_key, name_terms, synonym_keys


@dataclass(frozen=True)
class Row:
    system: str
    code: str
    parent: str | None
    title: str


def test_name_key_ignores_order_repeats_and_neutral_words() -> None:
    assert name_key(terms("Fracture of ankle NOS")) == name_key(["ankl", "fractur"])
    assert name_key(terms("unspecified cataract")) == name_key(terms("cataract"))
    assert name_key(["ankl"]) != name_key(["ankl", "fractur"])
    assert 0 <= name_key(["x"]) < 2**63


def test_extension_stems_find_the_code_a_title_extends() -> None:
    rows = [
        Row("icd10cm", "S62.1", None, "Fracture of carpal bone"),
        Row("icd10cm", "S62.10", "S62.1", "Fracture of unspecified carpal bone"),
        Row(
            "icd10cm",
            "S62.10XA",
            "S62.10",
            "Fracture of unspecified carpal bone, initial encounter",
        ),
        Row(
            "icd10cm",
            "S62.10XS",
            "S62.10",
            "Fracture of unspecified carpal bone, sequela",
        ),
        Row("hcpcs", "A4351", None, "Intermittent urinary catheter"),
    ]
    assert extension_stems(rows).tolist() == [-1, -1, 1, 1, -1]


def test_synonym_keys_are_sorted_and_point_at_their_documents() -> None:
    records = [
        CodeRecord(
            "icd10cm",
            "S82.89",
            "",
            "Other fractures of lower leg",
            synonyms=("Fracture of ankle NOS",),
        ),
        CodeRecord("icd10cm", "R12", "", "Heartburn", synonyms=("pyrosis", "NOS")),
    ]
    keys, docs = synonym_keys(records, {"icd10cm:S82.89": 0, "icd10cm:R12": 1})
    assert keys.tolist() == sorted(keys.tolist())
    found = dict(zip(keys.tolist(), docs.tolist(), strict=True))
    assert found[name_key(["fractur", "ankl"])] == 0
    assert found[name_key(terms("pyrosis"))] == 1
    assert len(found) == 2  # a synonym of neutral words alone names nothing


def test_phrases_that_mean_unspecified_name_nothing() -> None:
    assert name_terms("Urinary tract infection, site not specified") == name_terms(
        "urinary tract infection"
    )
    assert name_terms("Mental disorder, not otherwise specified") == name_terms(
        "mental disorder"
    )
    # "Other specified" is a choice of its own, not the default.
    assert "specifi" in name_terms("Other specified cataract")
