"""New-product forecasts on Online Retail: first-8-week units predicted before the first sale.

Targets: products first sold on or after 2011-03-01 with 8 complete weeks after
their first sale, each predicted from what was known before its first sale,
next to the global median of earlier launches and a plain similarity-weighted
mean of the 10 nearest earlier products (no censoring, no adjustments), in the
same run. Titles (the most common description) are embedded with MiniLM, the
index's default model; price is the product's median unit price.

    HF_HUB_OFFLINE=1 nice -n 10 .venv/bin/python -m bench.new_products

Settings were chosen on a time split that never sees the evaluation period:
the data cut at 2011-03-01, targets first sold from 2010-08-23 (by then 150
launches were complete to learn from):

    HF_HUB_OFFLINE=1 nice -n 10 .venv/bin/python -m bench.new_products --until 2011-03-01 --since 2010-08-23
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from bench.forecast_data import online_retail_sales
from nextdrop.index.embedder import load_embedder
from nextdrop.tools.backtest_report import evaluate_new_products
from nextdrop.tools.newproduct import StoreHistory
from nextdrop.tools.series import build_panel

WEEKS = 8
OUT = Path(__file__).resolve().parent / "out"


def catalog(sales: pd.DataFrame) -> pd.DataFrame:
    """One row per product: its most common description and median unit price."""
    titles = sales.dropna(subset=["description"]).groupby("product_id")["description"].agg(
        lambda s: s.value_counts().index[0])
    prices = sales.groupby("product_id")["unit_price"].median()
    return pd.DataFrame({"product_id": titles.index, "title": titles.to_numpy(),
                         "price": prices.reindex(titles.index).to_numpy()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--since", default="2011-03-01", help="targets: products first sold from this date")
    parser.add_argument("--until", default=None, help="cut all sales at this date (a time split for tuning)")
    args = parser.parse_args()
    sales = online_retail_sales()
    if args.until:
        sales = sales[sales["date"] < pd.Timestamp(args.until)]
    panel = build_panel(sales, "W")
    embedder = load_embedder("all-MiniLM-L6-v2")
    history = StoreHistory.build(panel, catalog(sales), embedder, WEEKS)
    report = evaluate_new_products(history, int(panel.periods.searchsorted(pd.Timestamp(args.since))), embedder)
    for name, m in report["methods"].items():
        print(f"{name:14s} WAPE {m['wape']:.3f}  Spearman {m['spearman']:.3f}")
    print(f"{report['n']} new products, {report['how']}, {report['seconds']} s")
    OUT.mkdir(parents=True, exist_ok=True)
    name = "new_products.json" if args.until is None else f"new_products_until_{args.until}.json"
    (OUT / name).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
