"""Global gradient-boosted models across all series: seasonality and decay learnt from the whole store.

A single product has one or two Christmases of history at most; the store has
thousands. The unit model sees each series scaled by its own recent level (so a
slow seller and a best seller share what they learn), lags and window means,
robust levels, time since the last sale, the position in the season of the
target period, what the same product and the whole store did a season
earlier around that period, and the median period its orders would make if they
kept coming at their recent rate with the sizes of the last season. It predicts
the median of log(1 + units / level) for every step of the horizon at once: the
median, because pooled WAPE and MASE are absolute errors, and lumpy wholesale
demand has a mean well above its median. The order model predicts how many
orders each period gets (``orders``); the forecast is the geometric
mean of the two. On Online Retail it beats every local model (BENCHMARKS.md).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np

from nextdrop.tools.forecasting.models import WindowAverage, season_back, season_position
from nextdrop.tools.forecasting.orders import (
    ORDER_RATE_WINDOWS,
    compound_median,
    line_features,
    order_medians,
    season_sizes,
)
from nextdrop.tools.forecasting.series import Panel

if TYPE_CHECKING:
    import lightgbm as lgb

WINDOWS = (4, 8, 13, 26, 52)
N_LAGS = 8
MIN_AGE = 4  # a series enters training once it has sold for this many periods
PREDICT_BLOCK = 50_000  # series whose features are built at once: a million at once would take gigabytes


def winsorise(values: np.ndarray) -> np.ndarray:
    """Cap each series at twice its 90th percentile of selling periods: one bulk order is not a level."""
    selling = (values > 0).sum(axis=1)
    # the 90th percentile of each row's positive values, vectorised (np.nanquantile loops over rows)
    ordered = np.sort(np.where(values > 0, values, np.inf), axis=1)
    position = 0.9 * np.maximum(selling - 1, 0)
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, np.maximum(selling - 1, 0))
    rows = np.arange(len(values))
    with np.errstate(invalid="ignore"):  # rows without sales read inf; they are not capped anyway
        q90 = ordered[rows, low] + (position - low) * (ordered[rows, high] - ordered[rows, low])
    cap = np.where(selling > 3, 2.0 * q90, np.inf)
    return np.minimum(values, cap[:, None])


def _features(values: np.ndarray, first: np.ndarray, t: int, h: int, positions: np.ndarray,
              season: int, orders: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
              store: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Features (n, h, F) for origin ``t`` (the first ``t`` periods known) and the scale of each series.

    ``orders``: raw units, sales lines and squared quantities per period, or None (features missing).
    ``store``: units per period of the whole store, when ``values`` holds only some of its series.
    """
    n = values.shape[0]
    hist = values[:, :t]
    known = np.arange(t)[None, :] >= first[:, None]
    scale = hist[:, -13:].mean(axis=1) + 1.0
    means = [hist[:, -k:].mean(axis=1) / scale for k in WINDOWS]
    median8 = np.median(hist[:, -8:], axis=1) / scale
    lags = np.zeros((n, N_LAGS))
    width = min(N_LAGS, t)
    lags[:, N_LAGS - width:] = hist[:, t - width:] / scale[:, None]
    age = np.minimum(t - first, 520).astype(float)
    sold = (hist > 0) & known
    since = np.where(sold.any(axis=1), np.argmax(sold[:, ::-1], axis=1), 999).astype(float)
    zero_share = (hist[:, -13:] == 0).mean(axis=1)
    store = values.sum(axis=0) if store is None else store
    if orders is None:
        by_order = np.full((n, len(ORDER_RATE_WINDOWS)), np.nan)
    else:
        by_order = order_medians(*orders, t, season) / scale[:, None]
    base = [age, since, zero_share, median8, *means, *lags.T, *by_order.T]
    out = np.empty((n, h, 1 + 1 + len(base) + 4))
    before, around = season_back(t, h, season)
    for k in range(h):
        target = t + k
        ly_value = ly_window = ly_ratio = np.full(n, np.nan)
        store_ratio = np.nan
        if around[k] is not None:
            ly_value = values[:, target - season] / scale
            ly_window = values[:, around[k]].mean(axis=1) / scale
            ly_ratio = (ly_window * scale + 1.0) / (values[:, before].mean(axis=1) + 1.0)
            store_ratio = store[around[k]].mean() / max(store[before].mean(), 1e-9)
        out[:, k, :] = np.column_stack(
            [np.full(n, k), np.full(n, positions[target]), *base, ly_value, ly_window, ly_ratio,
             np.full(n, store_ratio)]
        )
    return out, scale


