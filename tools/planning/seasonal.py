"""Seasonal fit of a launch window, read from the nearest catalog items a year earlier.

A hot-water bottle launched in late August sells like hot-water bottles sold
from late August last year, not like the store's average launch. For each
candidate and launch week, the catalog items most similar to it (that were on
sale before that week a year earlier) are weighted by similarity as the
analog model weighs them, and their revenue in the same weeks a year earlier is
the *seasonal analog revenue*. A launch's expected units are the geometric mean
of the new-product forecast and this revenue in units of the candidate's price:
the forecast says how big a launch of this kind is, the seasonal analogs say
whether this is its time of year. On Online Retail this ranks first-8-week
revenue of new products far better than either part alone
(docs/benchmarks/planning.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from nextdrop.tools.forecasting.series import Panel, build_panel

POOL = 20  # nearest items weighed
SHARPNESS = 8.0  # weight = exp(SHARPNESS * (similarity - best)): the analog model's focused bandwidth
YEAR = 52


@dataclass(frozen=True)
class SeasonalAnalogs:
    """The revenue per period of every catalog series and its title vectors, to look back a year from."""

    panel: Panel
    revenue: np.ndarray  # (n, T) revenue per period
    vectors: np.ndarray  # (n, d) normalised

    @classmethod
    def from_sales(cls, panel: Panel, sales: pd.DataFrame, vectors: np.ndarray) -> SeasonalAnalogs:
        """Revenue per series and period of ``panel`` from ``date, product_id, quantity, unit_price`` lines."""
        revenue = sales.assign(quantity=sales["quantity"] * sales["unit_price"].fillna(0.0))
        matrix = build_panel(revenue, panel.bucket, end=panel.periods[-1] + pd.Timedelta(days=6),
                             ids=[str(i) for i in panel.ids])
        values = np.zeros_like(panel.values)
        span = min(matrix.values.shape[1], values.shape[1])
        values[:, :span] = matrix.values[:, :span]
        return cls(panel, values, vectors)

    def year_ago(self, similarity: np.ndarray, week: pd.Timestamp, weeks: int) -> tuple[float, np.ndarray] | None:
        """Similarity-weighted revenue of the nearest items in the ``weeks`` periods from ``week`` a year earlier.

        ``similarity`` is the candidate's similarity to every series. Returns the revenue and the positions
        of the items it came from, or None when the data does not reach back a year (or nothing was on sale).
        """
        p = self.panel
        start = int(np.floor((week - p.periods[0]).days / 7)) - YEAR
        if start <= 0 or start + weeks > p.values.shape[1]:
            return None
        alive = np.nonzero(p.first < start)[0]
        if len(alive) == 0:
            return None
        sims = similarity[alive]
        top = np.argsort(-sims)[:POOL]
        weights = np.exp(SHARPNESS * (sims[top] - sims[top].max()))
        rows = alive[top]
        revenue = self.revenue[rows, start:start + weeks].sum(axis=1)
        return float(np.sum(weights * revenue) / weights.sum()), rows


def seasonal_ratio(forecast_units: float, analog_revenue: float, price: float) -> float:
    """Multiplier that turns the forecast into the launch's expected units (the geometric-mean blend).

    One unit's revenue is added to the analogs' so that a window where they sold nothing lowers the
    launch a lot instead of zeroing it.
    """
    if forecast_units <= 0 or price <= 0:
        return 1.0
    blended = np.sqrt(forecast_units * (analog_revenue + price) / price)
    return float(blended / forecast_units)


def week_fits(analogs: SeasonalAnalogs, vector: np.ndarray, forecast_units: float, price: float,
              weeks: list[pd.Timestamp], horizon: int, fallback: dict[pd.Timestamp, float],
              titles: list[str] | None = None) -> dict[pd.Timestamp, tuple[float, str]]:
    """Per launch week: the multiplier of the forecast's units and what it rests on."""
    out = {}
    similarity = analogs.vectors @ vector
    for week in weeks:
        found = analogs.year_ago(similarity, week, horizon)
        if found is None:
            out[week] = (fallback[week], "store seasonality (the sales do not reach back a year for this window)")
            continue
        revenue, rows = found
        names = ", ".join(titles[r] for r in rows[:2]) if titles else ""
        out[week] = (seasonal_ratio(forecast_units, revenue, price),
                     f"nearest catalog items ({names}) sold {revenue:,.0f} in these weeks a year earlier")
    return out
