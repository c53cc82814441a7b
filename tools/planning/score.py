"""What a candidate is worth in each launch week: expected profit over the horizon, in signed parts.

The parts add up to the score (the expected profit of launching in that week
with the newsvendor order):

- ``demand``: margin × expected units of its new-product forecast (at the forecast's own launch week),
- ``seasonal fit``: what launching in this week adds or loses (``seasonal.py``: the nearest catalog items'
  sales in the same weeks a year earlier, else the store's seasonal index),
- ``uncertainty``: what the unsold part of the order and the demand beyond it cost (expected profit at the
  order quantity minus margin × expected demand; never positive),
- ``cannibalisation``: the margin of the units it takes from its variants and similar catalog items
  (a share of the units it is expected to sell).

Expected units and revenue are what the order can sell: ``E[min(demand, order)]``.

A missing cost is the stated default margin, flagged as an assumption.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from nextdrop.tools.forecasting.newproduct import NewProductForecast
from nextdrop.tools.planning.newsvendor import Demand, critical_ratio, expected_profit, order_quantity

# share of a candidate's units taken from one related catalog item, per unit of similarity
TAKE = {"variant": 0.15, "similar": 0.05, "near_duplicate": 0.5, "exact": 1.0}
MAX_TAKE = 0.5  # a candidate never takes more than half its units from the catalog


@dataclass(frozen=True)
class Candidate:
    """A product the merchant could launch (a row of the candidates table)."""

    id: str
    title: str
    price: float
    cost: float | None = None
    category: str | None = None
    earliest: pd.Timestamp | None = None
    lead_time_days: int = 0
    min_order_qty: float = 0.0


@dataclass(frozen=True)
class Related:
    """A catalog item or another candidate the candidate resembles, as the duplicate check classified it."""

    id: str
    title: str
    similarity: float
    kind: str  # exact | near_duplicate | variant | similar


@dataclass(frozen=True)
class Component:
    """One signed part of a score, in money, with what it rests on."""

    name: str
    value: float
    note: str


@dataclass(frozen=True)
class WeekScore:
    """A candidate launched in one week: its expected figures and the parts of its score."""

    week: pd.Timestamp
    expected_units: float  # expected units sold with the order: E[min(demand, order)]
    expected_revenue: float
    order_qty: float
    components: tuple[Component, ...]

    @property
    def score(self) -> float:
        return float(sum(c.value for c in self.components))


@dataclass(frozen=True)
class CandidateScore:
    """Everything the plan knows about one candidate: its forecast, margin, relations and a score per week."""

    candidate: Candidate
    forecast: NewProductForecast
    margin: float  # per unit
    margin_assumed: bool
    service_level: float
    related: tuple[Related, ...]
    novelty: float  # 1 - similarity to the nearest catalog item
    take_share: float
    weeks: tuple[WeekScore, ...] = field(default=())

    @property
    def cost(self) -> float:
        return self.candidate.price - self.margin

    def at(self, week: pd.Timestamp) -> WeekScore:
        for w in self.weeks:
            if w.week == week:
                return w
        raise KeyError(week)

    @property
    def best(self) -> WeekScore:
        return max(self.weeks, key=lambda w: w.score)

    @property
    def critical_ratio(self) -> float:
        return critical_ratio(self.candidate.price, self.cost)


def unit_margin(candidate: Candidate, default_margin: float) -> tuple[float, bool]:
    """Price minus cost; with no cost, ``default_margin`` of the price, and say it was assumed."""
    if candidate.cost is not None and np.isfinite(candidate.cost):
        return candidate.price - candidate.cost, False
    return candidate.price * default_margin, True


def take_share(related: tuple[Related, ...]) -> float:
    """Share of the candidate's units that would come out of related catalog items' sales."""
    return float(min(MAX_TAKE, sum(TAKE.get(r.kind, 0.0) * max(r.similarity, 0.0) for r in related)))


def score_candidate(
    candidate: Candidate,
    forecast: NewProductForecast,
    season: dict[pd.Timestamp, tuple[float, str]],
    *,
    related: tuple[Related, ...] = (),
    novelty: float = 1.0,
    calibration: float = 1.0,
    default_margin: float = 0.5,
    service_level: float = 0.8,
) -> CandidateScore:
    """Score ``candidate`` in each week of ``season``: week -> (multiplier of the forecast's units, why)."""
    margin, assumed = unit_margin(candidate, default_margin)
    cost = candidate.price - margin
    base = Demand.from_forecast(forecast.total, forecast.upper[80], calibration)
    share = take_share(related)
    where = "assumed default margin" if assumed else "price - cost"
    weeks = []
    for week, (ratio, why) in season.items():
        demand = Demand(base.mu + float(np.log(max(ratio, 1e-6))), base.sigma)
        q = order_quantity(demand, service_level, candidate.min_order_qty)
        units = demand.mean
        sold = demand.expected_sales(q)  # no more than the order can be sold
        profit = expected_profit(demand, q, candidate.price, cost)
        parts = (
            Component("demand", margin * base.mean,
                      f"{base.mean:,.0f} units × {margin:,.2f} margin ({where}); forecast {forecast.method}"
                      + (f", calibration ×{calibration:.2f}" if calibration != 1.0 else "")),
            Component("seasonal fit", margin * (units - base.mean), f"week of {week:%Y-%m-%d}: ×{ratio:.2f}, {why}"),
            Component("uncertainty", profit - margin * units,
                      f"{q:,.0f} ordered at a {service_level:.0%} service level sell {sold:,.0f} on average; "
                      f"unsold units cost {cost:,.2f} each"),
            Component("cannibalisation", -share * margin * sold,
                      f"{share:.0%} of its units taken from {len(related)} related item(s)" if related
                      else "no variant or similar item in the catalog"),
        )
        weeks.append(WeekScore(week, sold, sold * candidate.price, q, parts))
    return CandidateScore(candidate, forecast, margin, assumed, service_level, related, novelty, share, tuple(weeks))
