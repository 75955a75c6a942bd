"""Search over the full corpus: the worked example, codes, facets, typos, explain."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from search.engine import Engine
from search.errors import InvalidRequest
from search.results import SearchRequest

pytestmark = pytest.mark.full


def top_codes(engine: Engine, query: str, **options: object) -> list[str]:
    request = SearchRequest(query=query, **options)  # type: ignore[arg-type]
    return [hit.code for hit in engine.search(request).hits]


@pytest.mark.parametrize(
    "query", ["bone scan medical reason", "bone scn", "doc med rsn", "m1427", "M1427"]
)
def test_worked_example_puts_m1427_first(engine: Engine, query: str) -> None:
    assert top_codes(engine, query)[0] == "M1427"


def test_doc_med_rsn_bone_scn_explains_medical_not_medial(engine: Engine) -> None:
    result = engine.search(SearchRequest(query="doc med rsn bone scn", explain=True))
    hit = result.hits[0]
    assert hit.code == "M1427"
    matched: dict[str, set[str]] = {}
    for reason in hit.explain:
        matched.setdefault(reason.typed, set()).add(reason.matched)
    assert "medical" in matched["med"]
    assert "reason" in matched["rsn"]
    assert "scan" in matched["scn"]
    assert all("medial" not in found for found in matched.values())


@pytest.mark.parametrize("query", ["E119", "e11.9", "E11.9", "e119"])
def test_icd_code_in_any_format(engine: Engine, query: str) -> None:
    assert top_codes(engine, query)[0] == "E11.9"


@pytest.mark.parametrize("query", ["E 11.9", "e11-9", "E11,9"])
def test_a_code_with_separators_comes_first(engine: Engine, query: str) -> None:
    assert top_codes(engine, query)[0] == "E11.9"


def test_a_trailing_hyphen_lists_the_subtree(engine: Engine) -> None:
    # The Alphabetic Index writes "S52.9-": the code and the codes under it.
    codes = top_codes(engine, "S52.9-", limit=20)
    assert codes[0] == "S52.9"
    assert len(codes) == 20 and all(c.startswith("S52.9") for c in codes)


def test_code_prefix_lists_the_family(engine: Engine) -> None:
    codes = top_codes(engine, "E11", limit=20)
    assert codes[0] == "E11"
    assert all(code.replace(".", "").startswith("E11") for code in codes)


def test_typo_is_corrected_and_reported(engine: Engine) -> None:
    result = engine.search(SearchRequest(query="pnuemonia"))
    assert result.did_you_mean == "pneumonia"
    assert result.corrected
    assert "pneumonia" in result.hits[0].title.lower()


def test_a_typo_whose_stem_meets_a_rarer_word_is_corrected(engine: Engine) -> None:
    # "migrane" stems like "migrans" (thrombophlebitis migrans); "migraine" is
    # one edit away and in far more codes.
    result = engine.search(SearchRequest(query="migrane"))
    assert result.did_you_mean == "migraine"
    assert all(hit.code.startswith("G43") for hit in result.hits[:5])


def test_an_unknown_plural_is_not_corrected(engine: Engine) -> None:
    result = engine.search(SearchRequest(query="bunions"))
    assert not result.corrected
    assert result.hits[0].code.startswith("M21.6")


def test_the_corrected_query_is_read_again_for_lay_phrases(engine: Engine) -> None:
    # bedside comode -> bedside commode, a lay phrase for a commode chair.
    result = engine.search(SearchRequest(query="bedside comode"))
    assert result.did_you_mean == "bedside commode"
    assert result.hits[0].title.lower().startswith("commode chair")


def test_the_best_spelling_candidate_leads(engine: Engine) -> None:
    # eczema is one edit from "exzema", edema two: eczema's codes come first.
    hits = engine.search(SearchRequest(query="exzema")).hits
    assert hits[0].code.startswith(("L20", "L30"))


def test_a_weaker_spelling_guess_does_not_name_a_title(engine: Engine) -> None:
    # "osteoperosis" is one edit from osteoporosis and from osteopetrosis; the
    # one-word title "Osteopetrosis" must not win over the more used reading.
    hits = engine.search(SearchRequest(query="osteoperosis")).hits
    assert hits[0].code.startswith(("M80", "M81"))


def test_two_letters_changed_in_a_long_word(engine: Engine) -> None:
    result = engine.search(SearchRequest(query="hypertenshun"))
    assert result.did_you_mean == "hypertension"
    assert result.hits[0].code == "I10"


def test_a_word_no_code_has_does_not_narrow_the_widening(engine: Engine) -> None:
    # "rvr" is in no code: half of the other two words (atrial fibrillation)
    # is enough, as it would be for "afib w".
    codes = top_codes(engine, "afib w rvr")
    assert any(code.startswith("I48") for code in codes)
    # A query of words no code has finds nothing, not every code.
    assert engine.search(SearchRequest(query="qqzx19 zzqv")).total == 0


def test_a_word_run_into_a_number_is_split(engine: Engine) -> None:
    result = engine.search(SearchRequest(query="covid19"))
    assert result.did_you_mean == "covid 19"
    assert result.hits[0].code == "U07.1"


def test_a_hyphenated_pair_is_also_read_as_one_word(engine: Engine) -> None:
    # ICD-10-CM says "postoperative"; "post-operative" alone meets other codes.
    assert top_codes(engine, "post-operative infection")[0].startswith("T81.4")


def test_a_connecting_with_is_not_a_word_codes_must_have(engine: Engine) -> None:
    # "problems with sleep" is a sleep disorder; "Sleep disorder, unspecified"
    # has no "with" in it.
    assert top_codes(engine, "problems with sleep")[0].startswith("G47")
    # "with" still scores: "migraine with aura" before "migraine without aura".
    assert top_codes(engine, "migraine with aura")[0].startswith("G43.1")


def test_correct_spelling_is_not_corrected(engine: Engine) -> None:
    result = engine.search(SearchRequest(query="pneumonia"))
    assert result.did_you_mean is None
    assert all(hit.match != "corrected" for hit in result.hits)


def test_highlight_marks_matched_words_and_escapes_the_rest(engine: Engine) -> None:
    hit = engine.search(SearchRequest(query="bone scan medical reason")).hits[0]
    assert "<mark>bone</mark> <mark>scan</mark>" in hit.highlight["title"]
    stripped = hit.highlight["title"].replace("<mark>", "").replace("</mark>", "")
    assert "<" not in stripped


def test_paging_is_consistent(engine: Engine) -> None:
    first = top_codes(engine, "wheelchair", limit=10)
    second = top_codes(engine, "wheelchair", limit=5, offset=5)
    assert first[5:] == second


def test_limits_are_checked(engine: Engine) -> None:
    with pytest.raises(InvalidRequest, match="limit"):
        engine.search(SearchRequest(query="x", limit=0))
    with pytest.raises(InvalidRequest, match="unknown specialty"):
        engine.search(SearchRequest(query="x", specialties=("no-such-thing",)))


def _brute_force_counts(
    engine: Engine, query: str, selections: dict[str, tuple[str, ...]]
) -> dict[str, dict[str, int]]:
    """Facet counts computed the slow way: one document at a time."""
    ranked = engine.rank(query)
    valid = engine.valid_mask(dt.date.today()) | (ranked.code_tier >= 2)
    docs = engine.columns.docs

    def values(docnum: int, facet: str) -> tuple[str, ...]:
        row = docs[docnum]
        if facet == "system":
            return (row.system,)
        return row.categories if facet == "category" else row.specialties

    counts: dict[str, dict[str, int]] = {}
    for facet in ("system", "category", "specialty"):
        tally: dict[str, int] = {}
        for docnum in np.flatnonzero(ranked.candidates & valid):
            others_ok = all(
                not chosen or set(values(int(docnum), other)) & set(chosen)
                for other, chosen in selections.items()
                if other != facet
            )
            if others_ok:
                for value in values(int(docnum), facet):
                    tally[value] = tally.get(value, 0) + 1
        counts[facet] = tally
    return counts


@pytest.mark.parametrize(
    ("query", "selections"),
    [
        ("wheelchair", {"specialty": ("durable-medical-equipment",)}),
        (
            "fracture femur",
            {"specialty": ("orthopaedic-surgery", "emergency-medicine")},
        ),
        ("bone scan", {"system": ("hcpcs",), "specialty": ("radiology",)}),
        ("", {"category": ("icd10cm:ch09",)}),
    ],
)
def test_disjunctive_facet_counts_match_brute_force(
    engine: Engine, query: str, selections: dict[str, tuple[str, ...]]
) -> None:
    request = SearchRequest(
        query=query,
        systems=selections.get("system", ()),
        categories=selections.get("category", ()),
        specialties=selections.get("specialty", ()),
    )
    result = engine.search(request)
    expected = _brute_force_counts(engine, query, selections)
    for facet, values in result.facets.items():
        got = {v.value: v.count for v in values if v.count}
        assert got == expected[facet], facet


def test_selecting_a_specialty_narrows_results_but_not_its_own_counts(
    engine: Engine,
) -> None:
    everything = engine.search(SearchRequest(query="wheelchair"))
    chosen = everything.facets["specialty"][1]
    narrowed = engine.search(
        SearchRequest(query="wheelchair", specialties=(chosen.value,))
    )
    assert narrowed.total == chosen.count < everything.total
    before = {v.value: v.count for v in everything.facets["specialty"]}
    after = {v.value: v.count for v in narrowed.facets["specialty"]}
    assert before == after


def test_category_filter_on_a_parent_includes_children(engine: Engine) -> None:
    chapter = engine.search(SearchRequest(query="", categories=("icd10cm:ch04",)))
    block = engine.search(SearchRequest(query="", categories=("icd10cm:E08-E13",)))
    assert block.total < chapter.total
    assert all(hit.code.startswith("E") for hit in chapter.hits)


def test_every_code_has_a_category_and_a_specialty(engine: Engine) -> None:
    docs = engine.columns.docs
    assert len(docs) > 100_000
    assert not [row.code for row in docs if not row.categories]
    assert not [row.code for row in docs if not row.specialties]


def test_m1427_specialties(engine: Engine) -> None:
    hit = engine.search(SearchRequest(query="M1427")).hits[0]
    ids = {s.id for s in hit.specialties}
    assert {"radiology", "nuclear-medicine", "oncology"} <= ids


def test_empty_query_browses_everything_valid(engine: Engine) -> None:
    result = engine.search(SearchRequest(query=""))
    valid = int(engine.valid_mask(dt.date.today()).sum())
    assert result.total == valid
    assert sum(v.count for v in result.facets["system"]) == valid


def test_detail_has_hierarchy(engine: Engine) -> None:
    detail = engine.detail("e119")
    assert detail.record["code"] == "E11.9"
    assert detail.parent is not None and detail.parent.code == "E11"
    parent = engine.detail("E11")
    assert any(child.code == "E11.9" for child in parent.children)
