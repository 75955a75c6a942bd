"""Runtime expansion: the shipped lexicon against real descriptors and queries."""

from __future__ import annotations

import csv
import re
import sqlite3
from functools import cache
from pathlib import Path

import pytest
from nltk.stem.snowball import SnowballStemmer

from indexer.abbreviations import (
    INDEX_SOURCES,
    LAY,
    MINED,
    SHORTHAND,
    Expansion,
    Lexicon,
    LexiconError,
    tokenize_for_expansion,
)
from indexer.lexicon import DescriptorPair, icd10cm_database, read_pairs

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / ".." / "shared" / "corpus"
DATA = REPO / "indexer" / "data"
HCPCS_CSV = CORPUS / "hcpcs" / "hcpcs-2026-jan-descriptions.csv"

needs_corpus = pytest.mark.skipif(
    not HCPCS_CSV.is_file(), reason="shared corpus not present"
)
_STEMMER = SnowballStemmer("english")


@cache
def stem(word: str) -> str:
    """Snowball stem, cached: the ground-truth test stems a million words."""
    return str(_STEMMER.stem(word))


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    """The shipped lexicon."""
    return Lexicon.load_default()


@pytest.fixture(scope="module")
def all_pairs() -> list[DescriptorPair]:
    """Every short/long pair of the shared corpus."""
    return read_pairs(CORPUS)


@pytest.fixture(scope="module")
def icd_titles() -> list[str]:
    """ICD-10-CM long titles."""
    connection = sqlite3.connect(icd10cm_database())
    try:
        return [row[0] for row in connection.execute("SELECT long_name FROM cm_codes")]
    finally:
        connection.close()


@pytest.fixture(scope="module")
def long_texts(icd_titles: list[str]) -> list[str]:
    """ICD-10-CM long titles and HCPCS long descriptors."""
    with HCPCS_CSV.open(encoding="utf-8-sig", newline="") as handle:
        hcpcs = [row["LONG_DESCRIPTION"] for row in csv.DictReader(handle)]
    return icd_titles + hcpcs


@pytest.fixture(scope="module")
def vocabulary(long_texts: list[str]) -> set[str]:
    """Every word of the long descriptors."""
    return {word for text in long_texts for word in tokenize_for_expansion(text)}


def table(name: str) -> list[dict[str, str]]:
    """Rows of a shipped TSV table."""
    with (DATA / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Doc med rsn bone scn", ["doc", "med", "rsn", "bone", "scn"]),
        ("Athscl w/o ang pctrs", ["athscl", "w/o", "ang", "pctrs"]),
        ("Derang d/t old tear/inj", ["derang", "d/t", "old", "tear", "inj"]),
        ("w/ and w/c, s/p", ["w/", "and", "w/c", "s/p"]),
        ("Alzheimer's, Ménière", ["alzheimers", "meniere"]),
        ("1.5 mg O2", ["1", "5", "mg", "o2"]),
    ],
)
def test_tokenize_for_expansion(text: str, tokens: list[str]) -> None:
    """Slash shorthand stays whole, longer slash compounds split, case folds."""
    assert tokenize_for_expansion(text) == tokens


def test_m1427_short_descriptor(lexicon: Lexicon) -> None:
    """The reference example: med reads "medical" here, never "medial"."""
    expanded = lexicon.expand_text("Doc med rsn bone scn")
    assert expanded == "documentation medical reason bone scan"


def test_i25_10_short_descriptor(lexicon: Lexicon) -> None:
    """athscl, w/o, ang and pctrs expand; the words stay as they are."""
    text = "Athscl heart disease of native coronary artery w/o ang pctrs"
    tokens = tokenize_for_expansion(text)
    by_token = {tokens[e.start]: e for e in lexicon.expand(tokens)}
    assert by_token["athscl"].words == ("atherosclerotic",)
    assert by_token["w/o"].words == ("without",)
    assert by_token["ang"].words == ("angina",)
    assert by_token["pctrs"].words == ("pectoris",)
    assert by_token["pctrs"].source == MINED and by_token["pctrs"].support > 0
    assert not {"heart", "disease", "native", "coronary", "artery"} & set(by_token)


def test_med_is_medial_next_to_meniscus(lexicon: Lexicon) -> None:
    """The same token reads "medial" where its neighbours say so (M23.219)."""
    text = "Derang of ant horn of med mensc d/t old tear/inj, unsp knee"
    expanded = lexicon.expand_text(text)
    assert "medial meniscus" in expanded
    assert "anterior horn" in expanded
    assert "due to old tear" in expanded


