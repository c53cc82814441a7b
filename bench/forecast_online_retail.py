"""Forecast accuracy and speed on Online Retail, next to the references, all in one run.

Setup (issue 4): the 500 products with the most units up to the train end whose
history starts before 2010-06-01; weekly; train ends 2011-10-09; the next 8
weeks are held out. Prints a table and writes bench/out/forecast_online_retail.json.
``--train-end`` moves the origin (the settings were chosen on 2011-06-19 and
2011-08-14, not on the target origin). Timing: nextdrop against AutoETS, best of
three runs each, wall and CPU seconds (the machine may be shared).

    nice -n 10 .venv/bin/python -m bench.forecast_online_retail [--speed 5000 [--copies 20]] [--train-end 2011-08-14]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from bench.forecast_data import online_retail_sales
from nextdrop.tools.backtests.report import evaluate_forecasts, reference_models
from nextdrop.tools.forecasting.forecast import forecast_panel
from nextdrop.tools.forecasting.global_model import GlobalBoost
from nextdrop.tools.forecasting.holidays import holiday_calendar
from nextdrop.tools.forecasting.intermittent import Croston
from nextdrop.tools.forecasting.models import auto_ets, croston
from nextdrop.tools.forecasting.series import Panel, build_panel

TRAIN_END = pd.Timestamp("2011-10-09 23:59:59")
H = 8
OUT = Path(__file__).resolve().parent / "out" / "forecast_online_retail.json"


def top_panels(sales: pd.DataFrame, n: int, train_end: pd.Timestamp = TRAIN_END) -> tuple:
    """Train panel (to ``train_end``) and held-out actuals for the top-n products started before 2010-06-01."""
    first = sales.groupby("product_id")["date"].min()
    train_lines = sales[sales["date"] <= train_end]
    units = train_lines.groupby("product_id")["quantity"].sum()
    eligible = units[units.index.isin(first[first < "2010-06-01"].index)]
    ids = eligible.sort_values(ascending=False).index[:n].tolist()
    panel = build_panel(train_lines[train_lines["product_id"].isin(ids)], "W", end=train_end, ids=ids)
    full = build_panel(sales[sales["product_id"].isin(ids)], "W", ids=ids)
    start = full.periods.get_loc(panel.periods[-1]) + 1
    return panel, full.values[:, start:start + H]


def best_of(runs: int, job: Callable[[], object]) -> dict:
    """Fastest wall and CPU seconds of ``runs`` repetitions (noise on a shared machine only adds)."""
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        job()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return {"wall": round(min(walls), 2), "cpu": round(min(cpus), 2)}


def accuracy(n: int, train_end: pd.Timestamp) -> dict:
    """nextdrop (with per-series model choice), the global model alone and the references."""
    panel, actual = top_panels(online_retail_sales(), n, train_end)
    events = holiday_calendar("GB", panel.periods[0], panel.future_periods(H)[-1])  # as `nextdrop` does
    report = evaluate_forecasts(panel, actual, [*reference_models(), GlobalBoost(h=H)], events=events)
    for name, m in report["methods"].items():
        print(f"{name:16s} WAPE {m['wape']:.3f}  MASE {m['mase']:.3f}  {m['seconds']:6.1f} s", flush=True)
    print(f"model wins {report['wins']}; interval coverage {report['coverage']}")
    report["timing"] = {
        "nextdrop": best_of(3, lambda: forecast_panel(panel, H, events=events)),
        "auto_ets": best_of(3, lambda: auto_ets().fit(panel).predict(panel, H)),
    }
    print("best of 3 (wall / CPU s):", ", ".join(f"{k} {v['wall']} / {v['cpu']}" for k, v in report["timing"].items()))
    return report


def tiled(panel: Panel, copies: int, seed: int = 0) -> Panel:
    """``copies`` copies of every series, each copy's units scaled by its own factor (0.5-1.5, rounded)."""
    if copies == 1:
        return panel
    rng = np.random.default_rng(seed)
    factors = rng.uniform(0.5, 1.5, (copies * len(panel), 1))

    def repeat(a: np.ndarray) -> np.ndarray:
        return np.concatenate([a] * copies)

    ids = np.array([f"{i}_{c}" for c in range(copies) for i in panel.ids])
    return Panel(ids, panel.periods, np.round(repeat(panel.values) * factors), repeat(panel.first), panel.bucket,
                 repeat(panel.lines), repeat(panel.squares))


def speed(n: int, copies: int = 1) -> dict:
    """Forecasts with model selection for the n best-selling products (any start date), ``copies`` times over.

    Beside it, the same run times statsforecast's Croston, the per-series reference, against
    nextdrop's all-series Croston on the same panel.
    """
    sales = online_retail_sales()
    ids = sales.groupby("product_id")["quantity"].sum().sort_values(ascending=False).index[:n].tolist()
    panel = tiled(build_panel(sales[sales["product_id"].isin(ids)], "W", ids=ids), copies)
    result = forecast_panel(panel, H)
    print(f"speed: {len(panel)} products, {panel.values.shape[1]} weeks, model selection over "
          f"{len(result.model_mae)} models x 2 windows: {result.seconds:.1f} s")
    crostons = {"statsforecast": best_of(1, lambda: croston().predict(panel, H))["wall"],
                "nextdrop": best_of(1, lambda: Croston().predict(panel, H))["wall"]}
    print(f"Croston on the same panel: statsforecast {crostons['statsforecast']} s, nextdrop {crostons['nextdrop']} s")
    return {"products": len(panel), "seconds": round(result.seconds, 1), "wins": result.wins, "croston": crostons}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--speed", type=int, default=0, help="also time this many products")
    parser.add_argument("--copies", type=int, default=1, help="with --speed: each product this many times")
    parser.add_argument("--train-end", type=pd.Timestamp, default=TRAIN_END)
    args = parser.parse_args()
    report = accuracy(args.n, args.train_end.replace(hour=23, minute=59, second=59))
    if args.speed:
        report["speed"] = speed(args.speed, args.copies)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
