"""Variants of one family gathered into ranges: the napkins in five prints, the door signs 1 to 9.

Two variant titles that are the same but for one word share a template ("SET/20 … PAPER
NAPKINS"); every variant pair with that template joins one range, and the word in the slot
is each member's value on the range's axis. A range is shown to be reviewed as a range,
never merged.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from nextdrop.index.text import ATTRIBUTE_WORDS, words

SLOT = "…"


@dataclass(frozen=True)
class Range:
    """Products of one family that differ on one axis, each with its value on it."""

    template: str  # the shared title with the varying word as ``SLOT``
    axis: str  # number, letter, colour, size, item type or design
    members: tuple[tuple[str, str], ...]  # (product id, its value), by value

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(pid for pid, _ in self.members)


def find_ranges(pairs: Iterable[tuple[str, str]], titles: Mapping[str, str]) -> list[Range]:
    """Ranges from variant pairs ``(a, b)``; largest first. Pairs differing in more than one word join none."""
    slots: dict[tuple[str, ...], dict[str, str]] = {}
    tokens: dict[str, tuple[str, ...]] = {}  # each title's words, worked out once: a title is in many pairs
    for a, b in pairs:
        for pid in (a, b):
            if pid not in tokens:  # interned: a million titles repeat a few thousand words
                tokens[pid] = tuple(map(sys.intern, words(titles.get(pid, ""))))
        found = _slot(tokens[a], tokens[b])
        if found is not None:
            template, value_a, value_b = found
            members = slots.setdefault(template, {})
            members[a], members[b] = value_a, value_b
    ranges = [
        Range(" ".join(template), _axis(template, members.values()), tuple(sorted(members.items(), key=_by_value)))
        for template, members in slots.items()
    ]
    return sorted(ranges, key=lambda r: (-len(r.members), r.template))


def _slot(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[tuple[str, ...], str, str] | None:
    if len(a) != len(b):
        return None
    differ = [n for n, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    if len(differ) != 1:
        return None
    n = differ[0]
    return (*a[:n], SLOT, *a[n + 1 :]), a[n], b[n]


def _axis(template: tuple[str, ...], values: Iterable[str]) -> str:
    """The axis most values name: door signs 0 to 9 and one "NO" sign are still a numbered range."""
    values = list(values)
    if _most(v.isdigit() for v in values):
        return "number"
    if _most(len(v) == 1 for v in values):
        return "letter"
    if all(v in ATTRIBUTE_WORDS for v in values):
        return "colour or size"
    return "item type" if template[-1] == SLOT else "design"


def _most(flags: Iterable[bool]) -> bool:
    found = list(flags)
    return sum(found) >= 0.8 * len(found)


def _by_value(member: tuple[str, str]) -> tuple[int, str]:
    value = member[1]
    return (int(value), "") if value.isdigit() else (1 << 30, value)
