"""Holidays and promotions: a built-in retail calendar per country, and their measured effect.

An event shifts a forecast only where the history shows it matters: for each
event name the store-wide units of the periods it fell in are compared with the
surrounding periods (a season-free baseline), and an effect is kept when it was
seen at least ``min_seen`` times and moves demand by more than ``min_effect``.
Fixed-date holidays are also in the models' season position, so the effect is
measured against neighbouring weeks, not against last year.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
from dateutil.easter import easter

from nextdrop.tools.forecasting.series import Panel, bucket_spec


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th given weekday of a month (n = -1: the last)."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _retail_days(year: int, country: str) -> list[tuple[date, str]]:
    """The days that move retail demand in ``country`` (ISO code) in ``year``."""
    thanksgiving = _nth_weekday(year, 11, 3, 4)
    e = easter(year)
    days = [
        (date(year, 1, 1), "New Year"), (date(year, 2, 14), "Valentine's Day"), (e, "Easter"),
        (thanksgiving + timedelta(days=1), "Black Friday"), (thanksgiving + timedelta(days=4), "Cyber Monday"),
        (date(year, 12, 25), "Christmas"),
    ]
    mothers = {"GB": e - timedelta(days=21), "IE": e - timedelta(days=21), "FR": _nth_weekday(year, 5, 6, -1)}
    days.append((mothers.get(country, _nth_weekday(year, 5, 6, 2)), "Mother's Day"))
    if country in ("GB", "IE", "AU", "NZ", "CA"):
        days.append((date(year, 12, 26), "Boxing Day"))
    if country == "US":
        days += [(thanksgiving, "Thanksgiving"), (date(year, 7, 4), "Independence Day")]
    return days


def holiday_calendar(country: str, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Built-in events between ``start`` and ``end`` as ``date, name, kind`` (kind = holiday)."""
    rows = [(pd.Timestamp(d), name, "holiday")
            for year in range(pd.Timestamp(start).year, pd.Timestamp(end).year + 1)
            for d, name in _retail_days(year, country.upper())]
    frame = pd.DataFrame(rows, columns=["date", "name", "kind"])
    return frame[(frame["date"] >= start) & (frame["date"] <= end)].reset_index(drop=True)


@dataclass(frozen=True)
class EventEffect:
    """How much one event moved store-wide demand, from how many occurrences."""

    name: str
    kind: str
    factor: float  # units in the event's period / surrounding periods
    seen: int


def event_periods(events: pd.DataFrame, periods: pd.DatetimeIndex, bucket: str) -> dict[str, np.ndarray]:
    """For each event name, the indices into ``periods`` (which may extend past the data) it falls in."""
    freq = bucket_spec(bucket)[0]
    starts = pd.PeriodIndex(periods, freq=freq)
    out: dict[str, list[int]] = {}
    for when, name in zip(pd.to_datetime(events["date"]), events["name"], strict=True):
        loc = starts.get_indexer([pd.Period(when, freq=freq)])[0]
        if loc >= 0:
            out.setdefault(str(name), []).append(int(loc))
    return {name: np.unique(locs) for name, locs in out.items()}


def measure_effects(panel: Panel, events: pd.DataFrame, min_seen: int = 1, min_effect: float = 0.15,
                    radius: int = 3) -> list[EventEffect]:
    """Store-wide effect of each event: its periods against the ``radius`` non-event periods either side."""
    total = panel.values.sum(axis=0)
    where = event_periods(events, panel.periods, panel.bucket)
    flagged = np.zeros(len(total), dtype=bool)
    for locs in where.values():
        flagged[locs] = True
    kinds = dict(zip(events["name"].astype(str), events["kind"].astype(str), strict=False))
    effects = []
    for name, locs in where.items():
        ratios = []
        for p in locs:
            around = [q for q in range(p - radius, p + radius + 1) if 0 <= q < len(total) and not flagged[q]]
            if len(around) >= 2 and np.mean(total[around]) > 0:
                ratios.append(total[p] / np.mean(total[around]))
        if len(ratios) >= min_seen:
            factor = float(np.exp(np.median(np.log(np.maximum(ratios, 1e-3)))))
            if abs(np.log(factor)) > np.log1p(min_effect):
                effects.append(EventEffect(name, kinds.get(name, "holiday"), factor, len(ratios)))
    return effects


