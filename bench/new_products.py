"""New-product forecasts on Online Retail: first-8-week units predicted before the first sale.

Targets: products first sold on or after 2011-03-01 with 8 complete weeks after
their first sale, each predicted from what was known before its first sale,
next to the global median of earlier launches and a plain similarity-weighted
mean of the 10 nearest earlier products (no censoring, no adjustments), in the
same run. Titles (the most common description) are embedded with MiniLM, the
index's default model; price is the product's median unit price.

    HF_HUB_OFFLINE=1 nice -n 10 .venv/bin/python -m bench.new_products
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from bench.forecast_data import online_retail_sales
from nextdrop.index.embedder import load_embedder
from nextdrop.tools.backtest_report import evaluate_new_products
from nextdrop.tools.newproduct import StoreHistory
from nextdrop.tools.series import build_panel

SINCE = pd.Timestamp("2011-03-01")
WEEKS = 8
OUT = Path(__file__).resolve().parent / "out" / "new_products.json"


def catalog(sales: pd.DataFrame) -> pd.DataFrame:
    """One row per product: its most common description and median unit price."""
    titles = sales.dropna(subset=["description"]).groupby("product_id")["description"].agg(
        lambda s: s.value_counts().index[0])
    prices = sales.groupby("product_id")["unit_price"].median()
    return pd.DataFrame({"product_id": titles.index, "title": titles.to_numpy(),
                         "price": prices.reindex(titles.index).to_numpy()})


def main() -> None:
    sales = online_retail_sales()
    panel = build_panel(sales, "W")
    embedder = load_embedder("all-MiniLM-L6-v2")
    history = StoreHistory.build(panel, catalog(sales), embedder, WEEKS)
    report = evaluate_new_products(history, int(panel.periods.searchsorted(SINCE)), embedder)
    for name, m in report["methods"].items():
        print(f"{name:14s} WAPE {m['wape']:.3f}  Spearman {m['spearman']:.3f}")
    print(f"{report['n']} new products, {report['how']}, {report['seconds']} s")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
