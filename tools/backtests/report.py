"""Hold-out evaluations a merchant (and the benches) run: nextdrop next to simple references.

Both return the stable JSON shape of ``nextdrop backtest ... --json``:
``{"methods": {"nextdrop": {"wape", "mase", "spearman"}, "<baseline>": {...}}, "n", "seconds"}``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from nextdrop.tools.backtests.forecast import mase, mase_scale, spearman, wape
from nextdrop.tools.forecasting.forecast import forecast_panel
from nextdrop.tools.forecasting.models import Forecaster, SeasonalNaive, WindowAverage, auto_ets, croston
from nextdrop.tools.forecasting.newproduct import Embedder, NewProduct, StoreHistory, forecast_new_products
from nextdrop.tools.forecasting.series import Panel


def reference_models() -> list[Forecaster]:
    """The baselines every forecast backtest reports beside nextdrop."""
    return [SeasonalNaive(), WindowAverage(8), croston(), auto_ets()]


def _round(value: float) -> float | None:
    """JSON has no NaN: an undefined score (e.g. Spearman of constants) is null."""
    return None if value is None or np.isnan(value) else round(float(value), 3)


def _scores(actual: np.ndarray, pred: np.ndarray, scale: np.ndarray | None, seconds: float) -> dict:
    totals = (actual.sum(axis=-1), pred.sum(axis=-1)) if actual.ndim > 1 else (actual, pred)
    return {
        "wape": _round(wape(actual, pred)),
        "mase": _round(mase(actual, pred, scale)) if scale is not None else None,
        "spearman": _round(spearman(*totals)),
        "seconds": round(seconds, 2),
    }


def evaluate_forecasts(train: Panel, actual: np.ndarray, references: Sequence[Forecaster] | None = None,
                       events=None, horizon: int | None = None, backtest_h: int | None = None) -> dict:
    """Forecast ``actual.shape[1]`` periods after ``train`` with nextdrop and the references.

    ``horizon`` and ``backtest_h``: as a workspace forecasts (``forecasting.workspace.forecast_horizon``),
    a forecast made for ``horizon`` periods with models chosen on ``backtest_h``, cut to the held-out ones.
    """
    h = actual.shape[1]
    scale = mase_scale(train)
    start = time.perf_counter()
    result = forecast_panel(train, max(horizon or h, h), events=events, backtest_h=backtest_h).head(h)
    methods = {"nextdrop": _scores(actual, result.means(), scale, result.seconds)}
    for model in references if references is not None else reference_models():
        t0 = time.perf_counter()
        pred = model.fit(train).predict(train, h)
        methods[model.alias] = _scores(actual, pred, scale, time.perf_counter() - t0)
    coverage = {str(level): round(float(np.mean((actual >= result.lower[level]) & (actual <= result.upper[level]))), 3)
                for level in (80, 95)}
    return {"methods": methods, "n": len(train), "seconds": round(time.perf_counter() - start, 1),
            "wins": result.wins, "coverage": coverage}


def evaluate_new_products(history: StoreHistory, since_period: int, embedder: Embedder) -> dict:
    """First-N-period units of products first sold from ``since_period`` on, each predicted before its launch."""
    start = time.perf_counter()
    panel, weeks = history.panel, history.weeks
    T = panel.values.shape[1]
    targets = np.nonzero((panel.first >= since_period) & (panel.first + weeks <= T))[0]
    units = history.launch_units
    actual = units[targets]
    products = [NewProduct(history.titles[i], panel.periods[panel.first[i]],
                           category=str(history.categories[i]) or None,
                           price=float(history.prices[i]) if np.isfinite(history.prices[i]) else None,
                           id=str(panel.ids[i])) for i in targets]
    results = forecast_new_products(products, history, embedder)
    median, plain = [], []
    for i in targets:
        launch = panel.first[i]
        known = history.launches_before(launch)
        median.append(float(np.median(units[known])) if len(known) else 0.0)
        # plain analogs: any earlier product with complete first weeks, no censoring, no adjustment
        earlier = np.nonzero(panel.first + weeks <= launch)[0]
        if len(earlier) == 0:
            plain.append(0.0)
            continue
        sims = history.vectors[earlier] @ history.vectors[i]
        top = np.argsort(-sims)[:10]
        weights = np.maximum(sims[top], 1e-6)
        plain.append(float(np.sum(weights * units[earlier][top]) / weights.sum()))
    seconds = time.perf_counter() - start
    methods = {
        "nextdrop": _scores(actual, np.array([r.total for r in results]), None, seconds),
        "global_median": _scores(actual, np.array(median), None, 0.0),
        "plain_10nn": _scores(actual, np.array(plain), None, 0.0),
    }
    kinds: dict[str, int] = {}
    for r in results:
        kinds[r.method] = kinds.get(r.method, 0) + 1
    return {"methods": methods, "n": len(targets), "seconds": round(seconds, 1), "how": kinds}
