"""Forecasts for what exists: models compete per series by backtest, the evidence travels along.

``forecast_panel`` backtests every candidate model on rolling origins, keeps for
each series the model with the lowest backtest error (the first model, the
default, unless another beats it by ``margin``), refits the chosen models on
all the history and attaches 80% and 95% intervals from that model's own
backtest residuals. Series that never sold get zeros; series too young to
backtest get the default model, and their ``note`` says so.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from nextdrop.tools.backtests.forecast import BacktestResiduals, backtest, mase_scale
from nextdrop.tools.forecasting.global_model import GlobalBoost
from nextdrop.tools.forecasting.holidays import apply_effects, measure_effects
from nextdrop.tools.forecasting.intermittent import TSB, Croston
from nextdrop.tools.forecasting.models import Forecaster, WindowAverage, WindowMedian
from nextdrop.tools.forecasting.series import Panel

LEVELS = (80, 95)


def default_models(h: int) -> list[Forecaster]:
    """The candidates, default first. AutoETS is left out: it never won here and costs the most."""
    return [GlobalBoost(h=h), WindowAverage(8), WindowMedian(8), Croston(), TSB()]


@dataclass(frozen=True)
class SeriesForecast:
    """One series' forecast with the evidence for trusting it."""

    id: str
    model: str
    periods: pd.DatetimeIndex
    mean: np.ndarray
    lower: dict[int, np.ndarray]  # level -> lower bound per period
    upper: dict[int, np.ndarray]
    backtest_mae: float  # mean absolute error per period of the chosen model; NaN if not backtestable
    backtest_mase: float
    note: str = ""


@dataclass
class ForecastResult:
    """Forecasts for a panel, one row per series, which model won where, and how well each model backtested.

    Arrays rather than an object per series: a store of 250,000 products loads from the forecast
    cache in a fraction of the time (BENCHMARKS.md, session 9). ``result[id]`` and ``series``
    give the per-series view.
    """

    ids: np.ndarray  # (n,) series ids
    periods: pd.DatetimeIndex  # (h,) the forecast's periods
    models: np.ndarray  # (n,) alias of each series' chosen model
    mean: np.ndarray  # (n, h) point forecasts
    lower: dict[int, np.ndarray]  # level -> (n, h) lower bounds
    upper: dict[int, np.ndarray]
    backtest_mae: np.ndarray  # (n,) mean absolute error per period of the chosen model; NaN if not backtestable
    backtest_mase: np.ndarray
    notes: list[str]
    windows: int
    model_mae: dict[str, float]  # pooled backtest MAE per period of each candidate
    wins: dict[str, int]  # how many series each model was chosen for
    seconds: float
    bucket: str

    @property
    def horizon(self) -> int:
        return len(self.periods)

    def __getitem__(self, series_id: str) -> SeriesForecast:
        rows = np.nonzero(self.ids == series_id)[0]
        if len(rows) == 0:
            raise KeyError(series_id)
        return self._series(int(rows[0]))

    @property
    def series(self) -> list[SeriesForecast]:
        """Every series' forecast, in panel order."""
        return [self._series(i) for i in range(len(self.ids))]

    def _series(self, i: int) -> SeriesForecast:
        return SeriesForecast(str(self.ids[i]), str(self.models[i]), self.periods, self.mean[i],
                              {level: bound[i] for level, bound in self.lower.items()},
                              {level: bound[i] for level, bound in self.upper.items()},
                              float(self.backtest_mae[i]), float(self.backtest_mase[i]), self.notes[i])

    def head(self, h: int) -> ForecastResult:
        """The first ``h`` periods of every forecast: the same model, numbers and evidence, cut."""
        return replace(self, periods=self.periods[:h], mean=self.mean[:, :h],
                       lower={level: bound[:, :h] for level, bound in self.lower.items()},
                       upper={level: bound[:, :h] for level, bound in self.upper.items()})

    def means(self) -> np.ndarray:
        """Point forecasts as a (series, horizon) matrix in panel order."""
        return self.mean

    def to_frame(self) -> pd.DataFrame:
        """Long table: id, period, model, mean and interval bounds, backtest error."""
        n, h = self.mean.shape
        frame = pd.DataFrame({"id": np.repeat(self.ids.astype(str), h), "period": np.tile(self.periods, n),
                              "model": np.repeat(self.models.astype(str), h), "mean": self.mean.ravel()})
        for level in LEVELS:
            frame[f"lo{level}"] = self.lower[level].ravel()
            frame[f"hi{level}"] = self.upper[level].ravel()
        frame["backtest_mae"] = np.repeat(self.backtest_mae, h)
        frame["backtest_mase"] = np.repeat(self.backtest_mase, h)
        return frame


def worse_than_naive(mase: float) -> str:
    """What a forecast whose model backtested worse than a naive one must say beside its numbers."""
    return (f"the chosen model backtested worse than a naive forecast (last period carried forward): "
            f"MASE {mase:.2f} > 1, so read these numbers as a rough guide")


def _for_horizon(model: Forecaster, h: int) -> Forecaster:
    """A fresh copy of ``model`` for the final fit, able to forecast ``h`` periods."""
    longer = getattr(model, "for_horizon", None)
    return longer(h) if longer else copy.deepcopy(model)


def choose(residuals: Sequence[BacktestResiduals], margin: float = 0.0) -> np.ndarray:
    """Index of the chosen model per series: the default unless another is better by ``margin``."""
    mae = np.array([r.mae for r in residuals])  # (models, n)
    best = np.argmin(np.where(np.isnan(mae), np.inf, mae), axis=0)
    default_mae = mae[0]
    best_mae = mae[best, np.arange(mae.shape[1])]
    keep_default = np.isnan(default_mae) | (best_mae >= default_mae * (1.0 - margin))
    return np.where(keep_default, 0, best)


