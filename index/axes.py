"""The words a catalog varies across its product families: its variant axes, learned from its own titles.

A merchant's ranges show in the titles: "SET/20 WOODLAND PAPER NAPKINS", "SET/20 POSIES PAPER
NAPKINS", "ZINC HEART T-LIGHT HOLDER", "GLASS HEART T-LIGHT HOLDER". Mask one word of a title
and the rest is a family's template; a template that several titles fill with different
words is a slot, and a word that fills slots in several families is a value of an axis
(a print, a colour, a material, an item type). Such a word on one side only of two
otherwise equal titles makes them two members of a range; a word the catalog never varies
("HANGING", a typo, a rewording) does not. No word list: any store, any language with spaces.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from nextdrop.index.text import FILLER, words

MIN_FAMILIES = 2  # slots a word must fill in different families to be an axis value


def variant_words(titles: Iterable[str], min_families: int = MIN_FAMILIES) -> frozenset[str]:
    """Words that fill a slot with other alternatives in at least ``min_families`` families of ``titles``."""
    fillers: dict[int, set[str]] = defaultdict(set)
    for title in set(titles):
        tokens = tuple(words(title))
        if len(tokens) < 2:
            continue
        for n, word in enumerate(tokens):
            if word not in FILLER and not word.isdigit():
                fillers[hash((*tokens[:n], "\0", *tokens[n + 1 :]))].add(word)
    families: dict[str, int] = defaultdict(int)
    for found in fillers.values():
        if len(found) >= 2:
            for word in found:
                families[word] += 1
    return frozenset(word for word, count in families.items() if count >= min_families)

