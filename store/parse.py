"""Vectorised parsing of text cells into numbers and dates, keeping track of what failed.

Each parser returns the parsed values and a boolean mask of cells that held
something but could not be parsed: empty is "missing", not "bad", and the
ingest decides which of the two a field tolerates. Store columns repeat a few
thousand distinct values over millions of rows, so the work is done once per
distinct value and broadcast back (:func:`per_unique`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

# Every numeric date is rewritten as year-month-day first (once the column's day/month order is known), then
# read with these; dates with a month name are read with NAMED_FORMATS, unambiguous by themselves.
ISO_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]
NAMED_FORMATS = ["%d %b %Y", "%b %d, %Y", "%d %B %Y", "%B %d, %Y", "%d-%b-%Y", "%d %b %Y %H:%M", "%d-%b-%y"]
DAY_MONTH = r"^(\d{1,2})[./-](\d{1,2})[./-](\d{4}|\d{2})(?=$|[\sT])(.*)$"  # 01.12.2010, 12/1/10 8:26
YEAR_FIRST = r"^(\d{4})[./-](\d{1,2})[./-](\d{1,2})(?=$|[\sT])(.*)$"  # 2010-12-01, 2010/12/01 08:26
COMPACT = r"^(\d{4})(\d{2})(\d{2})$"  # 20101201
MONTH_NAME = r"(?i)\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b"
DAY_FIRST, MONTH_FIRST = "day-first", "month-first"


def per_unique(values: pd.Series, fn: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """Apply ``fn`` to the distinct non-missing values only; missing cells map to ``fn`` of ''."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    domain = pd.Series(np.append(np.asarray(uniques, dtype=object), ""), dtype=object)
    mapped = fn(domain).to_numpy()
    return pd.Series(mapped[codes], index=values.index)  # code -1 (missing) takes the '' entry


def _strip(domain: pd.Series) -> pd.Series:
    return domain.astype(str).str.strip()


def clean_text(values: pd.Series) -> pd.Series:
    """Strip white space; missing or blank cells become None."""
    if values.empty:
        return pd.Series(None, index=values.index, dtype=object)

    def clean(domain: pd.Series) -> pd.Series:
        text = _strip(domain)
        return text.where(text != "", None)

    return per_unique(values, clean)


def blank(values: pd.Series) -> pd.Series:
    """True where a cell is missing or only white space."""
    if pd.api.types.is_datetime64_any_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return values.isna()
    return clean_text(values).isna()


def parse_numbers(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Numbers from cells like ``12``, ``-3``, ``£1,234.50``, ``$399.00`` or ``2,5`` (decimal comma)."""
    if pd.api.types.is_numeric_dtype(values):
        return values.astype(float), pd.Series(False, index=values.index)
    numbers = per_unique(values, _numbers_of).astype(float)
    return numbers, numbers.isna() & ~blank(values)


def _numbers_of(domain: pd.Series) -> pd.Series:
    text = _strip(domain)
    numbers = pd.to_numeric(text, errors="coerce")
    odd = numbers.isna() & (text != "")
    if odd.any():  # currency signs, thousands separators, decimal commas
        fixed = text[odd].str.replace(r"[£$€¥\s]|^(?:GBP|USD|EUR)|(?:GBP|USD|EUR)$", "", regex=True)
        decimal_comma = fixed.str.fullmatch(r"-?\d+,\d{1,2}")
        fixed = fixed.where(~decimal_comma, fixed.str.replace(",", ".", regex=False)).str.replace(",", "", regex=False)
        numbers[odd] = pd.to_numeric(fixed, errors="coerce")
    numbers = numbers.astype(float)
    numbers[~np.isfinite(numbers)] = np.nan  # "inf" is text, not a quantity
    return numbers


@dataclass(frozen=True)
class DateOrder:
    """How one date column of one file is read, decided once from its values (or as asked) and reported.

    ``order`` is day-first, month-first, typed (Parquet, Excel dates), or None when no value needs one (ISO);
    ``because`` says what decided it; ``ambiguous`` holds an example when nothing did.
    """

    order: str | None
    because: str
    fmt: str | None = None
    ambiguous: str | None = None

    def describe(self) -> str:
        if self.fmt:
            return f"format {self.fmt} ({self.because})"
        return f"{self.order or 'year-month-day'} ({self.because})"


def decide_date_order(values: pd.Series, *, dayfirst: bool | None = None, asked_by: str = "",
                      default: bool | None = None, default_by: str = "", fmt: str | None = None) -> DateOrder:
    """Decide a column's day/month order from the values only one order can read (a day above 12 settles it).

    ``dayfirst`` (with ``asked_by``, e.g. ``--dayfirst``) is what the merchant said about this file and
    wins; ``default`` is the workspace setting, used only when every value reads both ways. Values of both
    orders: the order more rows read wins (the others will not fit it and are quarantined).
    """
    if fmt:
        return DateOrder(None, "date_format option", fmt=fmt)
    if pd.api.types.is_datetime64_any_dtype(values):
        return DateOrder("typed", "as the file stores them")
    if dayfirst is not None:
        return DateOrder(DAY_FIRST if dayfirst else MONTH_FIRST, f"as asked: {asked_by}")
    codes, uniques = pd.factorize(values)
    rows = np.bincount(codes[codes >= 0], minlength=len(uniques))
    uniques = _strip(pd.Series(uniques, dtype=object)).to_numpy()
    parts = pd.Series(uniques, dtype=object).str.extract(DAY_MONTH)
    first, second = (pd.to_numeric(parts[i], errors="coerce") for i in (0, 1))
    only_day = (first > 12) & (first <= 31) & (second <= 12)
    only_month = (second > 12) & (second <= 31) & (first <= 12)
    both = (first <= 12) & (second <= 12) & (first >= 1) & (second >= 1)
    days, months = int(rows[only_day.to_numpy()].sum()), int(rows[only_month.to_numpy()].sum())

    def example(mask: pd.Series) -> str:
        return str(uniques[int(np.flatnonzero(mask.to_numpy())[0])])

    if days and months:
        order = DAY_FIRST if days >= months else MONTH_FIRST
        return DateOrder(order, f"{days:,} rows read only day-first, like {example(only_day)}; "
                                f"{months:,} only month-first, like {example(only_month)}")
    if days or months:
        order, mask = (DAY_FIRST, only_day) if days else (MONTH_FIRST, only_month)
        return DateOrder(order, f"settled by {example(mask)}")
    if both.any():
        if default is not None:
            return DateOrder(DAY_FIRST if default else MONTH_FIRST, default_by)
        return DateOrder(None, "", ambiguous=example(both))
    return DateOrder(None, "ISO")


def parse_dates(values: pd.Series, order: DateOrder) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Timestamps (naive, wall-clock) read as ``order`` says, with two masks: unreadable, and read only the other way.

    No cell is read on its own terms: a cell that does not fit the column's order is not a date to this file.
    """
    none = pd.Series(False, index=values.index)
    if pd.api.types.is_datetime64_any_dtype(values):
        stamps = values.dt.tz_localize(None) if getattr(values.dt, "tz", None) else values
        return stamps.astype("datetime64[us]"), none, none
    if values.empty:
        return pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]"), none, none
    codes, uniques = pd.factorize(values, use_na_sentinel=True)  # as per_unique: each distinct value once
    stamps_of, other_way_of = _dates_of(pd.Series(np.append(np.asarray(uniques, dtype=object), ""), dtype=object),
                                        order)
    stamps = pd.Series(stamps_of.to_numpy()[codes], index=values.index).astype("datetime64[us]")
    other_way = pd.Series(other_way_of.to_numpy()[codes], index=values.index)
    return stamps, stamps.isna() & ~blank(values) & ~other_way, other_way


