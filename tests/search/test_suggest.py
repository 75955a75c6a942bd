"""Suggestions while typing, over the full corpus."""

from __future__ import annotations

import pytest

from search.engine import Engine
from search.suggest import Suggester

pytestmark = pytest.mark.full


@pytest.fixture(scope="module")
def suggester(engine: Engine) -> Suggester:
    return Suggester(engine)


def codes(suggester: Suggester, text: str, limit: int = 10) -> list[str]:
    return [c.code for c in suggester.suggest(text, limit).codes]


@pytest.mark.parametrize("text", ["bone sc", "sc bone", "rsn bone", "doc med rsn bo"])
def test_earlier_words_anywhere_last_word_a_prefix(
    suggester: Suggester, text: str
) -> None:
    assert codes(suggester, text)[0] == "M1427"


def test_code_prefixes(suggester: Suggester) -> None:
    # "j34" is both the ICD-10-CM category J34 and HCPCS J3400...: both show.
    found = codes(suggester, "j34")
    assert "J34" in found and any(c.startswith("J34") and "." not in c for c in found)
    assert "J3420" in codes(suggester, "j342")
    found = codes(suggester, "E11.")
    assert all(c.startswith("E11") for c in found)
    assert {"E11.0", "E11.9"} <= set(found)


def test_a_whole_code_lists_itself_and_nothing_unrelated(
    suggester: Suggester,
) -> None:
    # No word is "a4253" and no typo of it is a word: only the code shows.
    assert codes(suggester, "a4253") == ["A4253"]
    assert codes(suggester, "k0003") == ["K0003"]


def test_completions_follow_the_codes_after_earlier_words(
    suggester: Suggester,
) -> None:
    # The best codes for "bone sc" are bone scans: "bone scan" comes first, and
    # a word already typed is not offered again ("walker walker").
    assert suggester.suggest("bone sc", 8).completions[0] == "bone scan"
    assert "walker walker" not in suggester.suggest("walker w", 8).completions


def test_codes_in_the_forms_search_reads(suggester: Suggester) -> None:
    # A space, or a doubled dot, inside a code: the code still leads.
    assert codes(suggester, "n18 6")[0] == "N18.6"
    assert codes(suggester, "l 1832")[0] == "L1832"
    assert codes(suggester, "f32..a")[0] == "F32.A"


def test_a_typo_is_tolerated_from_four_letters(suggester: Suggester) -> None:
    found = suggester.suggest("pnuemon", 10)
    assert "pneumonia" in found.completions
    assert sum("pneumon" in c.title.lower() for c in found.codes) >= 5


def test_a_word_typed_past_its_stem_still_matches(suggester: Suggester) -> None:
    # "cellulitis" is indexed as "cellul": "cellulit" begins no index term.
    found = suggester.suggest("cellulit", 8)
    assert found.codes[0].code.startswith("L03")
    assert "cellulitis" in found.completions


def test_a_short_last_word_is_a_prefix_even_if_a_stop_word(
    suggester: Suggester,
) -> None:
    found = suggester.suggest("fx an", 8)
    assert "fx ankle" in found.completions
    assert "fx fx" not in found.completions


def test_suggest_ranks_like_search(suggester: Suggester) -> None:
    # Inherited index phrases and names reach suggest too: S82.89 includes
    # "Fracture of ankle NOS".
    assert codes(suggester, "fx ankle")[0].startswith("S82.89")
    # Terminated codes are left out, as search leaves them out by default.
    assert "J0171" not in codes(suggester, "inj epinephrine", 20)


def test_letters_that_begin_several_lay_phrases_show_each(
    suggester: Suggester,
) -> None:
    found = codes(suggester, "artificial")
    assert any(c.startswith("L5") for c in found)  # leg
    assert any(c.startswith(("L6", "L7")) for c in found)  # arm
