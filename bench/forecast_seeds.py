"""The global model over seeds and origins: is a change to it better than seed noise?

One fit decides nothing: the seed alone moves pooled WAPE by about 0.003, as much as most
changes tried on the model (BENCHMARKS.md). This bench fits the global model alone (no
per-series choice) with seeds 0 to N-1 at the two origins the settings were chosen on and at
issue 4's target origin, and prints the mean WAPE and MASE per origin with the standard error
of the mean, next to the 8-week moving average in the same run. Sessions 8 to 10 measured the
same way with scripts in /tmp; for the shipped model this bench gives session 10's figures.

    nice -n 10 .venv/bin/python -m bench.forecast_seeds [--seeds 5] [--n 500]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from bench.forecast_data import online_retail_sales
from bench.forecast_online_retail import TRAIN_END, H, top_panels
from nextdrop.tools.backtests.forecast import mase, mase_scale, wape
from nextdrop.tools.forecasting.global_model import GlobalBoost
from nextdrop.tools.forecasting.models import WindowAverage
from nextdrop.tools.forecasting.series import Panel

ORIGINS = (pd.Timestamp("2011-06-19 23:59:59"), pd.Timestamp("2011-08-14 23:59:59"), TRAIN_END)
OUT = Path(__file__).resolve().parent / "out" / "forecast_seeds.json"


def origin_scores(panel: Panel, actual: np.ndarray, seeds: int) -> dict:
    """WAPE and MASE of MA8 and of the global model at each seed, from one origin."""
    scale = mase_scale(panel)
    ma8 = WindowAverage(8).predict(panel, H)
    runs = [GlobalBoost(h=H, seed=seed).fit(panel).predict(panel, H) for seed in range(seeds)]
    return {
        "ma8": {"wape": wape(actual, ma8), "mase": mase(actual, ma8, scale)},
        "global_gbm": {"wape": [wape(actual, f) for f in runs], "mase": [mase(actual, f, scale) for f in runs]},
    }


def mean_and_error(values: list[float]) -> str:
    """``mean ± standard error of the mean`` (no error with one value)."""
    mean = float(np.mean(values))
    if len(values) < 2:
        return f"{mean:.4f}"
    return f"{mean:.4f} ± {np.std(values, ddof=1) / np.sqrt(len(values)):.4f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--n", type=int, default=500)
    args = parser.parse_args()
    sales = online_retail_sales()
    report = {}
    print(f"{'origin':12s} {'MA8 WAPE / MASE':>18s} {'global model WAPE':>20s} {'global model MASE':>20s}")
    for origin in ORIGINS:
        scores = origin_scores(*top_panels(sales, args.n, origin), args.seeds)
        ma8, model = scores["ma8"], scores["global_gbm"]
        print(f"{origin.date()!s:12s} {ma8['wape']:8.4f} / {ma8['mase']:.4f} "
              f"{mean_and_error(model['wape']):>20s} {mean_and_error(model['mase']):>20s}", flush=True)
        report[str(origin.date())] = scores
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"seeds": args.seeds, "n": args.n, "origins": report}, indent=2))


if __name__ == "__main__":
    main()