def _orders(panel: Panel, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """What ``order_medians`` reads for these series, or None when the panel has no line counts."""
    if panel.lines is None or panel.squares is None:
        return None
    return panel.values[rows], panel.lines[rows], panel.squares[rows]


def _order_inputs(feats: np.ndarray, lines: np.ndarray, t: int, h: int, season: int) -> tuple[np.ndarray, np.ndarray]:
    """The order model's rows (n * h, F): horizon step and season position, then the order history.

    Also each series' order level, which scales the model's target. With the unit model's other
    features as well it was no more accurate on Online Retail, and a third of the cost without them.
    """
    line_feats, level = line_features(lines, t, h, season)
    both = np.concatenate([feats[:, :, :2], line_feats], axis=2)
    return both.reshape(-1, both.shape[-1]), level


class GlobalBoost:
    """Two LightGBM models shared by all series of a panel; the forecast is their geometric mean.

    One predicts the median of log(1 + units / level). The other, when the panel counts sales
    lines, predicts each period's order count (Poisson, scaled by the series' order level); the
    compound median of that many orders with last season's order sizes is the second forecast.
    They err differently: their geometric mean beat either alone on all three Online Retail
    origins (BENCHMARKS.md, session 8). With too little history to train on (fewer than ``h`` + 13
    periods) it forecasts like ``ma8``.
    """

    alias = "global_gbm"

    def __init__(self, h: int = 8, max_rows: int = 60_000, n_estimators: int = 80, learning_rate: float = 0.18,
                 max_bin: int = 63, seed: int = 0, min_target: int | None = None) -> None:
        self.h = h
        self.min_target = min(min_target or h, h)  # the fewest known target steps an origin needs to train on
        self.max_rows = max_rows
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_bin = max_bin
        self.seed = seed
        self.model = None
        self.order_model = None

    def for_horizon(self, h: int) -> GlobalBoost | LongerHorizon:
        """An unfitted model like this one forecasting ``h`` periods; its first ``self.h`` are this model's.

        What lets a forecast be chosen on a short backtest and made for a long horizon without
        the horizon changing the weeks the backtest judged.
        """
        def like(h: int, min_target: int | None = None) -> GlobalBoost:
            return GlobalBoost(h=h, max_rows=self.max_rows, n_estimators=self.n_estimators,
                               learning_rate=self.learning_rate, max_bin=self.max_bin, seed=self.seed,
                               min_target=min_target)

        return like(self.h) if h <= self.h else LongerHorizon(like(self.h), like(h, min_target=self.h))

    @property
    def usable(self) -> bool:
        """False when the last fit had too little history to learn anything."""
        return self.model is not None

    def _booster(self, **objective: object) -> lgb.LGBMRegressor:
        import lightgbm as lgb

        return lgb.LGBMRegressor(
            **objective, n_estimators=self.n_estimators, learning_rate=self.learning_rate, num_leaves=31,
            min_child_samples=100, max_bin=self.max_bin, bin_construct_sample_cnt=20_000, subsample=0.8,
            subsample_freq=1, colsample_bytree=0.8, random_state=self.seed, verbose=-1, n_jobs=1,
            force_row_wise=True,
        )

    def fit(self, panel: Panel) -> GlobalBoost:
        self.model = self.order_model = None
        values = winsorise(panel.values)
        T = values.shape[1]
        positions = season_position(panel.periods.append(panel.future_periods(self.h)), panel.bucket)
        season = panel.season_length
        rng = np.random.default_rng(self.seed)
        # the latest origins know only their first steps' targets: they train those steps, so a model
        # fitted for a long horizon still learns its first weeks from the most recent data
        origins = list(range(min(13, max(T - self.h, 1)), T - self.min_target + 1))
        per_origin = max(self.max_rows // max(len(origins), 1) // self.h, 1)
        xs, ys, order_xs, order_ys = [], [], [], []
        for t in origins:
            eligible = np.nonzero(panel.first <= t - MIN_AGE)[0]
            if len(eligible) == 0:
                continue
            if len(eligible) > per_origin:
                eligible = rng.choice(eligible, per_origin, replace=False)
            orders = _orders(panel, eligible)
            feats, scale = _features(values[eligible], panel.first[eligible], t, self.h, positions, season, orders)
            known = np.arange(self.h) < T - t  # steps whose target is in the data
            xs.append(feats[:, known].reshape(-1, feats.shape[-1]))
            ys.append((panel.values[eligible, t:t + self.h] / scale[:, None]).reshape(-1))
            if orders is not None:
                inputs, level = _order_inputs(feats, orders[1], t, self.h, season)
                order_xs.append(inputs.reshape(len(eligible), self.h, -1)[:, known].reshape(-1, inputs.shape[-1]))
                order_ys.append((orders[1][:, t:t + self.h] / level[:, None]).reshape(-1))
        if not xs:
            return self
        with ThreadPoolExecutor(max_workers=1) as pool:  # LightGBM releases the GIL: the two fit side by side
            if order_xs:
                order_fit = pool.submit(self._booster(objective="poisson").fit, np.concatenate(order_xs),
                                        np.concatenate(order_ys))
            self.model = self._booster(objective="quantile", alpha=0.5)
            self.model.fit(np.concatenate(xs), np.log1p(np.concatenate(ys)))
            self.order_model = order_fit.result() if order_xs else None
        return self

    def predict(self, panel: Panel, h: int) -> np.ndarray:
        if h > self.h:
            raise ValueError(f"{self.alias} was fitted for {self.h} periods ahead, not {h}; refit it")
        if self.model is None:  # too little history to learn from: the per-model fallback
            return WindowAverage(8).predict(panel, h)
        periods = panel.periods.append(panel.future_periods(h))
        positions = season_position(periods, panel.bucket)
        if len(panel) <= PREDICT_BLOCK:
            return self._predict(panel, h, positions)
        blocks = [slice(start, start + PREDICT_BLOCK) for start in range(0, len(panel), PREDICT_BLOCK)]
        store = sum(winsorise(panel.values[rows]).sum(axis=0) for rows in blocks)  # row-wise: blocks add up
        store = np.concatenate([store, np.zeros(h)])
        return np.concatenate([self._predict(panel.subset(rows), h, positions, store) for rows in blocks])

    def _predict(self, panel: Panel, h: int, positions: np.ndarray, store: np.ndarray | None = None) -> np.ndarray:
        """Forecasts for ``panel``'s series; ``store``: the whole store's units per period when it holds only some."""
        values = winsorise(panel.values)
        T = values.shape[1]
        padded = np.concatenate([values, np.zeros((len(panel), h))], axis=1)
        orders = _orders(panel, np.arange(len(panel)))
        feats, scale = _features(padded, panel.first, T, h, positions, panel.season_length, orders, store)
        point = np.expm1(self.model.predict(feats.reshape(-1, feats.shape[-1]))).reshape(len(panel), h)
        point = np.maximum(point, 0.0) * scale[:, None]
        if self.order_model is not None and orders is not None:
            inputs, level = _order_inputs(feats, orders[1], T, h, panel.season_length)
            rate = np.maximum(self.order_model.predict(inputs), 0.0).reshape(len(panel), h) * level[:, None]
            size, size_sq = season_sizes(*orders, T, panel.season_length)
            point = np.sqrt(point * compound_median(rate, size[:, None], size_sq[:, None]))
        point[panel.first >= T] = 0.0
        return point


class LongerHorizon:
    """A global model's first ``short.h`` steps, and the later ones from a copy fitted for the longer horizon.

    Fitting one model for every step of a long horizon made its first 8 weeks worse on
    Online Retail (WAPE 0.557 -> 0.574 at 26 weeks): the far steps take the trees. The first
    weeks stay those of the model the backtest judged, whatever horizon is asked for.
    """

    def __init__(self, short: GlobalBoost, long: GlobalBoost) -> None:
        self.short, self.long = short, long
        self.alias = short.alias

    @property
    def usable(self) -> bool:
        return self.short.usable

    def fit(self, panel: Panel) -> LongerHorizon:
        self.short.fit(panel)
        self.long.fit(panel)
        return self

    def predict(self, panel: Panel, h: int) -> np.ndarray:
        first = self.short.predict(panel, min(h, self.short.h))
        if h <= self.short.h:
            return first
        return np.concatenate([first, self.long.predict(panel, h)[:, self.short.h:]], axis=1)
