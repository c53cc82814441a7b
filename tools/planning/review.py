"""Launch reviews: planned launches' actual weekly sales against the forecast made at plan time.

Each launch's cumulative units to date are compared with its forecast curve to
date on the log scale, in units of the forecast's own spread: more than the
80% band below is an under-performer, above it an over-performer. The errors of
the reviewed launches become a calibration (a shrunk geometric-mean ratio of
actual to forecast, store-wide and per category) that later plans apply to the
new-product forecasts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from nextdrop.tools.planning.newsvendor import Z80

SHRINK = 5.0  # pseudo-launches at ratio 1: a calibration from few launches stays near 1
MIN_WEEKS = 2  # weeks of sales before a launch counts in the calibration
BOUNDS = (0.25, 4.0)


@dataclass(frozen=True)
class PlannedLaunch:
    """A launch as the plan stored it: when, and what it was expected to sell each week."""

    candidate_id: str
    title: str
    week: pd.Timestamp
    category: str | None
    curve: tuple[float, ...]  # expected units per week from launch
    sigma: float  # log-scale spread of the total
    plan: str = ""  # which stored plan it came from


@dataclass(frozen=True)
class LaunchReview:
    """One launch: weeks on sale, actual and forecast units to date, and the flag."""

    launch: PlannedLaunch
    product_id: str | None  # the product its sales were found under (None: not on sale yet)
    weeks: int
    actual: float
    forecast: float
    z: float
    flag: str  # "below" | "above" | "on track" | "not on sale yet"
    actual_weekly: tuple[float, ...] = ()

    @property
    def ratio(self) -> float:
        return self.actual / self.forecast if self.forecast > 0 else float("nan")


@dataclass(frozen=True)
class Calibration:
    """Multipliers the new-product forecasts get in later plans, with how many launches they rest on."""

    store: float = 1.0
    categories: dict[str, float] = field(default_factory=dict)
    launches: int = 0

    def factor(self, category: str | None) -> float:
        return self.categories.get(category or "", self.store)

    def to_json(self) -> dict:
        return {"store": self.store, "categories": self.categories, "launches": self.launches}

    @classmethod
    def from_json(cls, data: dict) -> Calibration:
        return cls(float(data["store"]), {k: float(v) for k, v in data["categories"].items()}, int(data["launches"]))


def review_launch(launch: PlannedLaunch, product_id: str | None, weekly: np.ndarray) -> LaunchReview:
    """Compare ``weekly`` (units per complete week since the launch week) with the launch's curve."""
    if product_id is None or len(weekly) == 0:
        return LaunchReview(launch, product_id, 0, 0.0, 0.0, 0.0, "not on sale yet")
    weeks = min(len(weekly), len(launch.curve))
    actual, forecast = float(np.sum(weekly[:weeks])), float(np.sum(launch.curve[:weeks]))
    z = float((np.log1p(actual) - np.log1p(forecast)) / max(launch.sigma, 1e-6))
    flag = "below" if z < -Z80 else "above" if z > Z80 else "on track"
    return LaunchReview(launch, product_id, weeks, actual, forecast, z, flag, tuple(float(x) for x in weekly[:weeks]))


def calibration(reviews: list[LaunchReview]) -> Calibration:
    """Store-wide and per-category multipliers from launches with at least ``MIN_WEEKS`` weeks of sales."""
    usable = [r for r in reviews if r.weeks >= MIN_WEEKS and r.forecast > 0]
    if not usable:
        return Calibration()

    def shrunk(items: list[LaunchReview]) -> float:
        logs = [np.log1p(r.actual) - np.log1p(r.forecast) for r in items]
        return float(np.clip(np.exp(np.sum(logs) / (len(logs) + SHRINK)), *BOUNDS))

    by_category: dict[str, list[LaunchReview]] = {}
    for r in usable:
        if r.launch.category:
            by_category.setdefault(r.launch.category, []).append(r)
    return Calibration(shrunk(usable), {c: shrunk(items) for c, items in by_category.items()}, len(usable))