def _dates_of(domain: pd.Series, order: DateOrder) -> tuple[pd.Series, pd.Series]:
    """Per distinct value: its timestamp or NaT, and whether it would read only in the other day/month order."""
    text = _strip(domain)
    if order.fmt:
        return _to_datetime(text, order.fmt), pd.Series(False, index=text.index)
    iso = pd.Series(None, index=text.index, dtype=object)
    other_way = pd.Series(False, index=text.index)
    year_first = text.str.extract(YEAR_FIRST)
    hit = year_first[0].notna()
    iso[hit] = _iso(year_first[0], year_first[1], year_first[2], year_first[3])[hit]
    rest = text[iso.isna()]
    compact = rest.str.extract(COMPACT)
    hit = compact[0].notna()
    iso[hit[hit].index] = _iso(compact[0], compact[1], compact[2], "")[hit]
    rest = text[iso.isna()]
    day_month = rest.str.extract(DAY_MONTH)
    hit = day_month[0].notna()
    if hit.any():
        first, second = day_month[0][hit].astype(int), day_month[1][hit].astype(int)
        day, month = (first, second) if order.order == DAY_FIRST else (second, first)
        fits = ((month <= 12) & (day <= 31)).to_numpy(dtype=bool) & (order.order is not None)
        other_way[hit[hit].index] = ~fits & ((day <= 12) & (month <= 31)).to_numpy(dtype=bool)
        year = day_month[2][hit].map(lambda y: y if len(y) == 4 else ("19" if int(y) >= 69 else "20") + y)
        iso[hit[hit].index[fits]] = _iso(year, month.astype(str), day.astype(str), day_month[3][hit])[fits]
    stamps = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    numeric = iso.notna()
    for fmt in [*ISO_FORMATS, "ISO8601"]:
        todo = numeric & stamps.isna()
        if todo.any():
            stamps[todo] = _to_datetime(iso[todo], fmt)
    named = pd.Series(False, index=text.index)
    named[~numeric] = text[~numeric].str.contains(MONTH_NAME, na=False).to_numpy(dtype=bool)
    todo = named.copy()
    for fmt in NAMED_FORMATS:
        if todo.any():
            stamps[todo] = _to_datetime(text[todo], fmt)
            todo &= stamps.isna()
    todo = stamps.isna() & (numeric | named)  # time zones, AM/PM: the date itself is certain
    if todo.any():
        stamps[todo] = _to_datetime(iso.fillna(text)[todo], "mixed")
    return stamps, other_way


def _iso(year: pd.Series, month: pd.Series, day: pd.Series, rest: pd.Series | str) -> pd.Series:
    return year + "-" + month.str.zfill(2) + "-" + day.str.zfill(2) + rest


def _to_datetime(text: pd.Series, fmt: str) -> pd.Series:
    """Wall-clock timestamps (time zones dropped after conversion to UTC), NaT where ``fmt`` does not fit."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stamps = pd.to_datetime(text, format=fmt, errors="coerce", utc=True)
    return stamps.dt.tz_localize(None).astype("datetime64[ns]")
