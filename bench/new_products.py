"""New-product forecasts on Online Retail: first-8-week units predicted before the first sale.

Targets: products first sold on or after 2011-03-01 with 8 complete weeks after
their first sale. Each is predicted from what was known before its first sale.
Compared in the same run with the global median of earlier launches and a plain
similarity-weighted mean of the 10 nearest earlier products (no censoring, no
adjustments). Titles are embedded with MiniLM (the index's default model).

    nice -n 10 .venv/bin/python -m bench.new_products
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench.forecast_data import online_retail_sales
from nextdrop.index.embedder import load_embedder
from nextdrop.tools.backtest import spearman, wape
from nextdrop.tools.newproduct import NewProduct, StoreHistory, forecast_new_products
from nextdrop.tools.series import build_panel

SINCE = pd.Timestamp("2011-03-01")
WEEKS = 8
OUT = Path(__file__).resolve().parent / "out" / "new_products.json"


class MemoEmbedder:
    """Embeds each distinct text once (the bench asks for the same titles many times)."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.memo: dict[str, np.ndarray] = {}

    def encode(self, texts: list[str]) -> np.ndarray:
        todo = [t for t in dict.fromkeys(texts) if t not in self.memo]
        if todo:
            for text, row in zip(todo, self.inner.encode(todo), strict=True):
                self.memo[text] = row
        return np.array([self.memo[t] for t in texts], dtype=np.float32)


def catalog(sales: pd.DataFrame) -> pd.DataFrame:
    """One row per product: its most common description and median unit price."""
    titles = sales.dropna(subset=["description"]).groupby("product_id")["description"].agg(
        lambda s: s.value_counts().index[0])
    prices = sales.groupby("product_id")["unit_price"].median()
    return pd.DataFrame({"product_id": titles.index, "title": titles.to_numpy(),
                         "price": prices.reindex(titles.index).to_numpy()})


def main() -> None:
    sales = online_retail_sales()
    start = time.perf_counter()
    panel = build_panel(sales, "W")
    cat = catalog(sales)
    embedder = MemoEmbedder(load_embedder("all-MiniLM-L6-v2"))
    history = StoreHistory.build(panel, cat, embedder, WEEKS)
    T = panel.values.shape[1]
    since = panel.periods.searchsorted(SINCE)
    targets = np.nonzero((panel.first >= since) & (panel.first + WEEKS <= T))[0]
    units = history.launch_units
    actual = units[targets]
    products = [NewProduct(history.titles[i], panel.periods[panel.first[i]], price=float(history.prices[i]),
                           id=str(panel.ids[i])) for i in targets]
    results = forecast_new_products(products, history, embedder)
    preds: dict[str, list[float]] = {"nextdrop": [r.total for r in results], "global_median": [],
                                     "plain_10nn": []}
    methods_used = pd.Series([r.method for r in results]).value_counts().to_dict()
    for i in targets:
        launch = panel.first[i]
        preds["global_median"].append(float(np.median(units[history.launches_before(launch)])))
        # plain analogs: any earlier product with complete first weeks, no censoring, no adjustment
        earlier = np.nonzero(panel.first + WEEKS <= launch)[0]
        sims = history.vectors[earlier] @ history.vectors[i]
        top = np.argsort(-sims)[:10]
        weights = np.maximum(sims[top], 1e-6)
        preds["plain_10nn"].append(float(np.sum(weights * units[earlier][top]) / weights.sum()))
    seconds = time.perf_counter() - start
    methods = {name: {"wape": round(wape(actual, np.array(p)), 3), "mase": None,
                      "spearman": round(spearman(actual, np.array(p)), 3)} for name, p in preds.items()}
    for name, m in methods.items():
        print(f"{name:14s} WAPE {m['wape']:.3f}  Spearman {m['spearman']:.3f}")
    print(f"{len(targets)} new products ({panel.periods[panel.first[targets].min()].date()} to "
          f"{panel.periods[panel.first[targets].max()].date()}), "
          f"methods {methods_used}, {seconds:.1f} s")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"methods": methods, "n": len(targets), "seconds": round(seconds, 1)}, indent=2))


if __name__ == "__main__":
    main()