def interval_quantiles(res: BacktestResiduals, levels: Sequence[int] = LEVELS) -> dict[int, np.ndarray]:
    """Per level, (lower, upper) quantiles per step of residuals relative to (forecast + 1)."""
    rel = (res.actual - res.predicted) / (res.predicted + 1.0)
    out = {}
    for level in levels:
        tail = (100 - level) / 200
        flat = rel.transpose(2, 0, 1).reshape(rel.shape[2], -1)
        has = ~np.all(np.isnan(flat), axis=1)
        q = np.zeros((2, rel.shape[2]))
        if has.any():
            q[:, has] = np.nanquantile(flat[has], [tail, 1 - tail], axis=1)
        out[level] = q
    return out


def forecast_panel(panel: Panel, h: int, models: Sequence[Forecaster] | None = None, windows: int = 2,
                   margin: float = 0.5, refit: bool = True, events: pd.DataFrame | None = None,
                   backtest_h: int | None = None) -> ForecastResult:
    """Backtest on ``backtest_h`` periods (default ``h``), choose per series, forecast ``h`` periods with intervals.

    The choice and the fit do not depend on ``h`` when ``backtest_h`` is given: a forecast
    made for a long horizon and cut to its first weeks is the forecast of those weeks, so a
    merchant asking for 2 or 8 weeks sees the same numbers on the weeks both show
    (``ForecastResult.head``). Steps past ``backtest_h`` take the last backtested step's interval.

    With ``refit`` (the default) the final forecast comes from each model fitted
    on all the history; that fit runs in a second thread while the backtests run
    (LightGBM releases the GIL), so a fresh global model costs no extra wall time
    on a machine with two cores. ``refit=False`` reuses the models as fitted at
    the oldest backtest origin: one fit, on data ``windows * h`` periods stale.
    ``events`` (``date, name, kind``, past and future) shift the forecast by
    their measured store-wide effect: promotions everywhere, holidays only
    where the chosen model does not already know the season position.
    """
    start = time.perf_counter()
    backtest_h = backtest_h or h
    if not refit and h > backtest_h:
        raise ValueError(f"refit=False reuses the backtest's models, fitted for {backtest_h} periods, not {h}")
    models = list(models) if models is not None else default_models(backtest_h)
    with ThreadPoolExecutor(max_workers=1) as pool:
        finals = [pool.submit(_for_horizon(model, h).fit, panel) if refit else None for model in models]
        runs = [backtest(panel, model, backtest_h, windows) for model in models]
        refitted = [final.result() if final else fitted for final, (_, fitted) in zip(finals, runs, strict=True)]
    usable = [i for i, (_, fitted) in enumerate(runs) if getattr(fitted, "usable", True)]
    # e.g. a global model with too little data to learn from
    models, runs, refitted = [models[i] for i in usable], [runs[i] for i in usable], [refitted[i] for i in usable]
    residuals = [res for res, _ in runs]
    chosen = choose(residuals, margin)
    scale = mase_scale(panel)
    T = panel.values.shape[1]
    periods = panel.future_periods(h)
    point = np.zeros((len(panel), h))
    for m, fitted in enumerate(refitted):
        rows = chosen == m
        if rows.any():
            point[rows] = fitted.predict(panel, h)[rows]
    adjustments = [""] * len(panel)
    if events is not None and len(events):
        effects = measure_effects(panel, events)
        knows_season = np.array([isinstance(models[m], GlobalBoost) for m in chosen])
        for seasonal in (False, True):
            usable = [e for e in effects if e.kind == "promo" or not seasonal]
            rows = knows_season == seasonal
            if usable and rows.any():
                point[rows], said = apply_effects(point[rows], periods, panel.bucket, events, usable)
                for i in np.nonzero(rows)[0]:
                    adjustments[i] = "; ".join(said)
    rows = np.arange(len(panel))
    mae = np.array([r.mae for r in residuals])[chosen, rows]
    quantiles = [interval_quantiles(r) for r in residuals]
    steps = np.minimum(np.arange(h), backtest_h - 1)  # past the backtest: its last step's spread
    lower, upper = {}, {}
    for level in LEVELS:
        lo, hi = np.stack([q[level][:, steps] for q in quantiles])[chosen].transpose(1, 0, 2)  # each (n, h)
        # a biased model's residual quantiles can sit on one side: keep the forecast inside its band
        lower[level] = np.clip(point + lo * (point + 1.0), 0.0, point)
        upper[level] = np.maximum(point + hi * (point + 1.0), point)
    never_sold = panel.first >= T
    point[never_sold] = 0.0
    notes = []
    mase = mae / scale
    for i in rows:
        note = ""
        if never_sold[i]:
            note = "never sold: forecast is zero"
        elif np.isnan(mae[i]):
            note = (f"{T - panel.first[i]} periods of history: too young to backtest {backtest_h} periods ahead, "
                    f"{models[0].alias} by default")
        elif mase[i] > 1:
            note = worse_than_naive(float(mase[i]))
        if adjustments[i]:
            note = "; ".join(x for x in (note, f"event effects: {adjustments[i]}") if x)
        notes.append(note)
    model_mae = {r.alias: float(np.nanmean(np.abs(r.actual - r.predicted))) for r in residuals}
    wins = {model.alias: int(np.sum(chosen == m)) for m, model in enumerate(models)}
    aliases = np.array([model.alias for model in models])[chosen]
    return ForecastResult(panel.ids, periods, aliases, point, lower, upper, mae, mase, notes, windows,
                          model_mae, wins, time.perf_counter() - start, panel.bucket)