def test_fx_femur(lexicon: Lexicon) -> None:
    """fx reads "fracture" for the query side and for the index side."""
    tokens = ["fx", "femur"]
    assert lexicon.expand(tokens) == [Expansion(0, 1, ("fracture",), SHORTHAND, 0)]
    mined = lexicon.expand(tokens, sources=INDEX_SOURCES)
    assert [e.words for e in mined] == [("fracture",)]
    assert mined[0].support > 1_000


def test_without(lexicon: Lexicon) -> None:
    """w/o reads "without" from either table."""
    assert lexicon.expand_text("w/o") == "without"
    assert [e.words for e in lexicon.expand(["w/o"])] == [("without",)]


def test_lay_phrases_match_as_spans(lexicon: Lexicon) -> None:
    """Multi-word lay keys match whole spans, longest first."""
    tokens = tokenize_for_expansion("heart attack and pink eye")
    found = lexicon.expand(tokens)
    assert [(e.start, e.end, e.words, e.source) for e in found] == [
        (0, 2, ("myocardial", "infarction"), LAY),
        (3, 5, ("conjunctivitis",), LAY),
    ]


def test_lay_phrases_read_past_small_words() -> None:
    """A lay phrase matches with its stop words left out or said otherwise,
    over the whole span typed; the words themselves must all be there."""
    lay = "phrase\tclinical\tnote\nringing in the ears\ttinnitus\t\n"
    lexicon = Lexicon.from_tables(lay=lay)
    for text in ("ringing in ears", "ringing ears", "ringing of the ears"):
        found = lexicon.expand(tokenize_for_expansion(text))
        assert [(e.start, e.end, e.words) for e in found] == [
            (0, len(text.split()), ("tinnitus",))
        ]
    assert lexicon.expand(["ringing", "in", "the"]) == []


def test_lay_phrases_read_past_other_endings_and_beat_shorter_keys() -> None:
    """Stems match: plurals, and a typo that keeps the stem; the longer lay
    span wins over a one-word key at the same place."""
    lay = (
        "phrase\tclinical\tnote\n"
        "broken\tfracture\t\n"
        "broken wrist\tfracture of lower end of radius\t\n"
        "defibrillator vest\tdefibrillator garment\t\n"
    )
    lexicon = Lexicon.from_tables(lay=lay)
    found = lexicon.expand(["broken", "wrists"])
    assert [(e.start, e.end) for e in found] == [(0, 2)]
    assert found[0].words[0] == "fracture" and "radius" in found[0].words
    typo = lexicon.expand(["defibrilator", "vest"])
    assert [e.words for e in typo] == [("defibrillator", "garment")]


def test_alternatives_list_every_open_reading(lexicon: Lexicon) -> None:
    """An undecided token yields its readings only when alternatives are asked."""
    assert lexicon.expand(["med"]) == []
    alternatives = {e.words for e in lexicon.expand(["med"], alternatives=True)}
    assert {("medical",), ("medial",)} <= alternatives
    clot = lexicon.expand(["blood", "clot"], alternatives=True)
    assert {e.words for e in clot} == {("thrombosis",), ("embolism",)}


def test_a_curated_meaning_does_not_hide_the_mined_ones() -> None:
    """On the query side a key's curated readings come first, then what the
    descriptors support: "std" is a disease, and also "standard"."""
    shorthand = (
        "abbreviation\texpansion\tsource\talso_word\tnote\n"
        "std\tsexually transmitted disease\tcurated\tno\t\n"
    )
    mined = (
        "abbreviation\texpansion\tpairs\tshare\tcontexts\texample\n"
        "std\tstandard\t40\t1.0000\tw/c:30\thcpcs:K0001\n"
    )
    lexicon = Lexicon.from_tables(mined=mined, shorthand=shorthand)
    found = lexicon.expand(["std", "w/c"], alternatives=True)
    assert [e.words for e in found if e.start == 0] == [
        ("sexually", "transmitted", "disease"),
        ("standard",),
    ]
    assert [e.words for e in lexicon.expand(["std"])] == [
        ("sexually", "transmitted", "disease")
    ]


def test_guarded_words_are_only_alternatives(lexicon: Lexicon) -> None:
    """ "pad" is a heating pad as often as a disease: never expanded by default."""
    assert lexicon.expand(["heating", "pad"]) == []
    assert lexicon.expand_text("Electric heat pad standard") == (
        "electric heat pad standard"
    )
    alternatives = lexicon.expand(["pad"], alternatives=True)
    assert ("peripheral", "arterial", "disease") in {e.words for e in alternatives}


