"""Does the plan pick winners? Rank the products a store in fact launched after a past date, from before it.

At ``cutoff`` the candidates are the products first sold in the ``weeks`` weeks
after it, with their title and first price (median on their first day); only
sales before the cutoff are read. Each is scored as the planner scores it
(new-product forecast blended with its seasonal analogs, at its real launch
week) and ranked by expected revenue (cost is unknown). The realised revenue
of its first ``weeks`` weeks is set against a random pick (mean of many
draws), a naive pick (most similar to the current best sellers) and the
hindsight-best pick.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from nextdrop.errors import InputError
from nextdrop.tools.backtests.forecast import spearman
from nextdrop.tools.forecasting.newproduct import Embedder, NewProduct, StoreHistory, forecast_new_products
from nextdrop.tools.forecasting.series import build_panel
from nextdrop.tools.planning.score import Candidate, score_candidate
from nextdrop.tools.planning.seasonal import SeasonalAnalogs, week_fits

BEST_SELLERS = 50  # the naive pick compares with this many best sellers of the last 8 weeks
DRAWS = 10_000


def launched_after(sales: pd.DataFrame, cutoff: pd.Timestamp, weeks: int) -> pd.DataFrame:
    """Products first sold in the ``weeks`` weeks from ``cutoff``: first sale, first price, realised revenue."""
    first = sales.groupby("product_id")["date"].min()
    new = first[(first >= cutoff) & (first < cutoff + pd.Timedelta(weeks=weeks))]
    lines = sales[sales["product_id"].isin(new.index)]
    start = lines["product_id"].map(new)
    lines = lines[lines["date"] < start + pd.Timedelta(weeks=weeks)]
    first_day = lines[lines["date"].dt.normalize() == lines["product_id"].map(new).dt.normalize()]
    return pd.DataFrame({
        "first_sale": new,
        "price": first_day.groupby("product_id")["unit_price"].median().reindex(new.index),
        "realised": (lines["quantity"] * lines["unit_price"]).groupby(lines["product_id"]).sum().reindex(new.index),
    }).fillna({"realised": 0.0})


def backtest_launches(sales: pd.DataFrame, titles: pd.DataFrame, cutoff: pd.Timestamp, embedder: Embedder,
                      weeks: int = 8, top: int = 10, seed: int = 0, seasonal: bool = True) -> dict:
    """The stable shape of ``nextdrop backtest launches --json``.

    ``sales`` has ``date, product_id, quantity, unit_price`` (sales only, no returns); ``titles`` has
    ``product_id, title`` and optionally ``category``. ``seasonal=False`` ranks by the new-product
    forecast alone (the reference the seasonal analogs are measured against).
    """
    started = time.perf_counter()
    sales = sales.assign(product_id=sales["product_id"].astype(str))
    before = sales[sales["date"] < cutoff]
    if before.empty:
        raise InputError(f"no sales before {cutoff:%Y-%m-%d}: pick a later --cutoff")
    targets = launched_after(sales, cutoff, weeks).dropna(subset=["price"])
    targets = targets[targets["price"] > 0]
    if len(targets) <= top:
        raise InputError(f"only {len(targets)} products were first sold in the {weeks} weeks from "
                         f"{cutoff:%Y-%m-%d}: need more than --top {top}; pick another --cutoff or more --weeks")
    info = titles.assign(product_id=titles["product_id"].astype(str)).drop_duplicates("product_id")
    info = info.set_index("product_id")
    prices = before.groupby("product_id")["unit_price"].median()
    known = info.reindex(prices.index).assign(price=prices).reset_index()
    history = StoreHistory.build(build_panel(before, "W"), known, embedder, weeks)
    base = history.panel.future_periods(1)[0]
    candidates = [Candidate(pid, str(info["title"].get(pid, pid)), float(row.price),
                            category=_category(info, pid)) for pid, row in targets.iterrows()]
    forecasts = forecast_new_products([NewProduct(c.title, base, c.category, c.price, c.id) for c in candidates],
                                      history, embedder)
    analogs = SeasonalAnalogs.from_sales(history.panel, before, history.vectors)
    vectors = np.asarray(embedder.encode([c.title for c in candidates]), dtype=np.float32)
    scores = []
    for c, f, vec, launch in zip(candidates, forecasts, vectors, targets["first_sale"], strict=True):
        week = launch.to_period("W").start_time
        fits = (week_fits(analogs, vec, f.total, c.price, [week], weeks, {week: 1.0}) if seasonal
                else {week: (1.0, "forecast alone")})
        scores.append(score_candidate(c, f, fits).at(week).expected_revenue)
    score = np.array(scores)
    realised = targets["realised"].to_numpy(dtype=float)
    naive = _naive(before, history, vectors, cutoff)
    rng = np.random.default_rng(seed)
    draws = np.array([realised[rng.choice(len(realised), top, replace=False)].sum() for _ in range(DRAWS)])
    picked = np.argsort(-score, kind="stable")[:top]
    decile = realised >= np.quantile(realised, 0.9)
    return {
        "cutoff": f"{cutoff:%Y-%m-%d}",
        "top_revenue": round(float(realised[picked].sum()), 2),
        "random_revenue": round(float(draws.mean()), 2),
        "naive_revenue": round(float(realised[np.argsort(-naive, kind="stable")[:top]].sum()), 2),
        "oracle_revenue": round(float(np.sort(realised)[::-1][:top].sum()), 2),
        "spearman": round(float(spearman(realised, score)), 3),
        "precision_at_10": round(float(decile[picked[:10]].mean()), 3),
        "n_candidates": len(candidates),
        "picks": [{"product_id": candidates[i].id, "title": candidates[i].title, "score": round(float(score[i]), 2),
                   "realised_revenue": round(float(realised[i]), 2)} for i in picked],
        "seconds": round(time.perf_counter() - started, 1),
    }


def _category(info: pd.DataFrame, pid: str) -> str | None:
    if "category" not in info or pid not in info.index:
        return None
    value = info.at[pid, "category"]
    return str(value) if isinstance(value, str) and value else None


def _naive(before: pd.DataFrame, history: StoreHistory, vectors: np.ndarray, cutoff: pd.Timestamp) -> np.ndarray:
    """The naive pick's score: similarity to the nearest of the best sellers of the 8 weeks before the cutoff."""
    recent = before[before["date"] >= cutoff - pd.Timedelta(weeks=8)]
    revenue = (recent["quantity"] * recent["unit_price"]).groupby(recent["product_id"]).sum()
    best = revenue.nlargest(BEST_SELLERS).index
    rows = np.nonzero(np.isin(history.panel.ids, best))[0]
    if len(rows) == 0:
        return np.zeros(len(vectors))
    return (vectors @ history.vectors[rows].T).max(axis=1)
