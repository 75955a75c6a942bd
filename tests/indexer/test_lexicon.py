"""Mining abbreviations from real CMS short/long descriptor pairs."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from indexer.abbreviations import MINED_COLUMNS, Lexicon, LexiconError
from indexer.abbreviations import tokenize_for_expansion as tokenize
from indexer.lexicon import (
    DescriptorPair,
    MinedEntry,
    align,
    is_abbreviation_of,
    main,
    mine_lexicon,
    read_pairs,
    write_lexicon,
)

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / ".." / "shared" / "corpus"
SHIPPED = REPO / "indexer" / "data" / "abbreviations-mined.tsv"

needs_corpus = pytest.mark.skipif(
    not (CORPUS / "hcpcs").is_dir(), reason="shared corpus not present"
)


@pytest.fixture(scope="module")
def all_pairs() -> list[DescriptorPair]:
    """Every HCPCS and ICD-10-CM short/long pair of the shared corpus."""
    return read_pairs(CORPUS)


@pytest.fixture(scope="module")
def sample_entries(all_pairs: list[DescriptorPair]) -> list[MinedEntry]:
    """Mined from all HCPCS pairs plus the ICD-10-CM chapters with "med" both ways.

    I2x (circulatory: athscl, ang pctrs), M2x (knee: med mensc = medial
    meniscus) and S72 (femur: fx); small enough to mine in a few seconds.
    """
    chosen = [
        pair
        for pair in all_pairs
        if pair.system == "hcpcs" or pair.code.startswith(("I2", "M2", "S72"))
    ]
    return mine_lexicon(chosen)


def shipped_rows() -> list[dict[str, str]]:
    """The rows of the shipped mined table."""
    with SHIPPED.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


@pytest.mark.parametrize(
    ("token", "words", "expected"),
    [
        ("rsn", ("reason",), True),
        ("scn", ("scan",), True),
        ("athscl", ("atherosclerotic",), True),
        ("pctrs", ("pectoris",), True),
        ("w/o", ("without",), True),
        ("d/t", ("due", "to"), True),
        ("cabg", ("coronary", "artery", "bypass", "graft"), True),
        ("fx", ("fracture",), True),  # the "x" convention
        ("med", ("medical",), True),
        ("med", ("medial",), True),
        ("med", ("documentation",), False),  # first letter differs
        ("scn", ("sac",), False),  # letters out of order / too long
        ("bone", ("bone",), False),  # not shorter than the word
        ("of", ("of",), False),
        ("a", ("of",), False),
        ("ts", ("the",), False),  # a function word is never an expansion
        ("7thd", ("subsequent",), False),  # not letters
    ],
)
def test_is_abbreviation_of(token: str, words: tuple[str, ...], expected: bool) -> None:
    """The consistency rule: first letter, letters in order, shorter."""
    assert is_abbreviation_of(token, words) is expected


@needs_corpus
def test_align_hcpcs_m1427(all_pairs: list[DescriptorPair]) -> None:
    """M1427 "Doc med rsn bone scn" aligns word by word with its long form."""
    pair = next(p for p in all_pairs if p.key == "hcpcs:M1427")
    alignment = align(tokenize(pair.short), tokenize(pair.long))
    assert alignment.readings == (
        ("documentation",),
        ("medical",),
        ("reason",),
        ("bone",),
        ("scan",),
    )
    assert 4 in alignment.certain  # scn: the only word it can abbreviate there


@needs_corpus
def test_align_icd_i25_10(all_pairs: list[DescriptorPair]) -> None:
    """I25.10: athscl, w/o, ang, pctrs are aligned to their long words."""
    pair = next(p for p in all_pairs if p.key == "icd10cm:I25.10")
    short = tokenize(pair.short)
    readings = dict(zip(short, align(short, tokenize(pair.long)).readings, strict=True))
    assert readings["athscl"] == ("atherosclerotic",)
    assert readings["w/o"] == ("without",)
    assert readings["ang"] == ("angina",)
    assert readings["pctrs"] == ("pectoris",)
    assert readings["heart"] == ("heart",)


@needs_corpus
def test_read_pairs_covers_both_systems(all_pairs: list[DescriptorPair]) -> None:
    """HCPCS (both releases, deduplicated) and ICD-10-CM pairs are read."""
    systems = {pair.system for pair in all_pairs}
    assert systems == {"hcpcs", "icd10cm"}
    icd = sum(pair.system == "icd10cm" for pair in all_pairs)
    hcpcs_codes = {pair.code for pair in all_pairs if pair.system == "hcpcs"}
    assert icd > 90_000
    assert len(hcpcs_codes) > 8_000
    assert len(all_pairs) == len(set(all_pairs))


@needs_corpus
def test_mined_med_is_medical_next_to_doc_and_rsn(
    sample_entries: list[MinedEntry],
) -> None:
    """Both readings of med are mined, each with the context that supports it."""
    med = {e.expansion: e for e in sample_entries if e.abbreviation == "med"}
    assert {"medical", "medial"} <= set(med)
    medical = dict(med["medical"].contexts)
    medial = dict(med["medial"].contexts)
    assert medical.get("rsn", 0) > 0 and medical.get("doc", 0) > 0
    assert medial.get("rsn", 0) == 0 and medial.get("doc", 0) == 0
    assert medial.get("mensc", 0) > 0
    assert med["medical"].example.startswith("hcpcs:")


@needs_corpus
def test_mined_sample_has_expected_readings(sample_entries: list[MinedEntry]) -> None:
    """Core abbreviations of the sample read as the long descriptors say."""
    best = {}
    for entry in sample_entries:
        best.setdefault(entry.abbreviation, entry)  # rows sorted by pairs
    assert best["fx"].expansion == "fracture"
    assert best["w/o"].expansion == "without"
    assert best["pctrs"].expansion == "pectoris"
    assert best["ang"].expansion == "angina"
    assert best["rsn"].expansion == "reason"
    assert "bone" not in best and "heart" not in best  # words are not mined


@needs_corpus
def test_mining_is_deterministic(all_pairs: list[DescriptorPair]) -> None:
    """The same pairs in any order give the same rows."""
    chosen = [p for p in all_pairs if p.code.startswith(("G0", "I25"))]
    forward = mine_lexicon(chosen)
    backward = mine_lexicon(list(reversed(chosen)))
    assert forward == backward
    assert forward


def test_shipped_table_shape() -> None:
    """The shipped table has the documented columns and sane values."""
    rows = shipped_rows()
    assert len(rows) > 1_000
    assert tuple(rows[0]) == MINED_COLUMNS
    for row in rows:
        assert int(row["pairs"]) >= 1
        assert 0.0 < float(row["share"]) <= 1.0
        assert row["example"].split(":")[0] in {"hcpcs", "icd10cm"}
        assert not any(ch.isdigit() for ch in row["abbreviation"])


def test_shipped_table_has_med_medical_evidence() -> None:
    """med -> medical is listed with rsn and doc among its contexts."""
    rows = [r for r in shipped_rows() if r["abbreviation"] == "med"]
    medical = next(r for r in rows if r["expansion"] == "medical")
    contexts = dict(item.split(":") for item in medical["contexts"].split())
    assert int(contexts["rsn"]) >= 10
    assert int(contexts["doc"]) >= 10
    assert int(medical["pairs"]) >= 10


def test_write_lexicon_round_trips(tmp_path: Path) -> None:
    """A written table reads back into a lexicon that expands with it."""
    entries = [
        MinedEntry("rsn", "reason", 3, 1.0, (("med", 3),), "hcpcs:M1427"),
        MinedEntry("med", "medical", 3, 0.6, (("rsn", 3),), "hcpcs:M1427"),
        MinedEntry("med", "medial", 2, 0.4, (("mensc", 2),), "icd10cm:M23.219"),
    ]
    path = tmp_path / "mined.tsv"
    assert write_lexicon(path, entries) == 3
    lexicon = Lexicon.from_tables(mined=path.read_text(encoding="utf-8"))
    assert lexicon.expand_text("med rsn") == "medical reason"
    assert lexicon.expand_text("med mensc") == "medial mensc"


def test_read_pairs_reports_a_bad_header(tmp_path: Path) -> None:
    """A descriptions file with the wrong header names the file and the columns."""
    bad = tmp_path / "hcpcs-2026-jan-descriptions.csv"
    bad.write_text("CODE,TEXT\nA0021,Ambulance\n", encoding="utf-8")
    with pytest.raises(LexiconError) as caught:
        read_pairs(tmp_path, icd10cm=False)
    message = str(caught.value)
    assert str(bad) in message
    assert "SHORT_DESCRIPTION" in message


def test_read_pairs_reports_an_empty_folder(tmp_path: Path) -> None:
    """No source at all is an error that says what was expected."""
    with pytest.raises(LexiconError, match="no HCPCS descriptor files"):
        read_pairs(tmp_path, icd10cm=False)


@pytest.mark.full
@needs_corpus
def test_cli_regenerates_the_shipped_table(tmp_path: Path) -> None:
    """python -m indexer.lexicon reproduces indexer/data exactly."""
    out = tmp_path / "mined.tsv"
    assert main(["--out", str(out), "--data", str(CORPUS)]) == 0
    assert out.read_text(encoding="utf-8") == SHIPPED.read_text(encoding="utf-8")
