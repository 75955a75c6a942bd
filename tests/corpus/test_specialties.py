"""Tests for corpus.specialties and corpus.taxonomy over the real code sets."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from corpus.categories import builtin_tables, category_ids, read_betos_labels
from corpus.records import CodeRecord
from corpus.specialties import (
    SpecialtyError,
    SpecialtyRules,
    assign,
    assign_specialties,
    read_rules,
    read_specialties,
    slugify,
    specialty_labels,
)
from corpus.taxonomy import TaxonomyError, read_taxonomy
from tests.corpus.test_categories import (
    LAYOUT,
    NUCC,
    by_code,
    categorized_records,
    needs_shared,
)


@pytest.fixture(scope="module")
def rules() -> SpecialtyRules:
    """The built-in rules, checked against the NUCC file when it is there."""
    return SpecialtyRules.load(NUCC if NUCC.exists() else None)


def record(title: str, system: str = "hcpcs", code: str = "X9999") -> CodeRecord:
    """A record with invented text, for matching tests."""
    return CodeRecord(system, code, title[:28], title)


@needs_shared
def test_every_code_gets_a_specialty(rules: SpecialtyRules) -> None:
    # Speed is measured by benchmarks/bench_build.py, never by a timed test.
    records = categorized_records()
    assigned = list(assign_specialties(records, rules))

    assert len(assigned) == len(records) > 105_000
    assert all(r.specialties for r in assigned)
    assert all(len(set(r.specialties)) == len(r.specialties) for r in assigned)
    # The rule table should spread codes over many specialties, not a handful.
    counts = Counter(s for r in assigned for s in r.specialties)
    assert len(counts) >= 50


@needs_shared
def test_m1427_gets_radiology_nuclear_medicine_and_oncology(
    rules: SpecialtyRules,
) -> None:
    m1427 = by_code(categorized_records(), "M1427")
    assignments = rules.assign(m1427)
    given = {a.specialty_id: a for a in assignments}

    assert {"radiology", "nuclear-medicine", "oncology"} <= set(
        rules.specialty_ids(m1427)
    )
    assert given["nuclear-medicine"].rule_id == "kw-bone-scan"
    assert given["nuclear-medicine"].label == "Nuclear Medicine"
    assert '"bone scan"' in given["nuclear-medicine"].reason
    assert given["oncology"].rule_id == "kw-cancer"
    # General rules, not a rule written for this code.
    for rule in rules.rules:
        assert not any("M1427" in pattern for pattern in rule.patterns), rule.id


def test_every_rule_names_known_specialties_that_exist_in_nucc() -> None:
    specialties = read_specialties()
    entries = (
        {entry.code: entry for entry in read_taxonomy(NUCC)} if NUCC.exists() else {}
    )
    for rule in read_rules(specialties):
        for specialty_id in rule.specialties:
            specialty = specialties[specialty_id]
            assert specialty.label and specialty.nucc_codes, specialty_id
            if not entries:
                continue
            for code, name in zip(
                specialty.nucc_codes, specialty.nucc_names, strict=True
            ):
                assert entries[code].name == name, (specialty_id, code)


@needs_shared
def test_taxonomy_reads_every_row() -> None:
    with NUCC.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    entries = read_taxonomy(NUCC)
    assert len(entries) == len(rows)
    radiology = [e for e in entries if e.classification == "Radiology"]
    assert any(e.name == "Radiology / Diagnostic Radiology" for e in radiology)


def test_taxonomy_with_wrong_columns_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "taxonomy.csv"
    bad.write_text("Code,Name\n207R00000X,Internal Medicine\n", encoding="utf-8")
    with pytest.raises(TaxonomyError, match=r"taxonomy\.csv: header lacks column"):
        read_taxonomy(bad)


@needs_shared
def test_rule_categories_are_real_category_ids() -> None:
    used = set().union(*(category_ids(r) for r in categorized_records()))
    betos = {f"betos:{code}" for code in read_betos_labels(LAYOUT)}
    betos |= {f"betos:{letter}" for letter in builtin_tables().betos_families}
    sections = {f"hcpcs:{key}" for key in builtin_tables().sections}
    for rule in read_rules(read_specialties()):
        if rule.kind != "category":
            continue
        for category in rule.patterns:
            assert category in used | betos | sections, (rule.id, category)


@needs_shared
def test_fallback_rules_count_only_when_no_other_rule_matched(
    rules: SpecialtyRules,
) -> None:
    tiers = {rule.id: rule.tier for rule in rules.rules}
    fell_back = 0
    for item in categorized_records()[::7]:
        used = {tiers[a.rule_id] for a in rules.assign(item)}
        assert used in ({"add"}, {"fallback"})
        fell_back += used == {"fallback"}
    assert fell_back > 100


def test_keywords_match_whole_words_plurals_and_prefixes(rules: SpecialtyRules) -> None:
    assert "otolaryngology" in rules.specialty_ids(record("Left ear drops"))
    assert "otolaryngology" not in rules.specialty_ids(record("Earring backs"))
    assert "orthopaedic-surgery" in rules.specialty_ids(record("Multiple fractures"))
    assert "radiology" in rules.specialty_ids(record("Radiographic survey"))
    # A phrase must appear as a phrase, within one field.
    assert "nuclear-medicine" not in rules.specialty_ids(record("Bone density scan"))


def test_system_limited_keyword_does_not_leak(rules: SpecialtyRules) -> None:
    pet = "Bitten by pet"
    assert "nuclear-medicine" in rules.specialty_ids(record("PET imaging"))
    assert "nuclear-medicine" not in rules.specialty_ids(record(pet, "icd10cm", "W54"))


def write_user_file(path: Path, rows: list[str]) -> Path:
    """A user code -> specialty CSV with ``rows`` under the header."""
    path.write_text("system,code,specialty\n" + "\n".join(rows) + "\n", "utf-8")
    return path


def test_user_file_extends_the_rules(tmp_path: Path) -> None:
    user = write_user_file(
        tmp_path / "mine.csv",
        [
            "icd10cm,E119,Podiatry",
            "ICD-10-CM,E11.9,wound care",
            "hcpcs,A0425,radiology",
        ],
    )
    rules = SpecialtyRules.load(None, user, "extend")
    diabetes = record(
        "Type 2 diabetes mellitus without complications", "icd10cm", "E11.9"
    )

    assert rules.specialty_ids(diabetes) == ("podiatry", "wound-care", "endocrinology")
    assert rules.labels()["wound-care"] == "wound care"
    explained = rules.assign(diabetes)[0]
    assert explained.rule_id == "user:mine.csv:2"
    assert "user file" in explained.reason


def test_user_file_replaces_the_rules_for_its_codes_only(tmp_path: Path) -> None:
    user = write_user_file(tmp_path / "mine.csv", ["icd10cm,E11.9,podiatry"])
    rules = SpecialtyRules.load(None, user, "replace")
    diabetes = record("Type 2 diabetes mellitus", "icd10cm", "E11.9")
    other = record("Type 1 diabetes mellitus", "icd10cm", "E10.9")

    assert rules.specialty_ids(diabetes) == ("podiatry",)
    assert rules.specialty_ids(other) == ("endocrinology",)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("code,specialty\nE11.9,podiatry\n", r"bad\.csv line 1: header"),
        ("system,code,specialty\nicd10cm,,podiatry\n", r"bad\.csv line 2: .*three"),
    ],
)
def test_bad_user_file_is_reported_with_file_and_line(
    tmp_path: Path, content: str, message: str
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(SpecialtyError, match=message):
        SpecialtyRules.load(None, bad)


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(SpecialtyError, match="mode 'merge' is not one of"):
        SpecialtyRules.load(None, None, "merge")  # type: ignore[arg-type]


def test_specialty_labels_are_keyed_by_slugs() -> None:
    labels = specialty_labels()
    assert labels["radiology"] == "Radiology"
    assert labels["oncology"] == "Oncology"
    assert all(key == slugify(key) for key in labels)


@needs_shared
def test_loader_hook_reads_nucc_and_the_user_file_of_the_data_dir(
    tmp_path: Path,
) -> None:
    (tmp_path / NUCC.name).symlink_to(NUCC.resolve())
    write_user_file(tmp_path / "specialties-replace.csv", ["hcpcs,A0425,chiropractic"])
    mileage = record("Ground mileage, per statute mile", "hcpcs", "A0425")
    wheelchair = record("Heavy duty wheelchair", "hcpcs", "E1290")

    first, second = assign([mileage, wheelchair], tmp_path)
    assert first.specialties == ("chiropractic",)
    assert second.specialties == ("durable-medical-equipment",)

    write_user_file(tmp_path / "specialties.csv", ["hcpcs,A0425,radiology"])
    with pytest.raises(SpecialtyError, match=r"both specialties\.csv and"):
        list(assign([mileage], tmp_path))
