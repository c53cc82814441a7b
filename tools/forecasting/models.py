"""The forecasters that compete per series: one interface, one alias each.

A forecaster is fitted on a panel and then predicts the next ``h`` periods of
any panel with the same series (``fit`` once at a backtest origin, ``predict`` at
several: this is what makes a global model affordable in a rolling backtest).
Point forecasts only; intervals come from the backtest residuals of the same
model (``forecast``), so every model's intervals are calibrated the same way.
"""

from __future__ import annotations

import warnings
from typing import Protocol

import numpy as np
import pandas as pd

from nextdrop.tools.forecasting.series import Panel, bucket_spec


class Forecaster(Protocol):
    """fit / predict over a whole panel; ``alias`` names the model in every result."""

    alias: str

    def fit(self, panel: Panel) -> Forecaster: ...

    def predict(self, panel: Panel, h: int) -> np.ndarray:
        """Forecasts of shape (len(panel), h), never negative."""
        ...


class WindowAverage:
    """Mean of the last ``window`` periods since first sale: the strongest simple reference here."""

    name = "ma"
    statistic = staticmethod(np.nanmean)  # over the window, NaN before the first sale

    def __init__(self, window: int = 8) -> None:
        self.window = window
        self.alias = f"{self.name}{window}"

    def fit(self, panel: Panel) -> WindowAverage:
        return self

    def predict(self, panel: Panel, h: int) -> np.ndarray:
        start = max(panel.values.shape[1] - self.window, 0)  # only the window: a big store's panel is gigabytes
        tail = np.where(panel.since_first(start), panel.values[:, start:], np.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            level = np.nan_to_num(self.statistic(tail, axis=1))
        return np.repeat(level[:, None], h, axis=1)


class WindowMedian(WindowAverage):
    """Median of the last ``window`` periods: ignores the one-off bulk order an average chases."""

    name = "median"
    statistic = staticmethod(np.nanmedian)


class SeasonalNaive:
    """The same period one season ago (a moving average where there is no full season yet)."""

    alias = "seasonal_naive"

    def fit(self, panel: Panel) -> SeasonalNaive:
        return self

    def predict(self, panel: Panel, h: int) -> np.ndarray:
        season = panel.season_length
        T = panel.values.shape[1]
        out = WindowAverage(season).predict(panel, h)
        for k in range(h):
            src = T - season + (k % season)
            if src >= 0:
                ok = panel.first <= src
                out[ok, k] = panel.values[ok, src]
        return out


class StatsForecastModel:
    """A statsforecast model run per series (AutoETS, Croston, TSB, ADIDA...), with a fallback.

    Series with fewer than ``min_obs`` periods since their first sale get the
    fallback's forecast rather than an error: short histories are normal.
    """

    def __init__(self, model: object, alias: str, min_obs: int = 2, fallback: Forecaster | None = None) -> None:
        self.model = model
        self.alias = alias
        self.min_obs = min_obs
        self.fallback = fallback or WindowAverage(8)

    def fit(self, panel: Panel) -> StatsForecastModel:
        return self

    def predict(self, panel: Panel, h: int) -> np.ndarray:
        from statsforecast import StatsForecast
        from statsforecast.models import HistoricAverage

        out = self.fallback.predict(panel, h)
        T = panel.values.shape[1]
        ok = (T - panel.first) >= self.min_obs
        if not ok.any():
            return out
        rows = np.nonzero(ok)[0]
        lengths = T - panel.first[rows]
        values = np.concatenate([panel.values[i, panel.first[i]:] for i in rows])
        ds = np.concatenate([np.arange(panel.first[i], T) for i in rows])
        frame = pd.DataFrame({"unique_id": np.repeat(rows, lengths), "ds": ds, "y": values})
        sf = StatsForecast(models=[self.model], freq=1, n_jobs=1, fallback_model=HistoricAverage())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fc = sf.forecast(df=frame, h=h)
        point = fc.drop(columns=["unique_id", "ds"]).iloc[:, 0].to_numpy().reshape(len(rows), h)
        out[rows] = np.nan_to_num(point)
        return np.maximum(out, 0.0)


def auto_ets() -> StatsForecastModel:
    """AutoETS without a yearly season: statsforecast skips seasons over 24 anyway (FINDINGS)."""
    from statsforecast.models import AutoETS

    return StatsForecastModel(AutoETS(season_length=1), "auto_ets", min_obs=10)


def croston() -> StatsForecastModel:
    """statsforecast's Croston, the benches' reference; the candidates use ``intermittent``'s."""
    from statsforecast.models import CrostonClassic

    return StatsForecastModel(CrostonClassic(), "croston")


def adida() -> StatsForecastModel:
    """ADIDA: temporal aggregation for very sparse series."""
    from statsforecast.models import ADIDA

    return StatsForecastModel(ADIDA(), "adida")


def season_back(t: int, h: int, season: int) -> tuple[slice, list[slice | None]]:
    """Last season's view from origin ``t``: the 8 periods before the origin a season back, and for
    each horizon step the 5 periods around its target a season back (None unless all lie before ``t``).

    Every last-season feature reads these same windows, so their ratios mean the same thing.
    """
    before = slice(max(t - season - 8, 0), max(t - season, 1))
    around: list[slice | None] = []
    for k in range(h):
        last = t + k - season
        around.append(slice(last - 2, last + 3) if last - 2 >= 0 and last + 3 <= t else None)
    return before, around


def season_position(periods: pd.DatetimeIndex, bucket: str) -> np.ndarray:
    """Where each period sits in its season: ISO week, weekday or month."""
    freq = bucket_spec(bucket)[0]
    if freq.startswith("W"):
        return periods.isocalendar().week.to_numpy(dtype=float)
    if freq == "D":
        return periods.dayofweek.to_numpy(dtype=float)
    return periods.month.to_numpy(dtype=float)
