"""Launch plans on Online Retail: do the planner's top picks sell? (issue 21's measure)

At each cutoff the candidates are the products first sold in the 8 weeks after
it (title and first price known, cost unknown: ranked by expected revenue); only
sales before the cutoff are read. Per cutoff and on average: realised
first-8-week revenue of the top 10 against a random 10 (mean of 10,000 draws),
the naive pick (most similar to the current best sellers) and the hindsight-best
10; Spearman between score and realised revenue; precision@10 of the top decile.
Lines the store's ingestion sets aside as non-products (gift vouchers, ...) are left out, as in a workspace.

    HF_HUB_OFFLINE=1 nice -n 10 .venv/bin/python -m bench.launch_backtest

``--reference`` also ranks by the new-product forecast alone (predicted units ×
price, the issue's reference) in the same run.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from bench.forecast_data import online_retail_sales
from bench.new_products import catalog
from nextdrop.index.cache import CachedEmbedder
from nextdrop.index.embedder import load_embedder
from nextdrop.store.nonproduct import non_product_reason
from nextdrop.tools.backtests.launches import backtest_launches

CUTOFFS = ("2011-03-01", "2011-05-01", "2011-07-01", "2011-09-01")
OUT = Path(__file__).resolve().parent / "out"


def run(sales: pd.DataFrame, titles: pd.DataFrame, embedder: CachedEmbedder, label: str,
        seasonal: bool = True) -> list[dict]:
    rows = []
    for cutoff in CUTOFFS:
        r = backtest_launches(sales, titles, pd.Timestamp(cutoff), embedder, seasonal=seasonal)
        rows.append(r)
        ratio = r["top_revenue"] / r["random_revenue"]
        print(f"{label:10s} {cutoff}  n={r['n_candidates']:3d}  top/random {ratio:.2f}x"
              f"  naive/random {r['naive_revenue'] / r['random_revenue']:.2f}x"
              f"  oracle/random {r['oracle_revenue'] / r['random_revenue']:.2f}x  spearman {r['spearman']:.3f}"
              f"  p@10 {r['precision_at_10']:.2f}  ({r['seconds']} s)", flush=True)
    ratios = [r["top_revenue"] / r["random_revenue"] for r in rows]
    naive = [r["naive_revenue"] / r["random_revenue"] for r in rows]
    print(f"{label:10s} average top/random {np.mean(ratios):.2f}x (min {min(ratios):.2f}x), naive/random "
          f"{np.mean(naive):.2f}x, spearman {np.mean([r['spearman'] for r in rows]):.3f}, "
          f"p@10 {np.mean([r['precision_at_10'] for r in rows]):.2f}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", action="store_true", help="also rank by the forecast alone (units × price)")
    args = parser.parse_args()
    sales = online_retail_sales()
    sales = sales[non_product_reason(sales["product_id"], sales["description"]).isna()]  # as ingestion does
    titles = catalog(sales)
    embedder = CachedEmbedder(load_embedder("all-MiniLM-L6-v2"), OUT / "minilm_cache.npz")
    results = {"planner": run(sales, titles, embedder, "planner")}
    if args.reference:
        results["forecast"] = run(sales, titles, embedder, "forecast", seasonal=False)
    embedder.save()
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "launch_backtest.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
