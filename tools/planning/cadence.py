"""The store's own launch rhythm, read from its history: the planner's defaults come from here.

A launch is a product's first sale (or its launch date), after the first
``CENSOR`` weeks of the data: a product already selling when the data starts was
not launched then. From the launches: how many a week and a month, on which
weekdays, how many weeks before their peak the seasonal lines (Christmas) go
live, how a launch's first weeks change as more products launch in the same
week (absorption), and how many of one range (near-identical titles) have gone
live together.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from nextdrop.tools.forecasting.newproduct import CENSOR
from nextdrop.tools.forecasting.series import Panel

RANGE_SIMILARITY = 0.85  # titles this close are one range (variants of each other)
RECENT = 52  # weeks of launches the defaults are read from
FIRST = 4  # weeks of sales that measure a launch's start
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Absorption:
    """Launches of weeks with ``launches_in_week`` launches, and their median first-weeks units."""

    launches_in_week: str  # "1", "2-3", "4-7", "8+"
    weeks: int
    launches: int
    median_units: float


@dataclass(frozen=True)
class SeasonalLead:
    """How early the seasonal lines go live before their peak."""

    season: str
    products: int
    median_weeks_before_peak: float


@dataclass(frozen=True)
class Cadence:
    """Launch counts over time and the defaults the planner takes from them."""

    per_week: pd.Series  # week start -> launches
    per_month: pd.Series
    weekdays: pd.Series  # "Mon".."Sun" -> launches
    absorption: tuple[Absorption, ...]
    absorption_slope: float  # d log(first-weeks units) / d log(launches in the week); negative: crowding
    seasonal: tuple[SeasonalLead, ...]
    per_week_default: int  # launches a week the store has absorbed (90th percentile of recent weeks)
    per_range_default: int  # most launches of one range in one week seen
    usual_weekday: int  # 0 = Monday

    @property
    def launches(self) -> int:
        return int(self.per_week.sum())


def _bucket(n: int) -> str:
    return "1" if n == 1 else "2-3" if n <= 3 else "4-7" if n <= 7 else "8+"


def store_cadence(panel: Panel, launch_dates: pd.Series, vectors: np.ndarray | None = None) -> Cadence:
    """The cadence of a store whose panel series ``i`` launched on ``launch_dates.iloc[i]`` (NaT: unknown).

    ``vectors`` (normalised title embeddings per series) lets ranges be counted; without them a range is
    one product.
    """
    dates = pd.to_datetime(pd.Series(np.asarray(launch_dates), index=panel.ids))
    launched = (panel.first >= CENSOR) & (panel.first < panel.values.shape[1]) & dates.notna().to_numpy()
    rows = np.nonzero(launched)[0]
    weeks = panel.periods[panel.first[rows]]
    per_week = pd.Series(1, index=weeks).groupby(level=0).sum().reindex(panel.periods[CENSOR:], fill_value=0)
    per_month = per_week.groupby(per_week.index.to_period("M")).sum()
    per_month.index = per_month.index.to_timestamp()
    weekday = dates.iloc[rows].dt.weekday
    weekdays = weekday.value_counts().reindex(range(7), fill_value=0)
    weekdays.index = list(WEEKDAYS)
    recent = per_week.iloc[-RECENT:]
    per_week_default = max(int(np.ceil(np.quantile(recent, 0.9))) if len(recent) else 1, 1)
    usual = int(weekday.mode().iloc[0]) if len(weekday) else 0
    absorption, slope = _absorption(panel, rows)
    return Cadence(per_week, per_month, weekdays, absorption, slope, _seasonal(panel, rows),
                   per_week_default, _per_range(panel, rows, vectors), usual)


def _absorption(panel: Panel, rows: np.ndarray) -> tuple[tuple[Absorption, ...], float]:
    """First-weeks units of launches, by how many launched in the same week."""
    T = panel.values.shape[1]
    rows = rows[panel.first[rows] + FIRST <= T]
    if len(rows) == 0:
        return (), 0.0
    first = panel.first[rows]
    cum = np.concatenate([np.zeros((len(rows), 1)), np.cumsum(panel.values[rows], axis=1)], axis=1)
    units = cum[np.arange(len(rows)), first + FIRST] - cum[np.arange(len(rows)), first]
    together = pd.Series(first).map(pd.Series(first).value_counts()).to_numpy()
    frame = pd.DataFrame({"n": together, "units": units, "week": first, "bucket": [_bucket(n) for n in together]})
    out = tuple(
        Absorption(b, int(g["week"].nunique()), len(g), float(g["units"].median()))
        for b, g in frame.groupby("bucket", sort=False)
    )
    out = tuple(sorted(out, key=lambda a: ["1", "2-3", "4-7", "8+"].index(a.launches_in_week)))
    slope = float(np.polyfit(np.log(together), np.log1p(units), 1)[0]) if np.ptp(together) > 0 else 0.0
    return out, slope


def _seasonal(panel: Panel, rows: np.ndarray) -> tuple[SeasonalLead, ...]:
    """Weeks from launch to peak of launches that sell most of their units in Oct-Dec (Christmas lines)."""
    months = panel.periods.month
    autumn = np.isin(months, [10, 11, 12])
    values = panel.values[rows]
    total = values.sum(axis=1)
    share = np.divide(values[:, autumn].sum(axis=1), total, out=np.zeros(len(rows)), where=total > 0)
    christmas = rows[(share >= 0.6) & (total > 0)]
    if len(christmas) == 0:
        return ()
    leads = [float(np.argmax(panel.values[i, panel.first[i]:panel.first[i] + 26])) for i in christmas]
    return (SeasonalLead("Christmas (most units in Oct-Dec)", len(christmas), float(np.median(leads))),)


def _per_range(panel: Panel, rows: np.ndarray, vectors: np.ndarray | None) -> int:
    """The most launches of one range (titles at least RANGE_SIMILARITY alike) that went live in one week."""
    if vectors is None or len(rows) == 0:
        return 1
    best = 1
    first = panel.first[rows]
    for week in np.unique(first):
        members = rows[first == week]
        if len(members) < 2:
            continue
        sims = vectors[members] @ vectors[members].T
        best = max(best, int((sims >= RANGE_SIMILARITY).sum(axis=1).max()))
    return best