def apply_effects(point: np.ndarray, periods: pd.DatetimeIndex, bucket: str, events: pd.DataFrame,
                  effects: list[EventEffect]) -> tuple[np.ndarray, list[str]]:
    """Multiply forecast periods that contain an event with a measured effect; say what was done.

    Where several events share a period (Christmas and Boxing Day in one week) the
    strongest effect applies once: each was measured on that same period.
    """
    where = event_periods(events, periods, bucket)
    strongest: dict[int, EventEffect] = {}
    for effect in effects:
        for k in where.get(effect.name, []):
            if k not in strongest or abs(np.log(effect.factor)) > abs(np.log(strongest[k].factor)):
                strongest[k] = effect
    out = point.copy()
    said = []
    for k, effect in sorted(strongest.items()):
        out[..., k] *= effect.factor
        said.append(f"{effect.name} x{effect.factor:.2f} in {periods[k].date()} (seen {effect.seen}x)")
    return out, said


def closed_days(daily: pd.Series, around: int = 21) -> frozenset[tuple[int, int]]:
    """Calendar days (month, day) the store is closed: no sales on them in any year it traded around them.

    ``daily`` holds the store's units per date (days without sales may be missing). A day counts
    as evidence in a year only when the store sold within ``around`` days before and after it, so the
    data's first and last weeks, or a year the store had not opened yet, say nothing either way.
    """
    if daily.empty:
        return frozenset()
    days = pd.date_range(daily.index.min(), daily.index.max(), freq="D")
    sold = (daily.groupby(pd.DatetimeIndex(daily.index).normalize()).sum().reindex(days, fill_value=0) > 0).to_numpy()
    cum = np.concatenate([[0], np.cumsum(sold)])
    n = np.arange(len(days))
    before = cum[n] - cum[np.maximum(n - around, 0)]
    after = cum[np.minimum(n + around + 1, len(days))] - cum[n + 1]
    evidence = (before > 0) & (after > 0) & (n >= around) & (n < len(days) - around)
    frame = pd.DataFrame({"month": days.month, "day": days.day, "sold": sold})[evidence]
    seen = frame.groupby(["month", "day"])["sold"].any()
    return frozenset(seen.index[~seen.to_numpy()])


def closed_periods(periods: pd.DatetimeIndex, bucket: str, closed: frozenset[tuple[int, int]]) -> np.ndarray:
    """Which periods fall wholly on closed calendar days (a week between Christmas and the new year)."""
    freq = bucket_spec(bucket)[0]
    out = np.zeros(len(periods), dtype=bool)
    for k, start in enumerate(periods):
        period = pd.Period(start, freq=freq)
        days = pd.date_range(period.start_time, period.end_time.normalize(), freq="D")
        out[k] = bool(closed) and all((d.month, d.day) in closed for d in days)
    return out


def rest_of_period(daily: pd.Series, period_start: pd.Timestamp, last_day: pd.Timestamp, bucket: str) -> float:
    """The share of a period's usual sales still to come after ``last_day``, from the store's weekday pattern.

    A week whose data ends on a Friday in a store that sells little at weekends is nearly over.
    """
    dates = pd.DatetimeIndex(daily.index)
    by_weekday = daily.groupby(dates.dayofweek).sum().reindex(range(7), fill_value=0.0).to_numpy(dtype=float)
    weight = by_weekday / by_weekday.sum() if by_weekday.sum() > 0 else np.full(7, 1 / 7)
    period = pd.Period(period_start, freq=bucket_spec(bucket)[0])
    days = pd.date_range(period.start_time, period.end_time.normalize(), freq="D")
    whole = weight[days.dayofweek].sum()
    rest = weight[days[days > pd.Timestamp(last_day).normalize()].dayofweek].sum()
    return float(rest / whole) if whole > 0 else 0.0
