"""Croston and TSB for all series at once: statsforecast's numbers without its loop over series.

statsforecast fits its intermittent-demand models one series at a time. At 100,000 products that
loop took half of a whole forecast's time (BENCHMARKS.md, session 9). These models step through
the periods and update every series together. Their forecasts equal statsforecast's
``CrostonClassic`` and ``TSB`` on the same series (tests/test_forecast.py checks it).
statsforecast's Croston stays as the benches' reference.
"""

from __future__ import annotations

import numpy as np

from nextdrop.tools.forecasting.series import Panel


def _smooth(level: np.ndarray, value: np.ndarray, alpha: float, update: np.ndarray,
            seeded: np.ndarray) -> np.ndarray:
    """One step of simple exponential smoothing where ``update``; a series' first value seeds its level."""
    smoothed = np.where(seeded, alpha * value + (1 - alpha) * level, value)
    return np.where(update, smoothed, level)


class _FlatForecast:
    """A model whose forecast is one level per series, the same for every step ahead."""

    def fit(self, panel: Panel) -> _FlatForecast:
        return self

    def predict(self, panel: Panel, h: int) -> np.ndarray:
        return np.repeat(self.level(panel)[:, None], h, axis=1)

    def level(self, panel: Panel) -> np.ndarray:
        raise NotImplementedError


class Croston(_FlatForecast):
    """Croston's method: smoothed order size over the smoothed gap between orders."""

    alias = "croston"

    def __init__(self, alpha: float = 0.1) -> None:
        self.alpha = alpha

    def level(self, panel: Panel) -> np.ndarray:
        n, T = panel.values.shape
        size, gap = np.zeros(n), np.zeros(n)
        seen = np.zeros(n, dtype=bool)
        last = panel.first - 1  # the first gap counts from the period before the first sale, as statsforecast's
        for t in range(T):
            value = panel.values[:, t]
            demand = value > 0
            size = _smooth(size, value, self.alpha, demand, seen)
            gap = _smooth(gap, (t - last).astype(float), self.alpha, demand, seen)
            seen |= demand
            last = np.where(demand, t, last)
        return np.divide(size, gap, out=size.copy(), where=gap != 0)


class TSB(_FlatForecast):
    """Teunter-Syntetos-Babai: smoothed chance of an order each period times its smoothed size.

    Unlike Croston's, the chance decays in every period without an order, so a product that
    stopped selling fades out instead of keeping its last rate.
    """

    alias = "tsb"

    def __init__(self, alpha_d: float = 0.2, alpha_p: float = 0.2) -> None:
        self.alpha_d = alpha_d
        self.alpha_p = alpha_p

    def level(self, panel: Panel) -> np.ndarray:
        n, T = panel.values.shape
        chance, size = np.zeros(n), np.zeros(n)
        seen = np.zeros(n, dtype=bool)
        for t in range(T):
            value = panel.values[:, t]
            demand = value > 0
            chance = _smooth(chance, demand.astype(float), self.alpha_p, t >= panel.first, t > panel.first)
            size = _smooth(size, value, self.alpha_d, demand, seen)
            seen |= demand
        return chance * size
