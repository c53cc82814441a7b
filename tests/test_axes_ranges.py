"""Issue 19: the catalog's own variant words, and variants gathered into ranges."""

from __future__ import annotations

from nextdrop.index.axes import variant_words
from nextdrop.index.ranges import find_ranges

CATALOG = [
    "ZINC HEART T-LIGHT HOLDER",
    "GLASS HEART T-LIGHT HOLDER",
    "ZINC STAR T-LIGHT HOLDER",
    "GLASS STAR T-LIGHT HOLDER",
    "SET/20 WOODLAND PAPER NAPKINS",
    "SET/20 POSIES PAPER NAPKINS",
    "HANGING HEART DECORATION",
]


def test_words_other_titles_use_are_variant_words_and_a_one_off_word_is_not() -> None:
    found = variant_words(CATALOG)
    assert {"zinc", "glass", "heart", "star", "napkins"} <= found
    assert "hanging" not in found  # one title only: a rewording, not something the catalog sells by
    assert "set" not in found and "20" not in found  # filler and bare numbers are never axes
    assert "woodland" not in found and "woodland" in variant_words(CATALOG, min_titles=1)


def test_variants_differing_in_one_slot_form_a_range_with_its_axis() -> None:
    titles = {f"s{n}": f"FRENCH BLUE METAL DOOR SIGN {n}" for n in range(1, 5)}
    titles |= {"w": "SET/20 WOODLAND PAPER NAPKINS", "p": "SET/20 POSIES PAPER NAPKINS", "c": "POSIES PAPER CUPS"}
    pairs = [("s1", "s2"), ("s2", "s4"), ("s3", "s4"), ("w", "p"), ("p", "c")]
    ranges = find_ranges(pairs, titles)
    signs, napkins = ranges[0], ranges[1]
    assert signs.axis == "number" and signs.ids == ("s1", "s2", "s3", "s4")
    assert signs.template == "french blue metal door sign …"
    assert napkins.axis == "design" and set(napkins.ids) == {"w", "p"}
    assert all("c" not in r.ids for r in ranges)  # cups differ from the napkins in two words: no shared slot


def test_a_range_is_named_by_the_axis_most_of_its_values_name() -> None:
    titles = {f"s{n}": f"FRENCH BLUE METAL DOOR SIGN {n}" for n in range(10)} | {"no": "FRENCH BLUE METAL DOOR SIGN NO"}
    (signs,) = find_ranges([(f"s{n}", f"s{n + 1}") for n in range(9)] + [("s9", "no")], titles)
    assert signs.axis == "number" and len(signs.ids) == 11
