"""Launch curves for products that have never sold, from analogs: similar past launches.

A past launch is a product whose first sale came well after the data starts (a
product already selling on day one was not launched then: counting it would
bias the analogs) and whose first ``weeks`` periods are complete before the new
product's launch. For a new product the nearest launches in embedding space
(same category preferred) are aligned at their own launch and scaled by the
store's seasonality of the target launch window against theirs, by the demand
trend since, and by price. Neighbours are weighted by similarity *and* closeness
in price (a bag at 2.08 is a better guide for a bag at 1.95 than the same bag
sold as a 5.06 single), each at two bandwidths (the few nearest, and a broad
average). Their log mean, together with what the nearest *existing* products
sell right now, the product's price and the launch season, feeds a ridge model
fitted on the past launches themselves (each seen as it was before its own
launch). Its log-scale prediction is then mapped to units
by a second, tiny fit that minimises absolute unit errors (the WAPE objective:
a log model alone is scored on the geometric scale, where big sellers weigh no
more than small ones) on out-of-fold predictions. The result shows the analogs,
an interval from the model's residuals and the analogs' spread, and a confidence
that drops when they are far away or disagree. Too few launches: the
category's, then the store's median launch, and the result says which.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

import numpy as np
import pandas as pd

from nextdrop.tools.forecasting.launch_regression import Ridge, UnitLink
from nextdrop.tools.forecasting.models import season_position
from nextdrop.tools.forecasting.series import Panel, bucket_spec

CENSOR = 13  # a first sale within this many periods of the data's start is not a launch
MIN_ANALOGS = 5  # fewer known launches than this: fall back to category or store level
# a best analog less similar than this: the product is unlike anything the store launched, and the
# category's or the store's launches say more than its nearest (bench/new_products.py --floors)
MIN_SIMILARITY = 0.35
MIN_TRAIN = 30  # fewer launches than this: use the adjusted analog mean without the ridge model
K = 10  # analogs shown and averaged
PRICE_WIDTH = 2.0  # neighbour weight = exp(sharpness * (similarity - best) - PRICE_WIDTH * |log price ratio|)
Z = {80: 1.2816, 95: 1.96}


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised float32 rows (the index's embedder, MiniLM...)."""

    def encode(self, texts: list[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class NewProduct:
    """What is known about a product before it sells."""

    title: str
    launch: pd.Timestamp
    category: str | None = None
    price: float | None = None
    id: str = ""


@dataclass(frozen=True)
class Analog:
    """One past launch used for a forecast, with its own and its adjusted first-N units."""

    id: str
    title: str
    similarity: float
    launch: pd.Timestamp
    units: float
    adjusted_units: float
    weight: float
    curve: np.ndarray  # its units per period from its own launch on (the first N)


@dataclass(frozen=True)
class NewProductForecast:
    """A launch curve with the analogs it came from and how far to trust it."""

    product: NewProduct
    periods: pd.DatetimeIndex
    mean: np.ndarray  # units per period from launch
    total: float
    lower: dict[int, float]  # level -> lower bound of the total
    upper: dict[int, float]
    analogs: list[Analog]
    confidence: float  # 0..1
    method: str  # "analogs" | "category" | "store"
    note: str


@dataclass(frozen=True)
class StoreHistory:
    """Everything the analog model reads: the panel, and each series' text vector, category and price."""

    panel: Panel
    titles: list[str]
    categories: np.ndarray  # str, "" when unknown
    prices: np.ndarray  # NaN when unknown
    vectors: np.ndarray  # (n, d) normalised
    weeks: int = 8
    censor: int = CENSOR

    @classmethod
    def build(cls, panel: Panel, catalog: pd.DataFrame, embedder: Embedder, weeks: int = 8,
              censor: int = CENSOR) -> StoreHistory:
        """``catalog`` has ``product_id, title`` and optionally ``category, price``."""
        info = catalog.assign(product_id=catalog["product_id"].astype(str)).drop_duplicates("product_id")
        info = info.set_index("product_id").reindex(panel.ids)
        titles = info["title"].fillna("").astype(str).tolist()
        categories = (info["category"].fillna("").astype(str).to_numpy() if "category" in info
                      else np.full(len(panel), ""))
        prices = info["price"].astype(float).to_numpy() if "price" in info else np.full(len(panel), np.nan)
        vectors = np.asarray(embedder.encode(titles), dtype=np.float32) if titles else np.zeros((0, 1))
        return cls(panel, titles, categories, prices, vectors, weeks, censor)

    @cached_property
    def launch_units(self) -> np.ndarray:
        """First-N-period units of every series (meaningful only where it is a launch)."""
        p = self.panel
        cum = np.concatenate([np.zeros((len(p), 1)), np.cumsum(p.values, axis=1)], axis=1)
        rows = np.arange(len(p))
        end = np.minimum(p.first + self.weeks, p.values.shape[1])
        return cum[rows, end] - cum[rows, np.minimum(p.first, p.values.shape[1])]

    @cached_property
    def log_prices(self) -> np.ndarray:
        """Log price of every series, NaN when unknown."""
        ok = np.isfinite(self.prices) & (self.prices > 0)
        return np.where(ok, np.log(np.where(ok, self.prices, 1.0)), np.nan)

    @cached_property
    def store_total(self) -> np.ndarray:
        return self.panel.values.sum(axis=0)

    @cached_property
    def season_offset(self) -> int:
        """Season position of the panel's first period, so that index positions follow the calendar."""
        p = self.panel
        return int(season_position(p.periods[:1], p.bucket)[0]) % p.season_length

    def context(self, start: int, cache: dict[int, _Context]) -> _Context:
        """Store-level facts at launch period ``start`` (memoised in ``cache``)."""
        if start not in cache:
            cache[start] = _Context(self, start)
        return cache[start]

    def launches_before(self, start: int) -> np.ndarray:
        """Indices of launches whose first N periods were complete before period ``start`` and are in the data.

        A candidate launching after the data ends must not learn from a launch whose first weeks
        the data has not seen yet: its curve would be cut short.
        """
        p = self.panel
        return np.nonzero((p.first >= self.censor) & (p.first + self.weeks <= min(start, p.values.shape[1])))[0]


class _Context:
    """Store-level facts at one launch period, shared by every product launched then."""

    def __init__(self, history: StoreHistory, start: int) -> None:
        panel = history.panel
        self.history = history
        self.start = start
        self.total = history.store_total
        self.levels: dict[int, float] = {}
        self.offset = history.season_offset
        self.index = seasonal_index(self.total, panel.season_length, min(start, len(self.total)))
        self.known = history.launches_before(start)
        self.units = history.launch_units
        self.alive = np.nonzero(panel.first < min(start, panel.values.shape[1]) - 4)[0]
        lo = max(min(start, panel.values.shape[1]) - 8, 0)
        self.recent = np.log1p(panel.values[:, lo:max(start, lo + 1)].sum(axis=1))
        self.elasticity = price_elasticity(history.prices[self.known], self.units[self.known])

    def window_index(self, start: int) -> float:
        """Mean seasonal index over the N periods from ``start``."""
        season = len(self.index)
        return float(np.mean(self.index[(np.arange(start, start + self.history.weeks) + self.offset) % season]))

    def level(self, at: int) -> float:
        """Deseasonalised store units per selling product in the 8 periods before ``at``."""
        if at not in self.levels:
            self.levels[at] = self._level(at)
        return self.levels[at]

    def _level(self, at: int) -> float:
        lo = max(at - 8, 0)
        if at <= lo:
            return 1.0
        active = max(int(np.sum(self.history.panel.first < at)), 1)
        season = len(self.index)
        idx = float(np.mean(self.index[(np.arange(lo, at) + self.offset) % season]))
        return float(self.total[lo:at].mean() / idx / active)


def price_elasticity(prices: np.ndarray, units: np.ndarray) -> float:
    """Slope of log first-N units on log price among past launches, kept within [-1.5, 0] (0: unknown)."""
    ok = np.isfinite(prices) & (prices > 0)
    if ok.sum() < 20 or np.ptp(np.log(prices[ok])) == 0:
        return 0.0
    slope = np.polyfit(np.log(prices[ok]), np.log1p(units[ok]), 1)[0]
    return float(np.clip(slope, -1.5, 0.0))


def seasonal_index(total: np.ndarray, season: int, upto: int) -> np.ndarray:
    """Store units of each season position relative to the surrounding year, from periods before ``upto``."""
    known = total[:upto]
    cum = np.concatenate([[0.0], np.cumsum(known)])
    pos = np.arange(len(known))
    lo, hi = np.maximum(pos - season // 2, 0), np.minimum(pos + season // 2 + 1, len(known))
    means = (cum[hi] - cum[lo]) / np.maximum(hi - lo, 1)
    ratios = np.where(means > 0, known / np.where(means > 0, means, 1.0), np.nan)
    index = np.ones(season)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for pos in range(season):
            values = ratios[pos::season]
            if np.isfinite(values).any():
                index[pos] = np.nanmean(values)
    smooth = np.convolve(np.concatenate([index[-2:], index, index[:2]]), np.ones(5) / 5, mode="valid")
    return np.maximum(smooth, 0.05)


@dataclass(frozen=True)
class _Evidence:
    """What the analogs say about one product, and the features the launch model reads."""

    top: np.ndarray  # launch indices into the panel
    sims: np.ndarray
    weights: np.ndarray
    adjusted: np.ndarray  # adjusted first-N units per analog
    factors: np.ndarray
    features: np.ndarray

    @property
    def log_mean(self) -> float:
        return float(np.sum(self.weights * np.log1p(self.adjusted)))

    @property
    def log_spread(self) -> float:
        logs = np.log1p(self.adjusted)
        return float(np.sqrt(np.sum(self.weights * (logs - self.log_mean) ** 2)))


@dataclass(frozen=True)
class Bandwidth:
    """How neighbours are drawn: the ``pool`` most similar rows, weighted with this ``sharpness``."""

    sharpness: float
    pool: int


# Evidence is read at two bandwidths and the launch model weighs them per store:
# on Online Retail's noisy titles a broad average of many neighbours predicts
# better, on the demo store's product lines the few nearest do.
FOCUSED = Bandwidth(8.0, 20)
BROAD = Bandwidth(4.0, 40)


def _neighbours(sims: np.ndarray, log_prices: np.ndarray, log_price: float, width: Bandwidth,
                score: np.ndarray | None = None, keep: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The ``width.pool`` best-scoring rows weighted by similarity and price closeness; the ``keep`` heaviest.

    Returns positions (heaviest first) and their normalised weights. An unknown
    price on either side leaves the weight to similarity alone.
    """
    pool = np.argsort(-(sims if score is None else score))[:width.pool]
    gap = np.nan_to_num(np.abs(log_prices[pool] - log_price), nan=0.0)
    weights = np.exp(width.sharpness * (sims[pool] - sims[pool].max()) - PRICE_WIDTH * gap)
    order = np.argsort(-weights, kind="stable")[:keep]
    return pool[order], weights[order] / weights[order].sum()


# what _evidence feeds the launch model, in order
FEATURES = (
    "near_recent", "nearest_recent", "near_best_similarity", "near_similarity", "analog_log_mean",
    "analog_spread", "analog_best_similarity", "analog_similarity", "log_price", "price_vs_analogs",
    "launch_season", "near_recent_broad", "analog_log_mean_broad",
)
# the ones that also reach the launch model's unit-scale fit directly, unshrunk (see _LaunchModel)
LINKED = [FEATURES.index("near_recent"), FEATURES.index("near_recent_broad")]


def _evidence(ctx: _Context, vec: np.ndarray, price: float, category: str) -> _Evidence:
    """Nearest launches (adjusted) and nearest existing products for one product launched at ``ctx.start``."""
    h = ctx.history
    known = ctx.known
    all_sims = h.vectors @ vec
    log_price = np.log(max(price, 0.01)) if np.isfinite(price) else np.nan
    sims = all_sims[known]
    score = sims + 0.1 * (h.categories[known] == category) if category else sims
    chosen, weights = _neighbours(sims, h.log_prices[known], log_price, FOCUSED, score, keep=K)
    top, top_sims = known[chosen], sims[chosen]
    broad, broad_w = _neighbours(sims, h.log_prices[known], log_price, BROAD, score)
    price_ratio = np.where(np.isfinite(h.prices[top]) & (h.prices[top] > 0), price / h.prices[top], 1.0)
    price_ratio = np.where(np.isfinite(price_ratio) & (price_ratio > 0), price_ratio, 1.0)
    timing = _timing(ctx, top)
    factors = timing * price_ratio ** ctx.elasticity
    adjusted = ctx.units[top] * factors
    # the launch model reads price as features of its own: its analog means are adjusted for timing only
    logs = np.log1p(ctx.units[top] * timing)
    log_mean = float(np.sum(weights * logs))
    spread = float(np.sqrt(np.sum(weights * (logs - log_mean) ** 2)))
    broad_mean = float(np.sum(broad_w * np.log1p(ctx.units[known[broad]] * _timing(ctx, known[broad]))))
    alive = ctx.alive
    near_sims = all_sims[alive]
    near, near_w = _neighbours(near_sims, h.log_prices[alive], log_price, FOCUSED)
    recent = ctx.recent[alive[near]]
    far, far_w = _neighbours(near_sims, h.log_prices[alive], log_price, BROAD)
    analog_prices = np.where(np.isfinite(h.log_prices[top]), h.log_prices[top], log_price)
    values = {
        "near_recent": np.sum(near_w * recent), "nearest_recent": recent[0],
        "near_best_similarity": near_sims[near].max(), "near_similarity": np.sum(near_w * near_sims[near]),
        "analog_log_mean": log_mean, "analog_spread": spread, "analog_best_similarity": top_sims.max(),
        "analog_similarity": top_sims.mean(), "log_price": log_price,
        "price_vs_analogs": log_price - np.sum(weights * analog_prices), "launch_season": ctx.window_index(ctx.start),
        "near_recent_broad": np.sum(far_w * ctx.recent[alive[far]]), "analog_log_mean_broad": broad_mean,
    }
    features = np.array([values[name] for name in FEATURES])
    return _Evidence(top, top_sims, weights, adjusted, factors, features)


def _timing(ctx: _Context, launches: np.ndarray) -> np.ndarray:
    """Each launch's units scaled to the target window: seasonal index ratio times store level ratio."""
    first = ctx.history.panel.first
    target_season, level_now = ctx.window_index(ctx.start), ctx.level(ctx.start)
    return np.array([
        target_season / ctx.window_index(first[j])
        * np.clip(level_now / max(ctx.level(int(first[j])), 1e-9), 0.67, 1.5)
        for j in launches
    ])


class _LaunchModel:
    """First-N units from features, fitted on the launches known at one period, each featurised as of its launch.

    Two stages. A ridge on log units ranks launches well but, back-transformed,
    predicts near the geometric mean and is scored as if a 20-unit miss on a
    small launch weighed as much as a 2,000-unit miss on a big one. So its
    out-of-fold predictions (and the nearest existing products' recent sales at
    both bandwidths, which the ridge shrinks) are mapped to units by
    ``units = exp(b0 + b·z)`` fitted to minimise the absolute unit error, the
    objective of WAPE.
    """

    def __init__(self, history: StoreHistory, start: int, contexts: dict[int, _Context],
                 seen: dict[int, np.ndarray | None]) -> None:
        self.ridge: Ridge | None = None
        self.link: UnitLink | None = None
        self.residual_sd = 0.8
        rows, targets = [], []
        for j in history.launches_before(start):
            if j not in seen:  # a launch's features depend only on its own launch date: compute once
                ctx = history.context(int(history.panel.first[j]), contexts)
                seen[j] = (None if len(ctx.known) < MIN_ANALOGS else
                           _evidence(ctx, history.vectors[j], history.prices[j], history.categories[j]).features)
            f = seen[j]
            if f is not None and np.isfinite(f).all():
                rows.append(f)
                targets.append(contexts[int(history.panel.first[j])].units[j])
        if len(rows) < MIN_TRAIN:
            return
        x, units = np.array(rows), np.array(targets)
        y = np.log1p(units)
        self.ridge = Ridge.fit(x, y)
        out_of_fold = np.empty(len(y))
        for fold in np.array_split(np.random.default_rng(0).permutation(len(y)), 5):
            rest = np.setdiff1d(np.arange(len(y)), fold)
            out_of_fold[fold] = Ridge.fit(x[rest], y[rest]).predict(x[fold])
        self.link = UnitLink.fit(self._link_inputs(out_of_fold, x), units)
        self.residual_sd = float(np.std(y - np.log1p(self.link.predict(self._link_inputs(out_of_fold, x)))))

    @staticmethod
    def _link_inputs(log_prediction: np.ndarray, x: np.ndarray) -> np.ndarray:
        return np.column_stack([log_prediction, x[:, LINKED]])

    def predict(self, features: np.ndarray) -> float | None:
        """log(1 + first-N units), or None when there is no model or a feature is missing."""
        if self.ridge is None or self.link is None or not np.isfinite(features).all():
            return None
        x = features[None, :]
        return float(np.log1p(self.link.predict(self._link_inputs(self.ridge.predict(x), x))[0]))


def forecast_new_products(products: Sequence[NewProduct], history: StoreHistory, embedder: Embedder,
                          min_similarity: float | None = None) -> list[NewProductForecast]:
    """Launch curves for ``products``; one launch model per distinct launch period.

    A product whose best analog is less similar than ``min_similarity`` is off the store's
    range: it gets the category's (else the store's) median launch, and says so.

    The linear algebra here is many small solves, which BLAS threads only slow
    down (25x on a busy two-core machine): it runs single-threaded.
    """
    from threadpoolctl import threadpool_limits

    min_similarity = MIN_SIMILARITY if min_similarity is None else min_similarity
    vectors = np.asarray(embedder.encode([p.title for p in products]), dtype=np.float32) if products else []
    contexts: dict[int, _Context] = {}
    models: dict[int, _LaunchModel] = {}
    seen: dict[int, np.ndarray | None] = {}
    out = []
    with threadpool_limits(limits=1, user_api="blas"):
        for product, vec in zip(products, vectors, strict=True):
            start = launch_index(history.panel, product.launch)
            ctx = history.context(start, contexts)
            periods = _periods(history.panel, start, history.weeks)
            if len(ctx.known) < MIN_ANALOGS:
                out.append(_fallback(product, ctx, periods))
                continue
            if start not in models:
                models[start] = _LaunchModel(history, start, contexts, seen)
            price = float(product.price) if product.price else np.nan
            ev = _evidence(ctx, vec, price, product.category or "")
            best = float(ev.sims.max())
            if best < min_similarity:
                out.append(_fallback(product, ctx, periods, f"off the store's range: its closest past launch "
                                     f"({history.titles[ev.top[int(np.argmax(ev.sims))]]!r}) is only "
                                     f"{best:.2f} similar (below {min_similarity:.2f})"))
                continue
            out.append(_from_analogs(product, ctx, ev, models[start], periods))
    return out


def _from_analogs(product: NewProduct, ctx: _Context, ev: _Evidence, model: _LaunchModel,
                  periods: pd.DatetimeIndex) -> NewProductForecast:
    """Total from the launch model (or the adjusted analog mean), curve shape from the analogs."""
    h = ctx.history
    learnt = model.predict(ev.features)
    mu = learnt if learnt is not None else ev.log_mean
    spread = max(model.residual_sd if learnt is not None else ev.log_spread, 0.35)
    total = float(np.expm1(mu))
    curves = np.array([h.panel.values[j, h.panel.first[j]:h.panel.first[j] + h.weeks] for j in ev.top])
    shape = np.sum(ev.weights[:, None] * curves * ev.factors[:, None], axis=0)
    shape = shape / shape.sum() if shape.sum() > 0 else np.full(h.weeks, 1.0 / h.weeks)
    closeness = float(np.clip(np.sum(ev.weights * ev.sims), 0.0, 1.0))
    analogs = [
        Analog(str(h.panel.ids[j]), h.titles[j], float(ev.sims[n]), h.panel.periods[h.panel.first[j]],
               float(ctx.units[j]), float(ev.adjusted[n]), float(ev.weights[n]), curves[n])
        for n, j in enumerate(ev.top)
    ]
    same = int(np.sum(h.categories[ev.top] == product.category)) if product.category else 0
    note = (f"{len(ev.top)} analogs among {len(ctx.known)} past launches"
            + (f" ({same} in {product.category})" if product.category else "")
            + ("; total from the launch model fitted on past launches" if learnt is not None
               else "; total is the analogs' adjusted mean (too few launches to fit a launch model)"))
    return NewProductForecast(
        product, periods, total * shape, total,
        {lv: float(np.expm1(mu - z * spread)) for lv, z in Z.items()},
        {lv: float(np.expm1(mu + z * spread)) for lv, z in Z.items()},
        analogs, round(closeness / (1.0 + ev.log_spread), 2), "analogs", note,
    )


def launch_index(panel: Panel, when: pd.Timestamp) -> int:
    """Index of the period containing ``when`` (beyond the panel's end: counted on)."""
    freq = bucket_spec(panel.bucket)[0]
    return (pd.Period(when, freq=freq) - pd.Period(panel.periods[0], freq=freq)).n


def _periods(panel: Panel, start: int, count: int) -> pd.DatetimeIndex:
    """Start dates of ``count`` periods from index ``start`` on, past the panel's end if need be."""
    first = pd.Period(panel.periods[0], freq=bucket_spec(panel.bucket)[0])
    return pd.DatetimeIndex([(first + start + k).start_time for k in range(count)])


def _fallback(product: NewProduct, ctx: _Context, periods: pd.DatetimeIndex, why: str = "") -> NewProductForecast:
    """Category median launch if the category has launches, else the store's, else nothing to go on.

    ``why``: the reason analogs are not used (default: too few past launches).
    """
    h = ctx.history
    pool, method = ctx.known[h.categories[ctx.known] == (product.category or "\0")], "category"
    if len(pool) < 3:
        pool, method = ctx.known, "store"
    if len(pool) == 0:
        return NewProductForecast(product, periods, np.zeros(h.weeks), 0.0, dict.fromkeys(Z, 0.0),
                                  dict.fromkeys(Z, 0.0), [], 0.0, "store",
                                  "no past launches with complete first weeks: nothing to learn from yet")
    curves = np.array([h.panel.values[j, h.panel.first[j]:h.panel.first[j] + h.weeks] for j in pool])
    logs = np.log1p(curves.sum(axis=1))
    mu, sigma = float(np.median(logs)), float(max(np.std(logs), 0.35))
    shape = curves.mean(axis=0)
    shape = shape / shape.sum() if shape.sum() > 0 else np.full(h.weeks, 1.0 / h.weeks)
    total = float(np.expm1(mu))
    where = f"the {product.category} category" if method == "category" else "the whole store"
    return NewProductForecast(
        product, periods, total * shape, total,
        {lv: float(np.expm1(mu - z * sigma)) for lv, z in Z.items()},
        {lv: float(np.expm1(mu + z * sigma)) for lv, z in Z.items()},
        [], round(0.3 / (1.0 + sigma), 2), method,
        f"{why or f'only {len(ctx.known)} past launches (fewer than {MIN_ANALOGS})'}: median launch of {where} "
        f"({len(pool)} launches)",
    )