def test_words_stay_words(lexicon: Lexicon) -> None:
    """Ordinary words, and tokens mined as "as written" in context, stay."""
    assert lexicon.expand_text("bone scan of the femur") == "bone scan of the femur"
    assert lexicon.expand_text("Chronic cor pulmonale") == "chronic cor pulmonale"


@needs_corpus
def test_index_time_expansions_agree_with_long_descriptors(
    lexicon: Lexicon, all_pairs: list[DescriptorPair]
) -> None:
    """Ground truth: words written for a short descriptor are in its long form.

    Over every HCPCS and ICD-10-CM pair, at least 98% of the expansions emitted
    for the short descriptor are found (stemmed) in the long descriptor, and no
    descriptor whose short form is already its long form is changed in more
    than 0.1% of cases.
    """
    emitted = agreed = unchanged_total = unchanged_changed = 0
    for pair in all_pairs:
        tokens = tokenize_for_expansion(pair.short)
        expansions = lexicon.expand(tokens, sources=INDEX_SOURCES)
        if pair.short == pair.long:
            unchanged_total += 1
            unchanged_changed += bool(expansions)
        if not expansions:
            continue
        long_stems = {stem(w) for w in tokenize_for_expansion(pair.long)}
        for expansion in expansions:
            emitted += 1
            agreed += all(stem(w) in long_stems for w in expansion.words)
    assert emitted > 100_000
    assert agreed / emitted >= 0.98
    assert unchanged_changed / unchanged_total <= 0.001


@needs_corpus
def test_shorthand_expansions_are_corpus_words(vocabulary: set[str]) -> None:
    """Every word of every shorthand expansion occurs in the long descriptors."""
    missing = [
        (row["abbreviation"], word)
        for row in table("shorthand.tsv")
        for word in tokenize_for_expansion(row["expansion"])
        if word not in vocabulary
    ]
    assert missing == []


@needs_corpus
def test_lay_clinical_terms_are_corpus_words(vocabulary: set[str]) -> None:
    """Every word of every lay term's clinical wording occurs in the corpus."""
    missing = [
        (row["phrase"], word)
        for row in table("lay-terms.tsv")
        for word in tokenize_for_expansion(row["clinical"])
        if word not in vocabulary
    ]
    assert missing == []


@needs_corpus
def test_shorthand_also_word_flags(icd_titles: list[str]) -> None:
    """also_word marks every key that ICD-10-CM titles use as a lowercase word.

    ICD-10-CM titles keep abbreviations in capitals (COPD, HIV), so a lowercase
    use there is an ordinary word ("pad", "post"). A key may also be marked by
    review, with a note that says why ("aids", "iv").
    """
    lowercase = {
        word
        for text in icd_titles
        for word in re.findall(r"[A-Za-z0-9]+", text)
        if word.islower()
    }
    for row in table("shorthand.tsv"):
        key = row["abbreviation"]
        if key in lowercase:
            assert row["also_word"] == "yes", key
        if row["also_word"] == "yes" and key not in lowercase:
            assert row["note"].startswith("also"), key


def test_shorthand_table_is_well_formed() -> None:
    """Sources and flags take their documented values; no duplicate rows."""
    rows = table("shorthand.tsv")
    assert 60 <= len(rows) <= 400
    assert {row["source"] for row in rows} <= {"curated", "abbreviations-csv"}
    assert {row["also_word"] for row in rows} <= {"yes", "no"}
    pairs = [(row["abbreviation"], row["expansion"]) for row in rows]
    assert len(pairs) == len(set(pairs))
    lay = [(row["phrase"], row["clinical"]) for row in table("lay-terms.tsv")]
    assert len(lay) == len(set(lay))
    assert all(phrase != clinical for phrase, clinical in lay)


def test_bad_table_names_file_and_row() -> None:
    """A malformed row is reported with the file, the row and what was expected."""
    text = "phrase\tclinical\tnote\nheart attack\tmyocardial infarction\n"
    with pytest.raises(LexiconError) as caught:
        Lexicon.from_tables(lay=text)
    message = str(caught.value)
    assert "lay-terms.tsv row 2" in message
    assert "expected 3" in message


def test_bad_header_is_reported() -> None:
    """A table with the wrong header says which columns it expects."""
    with pytest.raises(LexiconError, match=r"abbreviations-mined\.tsv row 1"):
        Lexicon.from_tables(mined="abbr\tword\n")
