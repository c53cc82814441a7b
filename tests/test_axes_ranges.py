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


def test_words_that_fill_slots_in_several_families_are_variant_words() -> None:
    found = variant_words(CATALOG)
    assert {"zinc", "glass"} <= found  # two families: heart and star holders
    assert "woodland" not in found  # one family only
    assert "hanging" not in found  # never varied
    assert {"woodland", "posies"} <= variant_words(CATALOG, min_families=1)


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
