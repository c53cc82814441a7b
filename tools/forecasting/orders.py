"""Demand as orders: how many sales lines a product gets per period, and how big they are.

Wholesale demand is a few big orders, not a level: a product bought by a few
wholesalers in big orders and one bought in many small orders can share a level
and a history of weekly totals, yet their median weeks differ. A period's units
are taken as a compound Poisson sum: orders arrive at some rate, their sizes
have the mean and second moment of the last season's orders. These functions
turn a rate into the median period of that sum (what pooled WAPE rewards), and
describe each series' order history for the global model (``global_model``).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

from nextdrop.tools.forecasting.models import season_back

ORDER_RATE_WINDOWS = (4, 8, 13)  # periods over which the rate of the order-median features is counted
LINE_WINDOWS = (4, 8, 26, 52)
LINE_LAGS = 4


def season_sizes(units: np.ndarray, lines: np.ndarray, squares: np.ndarray, t: int,
                 season: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean order size and mean squared order size per series over the season before ``t`` (0 if no order)."""
    window = slice(max(t - season, 0), t)
    count = lines[:, window].sum(axis=1)
    per_order = np.maximum(count, 1)
    known = count > 0
    size = np.where(known, units[:, window].sum(axis=1) / per_order, 0.0)
    size_sq = np.where(known, squares[:, window].sum(axis=1) / per_order, 0.0)
    return size, size_sq


def compound_median(rate: np.ndarray, size: np.ndarray, size_sq: np.ndarray) -> np.ndarray:
    """Median units of a period with Poisson(``rate``) orders of the given size moments (arrays broadcast).

    No order (probability e^-rate) sells nothing, so the median is zero when that is at least
    even odds; otherwise, given at least one order, the total is taken as lognormal with the
    compound's first two moments, read at the level that makes the whole a median. Closed form:
    a Monte Carlo over the empirical order sizes agrees to a correlation of 0.99.
    """
    none = np.exp(-rate)
    some = np.maximum(1.0 - none, 1e-12)
    mean = np.maximum(rate * size / some, 1e-12)
    second = np.maximum((rate * size_sq + (rate * size) ** 2) / some, 1e-12)
    sigma2 = np.maximum(np.log(second / mean**2), 0.0)
    level = np.clip((0.5 - none) / some, 1e-6, 1 - 1e-6)
    median = np.exp(np.log(mean) - sigma2 / 2 + np.sqrt(sigma2) * ndtri(level))
    return np.where((size > 0) & (none < 0.5), median, 0.0)


def order_medians(units: np.ndarray, lines: np.ndarray, squares: np.ndarray, t: int, season: int) -> np.ndarray:
    """Median units of the next period per series (n, len(ORDER_RATE_WINDOWS)), if orders kept coming.

    The rate is that of the last 4, 8 or 13 periods. On Online Retail these features of the global
    model lowered pooled WAPE on all three origins (BENCHMARKS.md, session 5).
    """
    size, size_sq = season_sizes(units, lines, squares, t, season)
    out = np.zeros((len(units), len(ORDER_RATE_WINDOWS)))
    for j, k in enumerate(ORDER_RATE_WINDOWS):
        rate = lines[:, max(t - k, 0):t].sum(axis=1) / max(min(k, t), 1)
        out[:, j] = compound_median(rate, size, size_sq)
    return out


def line_features(lines: np.ndarray, t: int, h: int, season: int) -> tuple[np.ndarray, np.ndarray]:
    """Features (n, h, F) of each series' order count before ``t``, and its order level.

    Window means and lags are divided by the level (mean lines of the last 13 periods, plus 0.1 so
    a series without orders has one); the last feature is last season's order count around each
    target period against the periods before the origin a season earlier (NaN when unknown).
    """
    n = len(lines)
    hist = lines[:, :t]
    level = hist[:, -13:].mean(axis=1) + 0.1
    lags = np.zeros((n, LINE_LAGS))
    width = min(LINE_LAGS, t)
    lags[:, LINE_LAGS - width:] = hist[:, t - width:]
    static = np.column_stack([*(hist[:, -k:].mean(axis=1) for k in LINE_WINDOWS), *lags[:, ::-1].T]) / level[:, None]
    last_year = np.full((n, h), np.nan)
    before, around = season_back(t, h, season)
    before_mean = lines[:, before].mean(axis=1) + 0.1
    for k, window in enumerate(around):
        if window is not None:
            last_year[:, k] = (lines[:, window].mean(axis=1) + 0.1) / before_mean
    out = np.empty((n, h, static.shape[1] + 2))
    out[:, :, :static.shape[1]] = static[:, None, :]
    out[:, :, -2] = np.log(level)[:, None]
    out[:, :, -1] = last_year
    return out, level
