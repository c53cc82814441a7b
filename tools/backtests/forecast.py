"""Rolling-origin backtests and the error measures every forecast reports.

A backtest cuts the panel at origins ``T - h - k*step`` (k = 0..windows-1),
forecasts the next ``h`` periods from what was known there and compares with
what happened. The same residuals give the per-series choice of model and the
intervals of the final forecast.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy.stats import spearmanr

from nextdrop.tools.forecasting.models import Forecaster
from nextdrop.tools.forecasting.series import Panel


def wape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Pooled absolute error over pooled actual units: big sellers weigh what they sell."""
    total = float(np.sum(actual))
    return float(np.sum(np.abs(actual - predicted)) / total) if total > 0 else float("nan")


def mase_scale(panel: Panel) -> np.ndarray:
    """Each series' mean absolute one-period change since its first sale (1 when it cannot be known)."""
    changes = np.abs(np.diff(panel.values, axis=1))  # change j is from period j to j + 1
    counted = panel.since_first()[:, :-1]
    count = counted.sum(axis=1)
    total = np.where(counted, changes, 0.0).sum(axis=1)
    scale = np.divide(total, count, out=np.zeros(len(panel)), where=count > 0)
    return np.where(scale > 0, scale, 1.0)


def mase(actual: np.ndarray, predicted: np.ndarray, scale: np.ndarray) -> float:
    """Mean over series of MAE divided by the series' in-sample naive error."""
    return float(np.mean(np.mean(np.abs(actual - predicted), axis=1) / scale))


def spearman(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Rank correlation of totals: does the forecast order products the way they sold?"""
    if len(actual) < 3:
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = spearmanr(actual, predicted).statistic
    return float(value)


def origins(T: int, h: int, windows: int, step: int | None = None) -> list[int]:
    """Backtest origins, oldest first; only those leaving at least one period to learn from."""
    step = step or h
    return sorted(t for t in (T - h - k * step for k in range(windows)) if t >= 1)


@dataclass(frozen=True)
class BacktestResiduals:
    """Out-of-sample residuals of one model: (windows, n, h), NaN where a series did not exist yet."""

    alias: str
    actual: np.ndarray
    predicted: np.ndarray

    @cached_property
    def mae(self) -> np.ndarray:
        """Per-series mean absolute error over all windows (NaN: no window to judge by).

        Cached: the forecast reads it once per series, and recomputing it each time made
        forecasting quadratic in the number of series.
        """
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmean(np.abs(self.actual - self.predicted), axis=(0, 2))


def backtest(panel: Panel, model: Forecaster, h: int, windows: int = 2,
             step: int | None = None, refit: bool = False) -> tuple[BacktestResiduals, Forecaster]:
    """Forecast from each origin with what was known there; also return the model fitted at the oldest.

    Without ``refit`` the model is fitted once at the oldest origin and predicts
    from the later ones (no look-ahead either way); local models ignore fitting.
    """
    cuts = origins(panel.values.shape[1], h, windows, step)
    actual = np.full((len(cuts), len(panel), h), np.nan)
    predicted = np.full_like(actual, np.nan)
    fitted = None
    for w, t in enumerate(cuts):
        known = panel.head(t)
        if fitted is None or refit:
            fitted = model.fit(known)
        alive = panel.first < t
        actual[w, alive] = panel.values[alive, t:t + h]
        predicted[w, alive] = fitted.predict(known, h)[alive]
    return BacktestResiduals(model.alias, actual, predicted), fitted or model
