"""Speed of scoring and planning: 500 candidates over 8 weeks, and ``nextdrop plan`` on the demo store.

Part 1 scores 500 demo candidates (forecasts made first, timed apart) in 8 launch weeks and solves the plan
exactly (MILP) and greedily, with a per-week limit, ranges and a stock budget that bind. Part 2 times the
whole ``nextdrop plan`` command on a demo workspace, cold (first run) and warm (cached forecasts).

    HF_HUB_OFFLINE=1 nice -n 10 .venv/bin/python -m bench.plan_speed [--demo DIR]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from nextdrop.index.embedder import load_embedder
from nextdrop.store.demo import END, generate_demo
from nextdrop.tools.forecasting.newproduct import NewProduct, StoreHistory, forecast_new_products
from nextdrop.tools.forecasting.series import build_panel
from nextdrop.tools.planning.plan import PlanRequest, build_plan, plan_problem
from nextdrop.tools.planning.score import Candidate, score_candidate
from nextdrop.tools.planning.solve import greedy, solve

N, WEEKS = 500, 8


def scoring_and_planning() -> None:
    demo = generate_demo(n_candidates=N)
    embedder = load_embedder("hashing")
    history = StoreHistory.build(build_panel(demo.sales, "W"), demo.products, embedder, 8)
    base = history.panel.future_periods(1)[0]
    rows = demo.candidates.head(N)
    candidates = [Candidate(r.candidate_id, r.title, float(r.price), category=r.category) for r in rows.itertuples()]
    t0 = time.perf_counter()
    forecasts = forecast_new_products([NewProduct(c.title, base, c.category, c.price, c.id) for c in candidates],
                                      history, embedder)
    t_forecast = time.perf_counter() - t0
    start = pd.Timestamp(END) + pd.Timedelta(days=1)
    weeks = [start + pd.Timedelta(weeks=w) for w in range(WEEKS)]
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    season = {w: (float(r), "bench") for w, r in zip(weeks, rng.uniform(0.7, 1.3, WEEKS), strict=True)}
    scores = [score_candidate(c, f, season) for c, f in zip(candidates, forecasts, strict=True)]
    t_score = time.perf_counter() - t0
    ranges = [set(rng.choice([c.id for c in candidates], 4, replace=False)) for _ in range(40)]
    ranges = [r for k, r in enumerate(ranges) if not any(r & other for other in ranges[:k])]
    stock = sum(s.best.order_qty * s.cost for s in scores)
    request = PlanRequest(start, WEEKS, budget=stock / 4)
    t0 = time.perf_counter()
    plan = build_plan(scores, request, per_week=12, per_range=1, ranges=ranges)
    t_plan = time.perf_counter() - t0
    print(f"{N} candidates x {WEEKS} weeks: forecasts {t_forecast:.2f} s (hashing embedder, not part of the target); "
          f"scoring {t_score:.2f} s; planning {t_plan:.2f} s ({plan.solver}); scoring + planning "
          f"{t_score + t_plan:.2f} s; {len(plan.launches)} launches")
    problem = plan_problem(scores, request, per_week=12, per_range=1, ranges=ranges).problem
    t0 = time.perf_counter()
    quick = greedy(problem)
    t_greedy = time.perf_counter() - t0
    exact = solve(problem)
    print(f"objective: exact {exact.value:,.0f} vs greedy {quick.value:,.0f} "
          f"({(exact.value / quick.value - 1):+.2%}); greedy took {t_greedy:.3f} s")


def plan_command(folder: Path) -> None:
    exe = Path(sys.executable).with_name("nextdrop")
    cache = folder / ".nextdrop" / "cache" / "candidate_forecasts.pkl"
    cache.unlink(missing_ok=True)
    for label in ("cold (no cached forecasts)", "warm", "warm"):
        t0 = time.perf_counter()
        subprocess.run([str(exe), "plan", "--format", "json", "-o", "/dev/null", "-w", str(folder)], check=True,
                       capture_output=True)
        print(f"nextdrop plan on {folder}: {label} {time.perf_counter() - t0:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", type=Path, help="a demo workspace (nextdrop demo DIR) to time `nextdrop plan` on")
    args = parser.parse_args()
    scoring_and_planning()
    if args.demo:
        plan_command(args.demo)


if __name__ == "__main__":
    main()
