"""Spelling correction over a vocabulary."""

from __future__ import annotations

from search.spelling import Speller, distance


def test_distance_counts_adjacent_swaps_once() -> None:
    assert distance("pnuemonia", "pneumonia") == 1
    assert distance("anemea", "anemia") == 1
    assert distance("abc", "abc") == 0
    assert distance("", "abc") == 3


def test_candidates_prefer_nearest_then_most_used() -> None:
    speller = Speller({"pneumonia": 50, "pneumonitis": 10, "dementia": 30, "anemia": 9})
    assert speller.candidates("pnuemonia")[0] == ("pneumonia", 1)
    assert speller.candidates("dimentia")[0] == ("dementia", 1)
    assert speller.candidates("xyzzy") == []
    # Short words are never corrected: too many near neighbours.
    assert speller.candidates("abc") == []


def test_completions_by_use() -> None:
    speller = Speller({"scan": 5, "scar": 9, "scalp": 1, "bone": 3})
    assert speller.completions("sc", 2) == ["scar", "scan"]
    assert list(speller.fuzzy_prefixes("bnoe")) == ["bone"]


def test_run_together_words_split_into_known_ones() -> None:
    speller = Speller({"bed": 40, "pan": 5, "bedp": 1, "an": 90, "eye": 30})
    assert speller.splits("bedpan") == [("bed", "pan")]
    assert speller.splits("eyebed") == [("eye", "bed")]
    assert speller.splits("bedside") == []  # "side" is unknown
    assert speller.splits("bedpa") == []  # too short to hold two words


def test_two_changed_letters_of_a_long_word_are_found() -> None:
    # No deletion of one letter from each side meets: two letters are changed.
    speller = Speller({"hypertension": 50, "glaucoma": 40, "glioma": 3})
    assert speller.candidates("hypertenshun") == [("hypertension", 2)]
    # Both two edits away: the more used leads.
    assert speller.candidates("glocoma") == [("glaucoma", 2), ("glioma", 2)]
    # A short word is allowed one edit only.
    assert speller.candidates("glocm") == []
