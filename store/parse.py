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

import numpy as np
import pandas as pd

DATE_FORMATS = [
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y/%m/%d", "%Y/%m/%d %H:%M:%S",
    "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y", "%m/%d/%y", "%m-%d-%Y",
    "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d-%m-%Y %H:%M",
    "%d-%m-%Y %H:%M:%S", "%d.%m.%Y", "%d.%m.%Y %H:%M", "%Y%m%d", "%Y-%m-%d %H:%M:%S %z", "%d %b %Y", "%b %d, %Y",
]


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


def guess_date_format(values: pd.Series, dayfirst: bool = False) -> str | None:
    """The format that parses most of a sample of distinct values; day-first formats win ties if asked."""
    sample = pd.Series(values.dropna().astype(str).str.strip().unique()[:2000])
    sample = sample[sample != ""]
    if sample.empty:
        return None
    formats = sorted(DATE_FORMATS, key=lambda f: f.startswith("%d") != dayfirst) if dayfirst else DATE_FORMATS
    best, best_rate = None, 0.0
    for fmt in formats:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rate = pd.to_datetime(sample, format=fmt, errors="coerce", utc="%z" in fmt).notna().mean()
        if rate > best_rate:
            best, best_rate = fmt, rate
        if rate == 1.0:
            break
    return best if best_rate >= 0.5 else None


def parse_dates(values: pd.Series, *, dayfirst: bool = False, fmt: str | None = None) -> tuple[pd.Series, pd.Series]:
    """Timestamps (naive, wall-clock) from a column, guessing its format from its values."""
    if pd.api.types.is_datetime64_any_dtype(values):
        stamps = values.dt.tz_localize(None) if getattr(values.dt, "tz", None) else values
        return stamps.astype("datetime64[us]"), pd.Series(False, index=values.index)
    if values.empty:
        return pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]"), pd.Series(False, index=values.index)
    fmt = fmt or guess_date_format(per_unique(values, _strip), dayfirst)
    stamps = pd.to_datetime(per_unique(values, lambda d: _dates_of(d, fmt, dayfirst))).astype("datetime64[us]")
    return stamps, stamps.isna() & ~blank(values)


def _dates_of(domain: pd.Series, fmt: str | None, dayfirst: bool) -> pd.Series:
    text = _strip(domain)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if fmt is None:
            stamps = pd.to_datetime(text, format="mixed", dayfirst=dayfirst, errors="coerce", utc=True)
        else:
            stamps = pd.to_datetime(text, format=fmt, errors="coerce", utc="%z" in fmt)
            retry = stamps.isna() & (text != "")
            if retry.any():  # a few odd cells: give each a second chance
                again = pd.to_datetime(text[retry], format="mixed", dayfirst=dayfirst, errors="coerce", utc=True)
                stamps = stamps.dt.tz_localize("UTC") if stamps.dt.tz is None else stamps
                stamps[retry] = again
    if stamps.dt.tz is not None:
        stamps = stamps.dt.tz_localize(None)
    return stamps.astype(object)
