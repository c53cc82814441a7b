"""Date phrases in a merchant's message ("next week", "before Christmas", "in March") as planning weeks.

Weeks start on Monday, as the store's forecasts do. ``today`` is the store's own today (the day
after its last sale), so a question asked of a store whose sales end in 2011 plans 2011's weeks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"], start=1)}
MONTHS |= {m[:3]: i for m, i in list(MONTHS.items())} | {"sept": 9}
HOLIDAYS = {"christmas": (12, 25), "xmas": (12, 25), "new year": (12, 31), "halloween": (10, 31),
            "valentine": (2, 14), "black friday": (11, 24)}
NUMBERS = {"one": 1, "a": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "eight": 8, "ten": 10,
           "twelve": 12}


@dataclass(frozen=True)
class Span:
    """The weeks a message asks about: the Monday of the first and how many weeks."""

    week: date
    weeks: int


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _next(month: int, day: int, today: date) -> date:
    """The next date with this month and day, on or after ``today``."""
    this_year = date(today.year, month, day)
    return this_year if this_year >= today else date(today.year + 1, month, day)


def _weeks_until(start: date, end: date) -> int:
    """Weeks from the Monday ``start`` to the week holding ``end``, at least one."""
    return max(1, (monday(end) - start).days // 7 + 1)


def parse_span(text: str, today: date) -> Span | None:
    """The span a message names, or None when it names no time at all."""
    t = text.casefold()
    next_week = monday(today) + timedelta(days=7)
    for name, (m, d) in HOLIDAYS.items():
        if re.search(rf"\b(before|until|till|til|for|by|ahead of|up to)\s+(the\s+)?{name}", t):
            return Span(next_week, _weeks_until(next_week, _next(m, d, today) - timedelta(days=1)))
        if re.search(rf"\b(at|on|over|around|during)\s+{name}", t):
            target = monday(_next(m, d, today))
            return Span(max(target, next_week), 1)
    if m := re.search(r"\b(?:next|coming|following)\s+(\d+|\w+)\s+weeks?\b", t):
        count = _number(m.group(1))
        if count:
            return Span(next_week, count)
    if m := re.search(r"\bin\s+(\d+|\w+)\s+weeks?\b", t):
        count = _number(m.group(1))
        if count:
            return Span(monday(today) + timedelta(days=7 * count), 1)
    if m := re.search(r"\b(in|for|during|by|until|till|before)\s+(?:early\s+|late\s+|mid\s+)?([a-z]+)\b", t):
        month = MONTHS.get(m.group(2))
        if month:
            first = _next(month, 1, today.replace(day=1))
            if m.group(1) in {"by", "until", "till", "before"}:
                return Span(next_week, _weeks_until(next_week, first - timedelta(days=1)))
            start = max(monday(first + timedelta(days=6)), next_week)  # the month's first Monday
            mondays = [start + timedelta(days=7 * i) for i in range(6)]
            return Span(start, max(1, sum(d.month == month for d in mondays)))
    if re.search(r"\bnext month\b", t):
        first = date(today.year + today.month // 12, today.month % 12 + 1, 1)
        return Span(monday(first + timedelta(days=6)), 4)
    if re.search(r"\b(this|current)\s+week\b", t):
        return Span(monday(today), 1)
    if re.search(r"\b(next|coming)\s+week\b|\bnext\b.*\bweek\b", t):
        return Span(next_week, 1)
    if re.search(r"\b(today|tomorrow|now|asap|soon)\b", t):
        return Span(next_week if today.weekday() >= 5 else monday(today), 1)
    return None


def _number(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    return NUMBERS.get(word)
