"""Backtests over a workspace: what ``nextdrop backtest forecast``, ``new-products`` and ``launches`` run.

The public entries the CLI and the agent call: ``backtest_forecast``, ``backtest_new_products``
and ``backtest_workspace_launches``. Each reads the workspace's own sales (through
``forecasting.workspace``) and returns the stable JSON shape its ``--json`` prints.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nextdrop.errors import InputError
from nextdrop.store.workspace import Workspace
from nextdrop.tools.backtests.launches import backtest_launches
from nextdrop.tools.backtests.report import evaluate_forecasts, evaluate_new_products
from nextdrop.tools.forecasting.newproduct import Embedder
from nextdrop.tools.forecasting.workspace import forecast_horizon, read_events, read_panel, store_history


def backtest_forecast(ws: Workspace, weeks: int, top: int | None = None) -> dict:
    """Hold out the last ``weeks`` periods; nextdrop against the references on the top products."""
    panel = read_panel(ws)
    T = panel.values.shape[1]
    if weeks + 2 >= T:
        raise InputError(f"only {T} periods of sales: need more than {weeks + 2} to hold out {weeks}; "
                         f"try --weeks {max(T // 3, 1)}")
    train = panel.head(T - weeks)
    alive = train.first < T - weeks
    order = np.argsort(-train.values.sum(axis=1))
    keep = np.zeros(len(panel), dtype=bool)
    keep[[i for i in order if alive[i]][: top or len(panel)]] = True
    actual = panel.values[keep, T - weeks:]
    events = read_events(ws, panel.periods[0], panel.periods[-1] + pd.Timedelta(days=6))
    return evaluate_forecasts(train.subset(keep), actual, events=events, horizon=forecast_horizon(ws, weeks),
                              backtest_h=ws.settings.forecast.backtest_weeks)


def backtest_new_products(ws: Workspace, since: pd.Timestamp, weeks: int, embedder: Embedder) -> dict:
    """Products first sold from ``since`` on, each forecast from what was known before its first sale."""
    history = store_history(ws, embedder, weeks)
    since_period = int(history.panel.periods.searchsorted(pd.Timestamp(since)))
    report = evaluate_new_products(history, since_period, embedder)
    if report["n"] == 0:
        raise InputError(f"no product first sold on or after {since.date()} with {weeks} complete periods; "
                         "pick an earlier --since")
    return report


def backtest_workspace_launches(ws: Workspace, embedder: Embedder, cutoff: pd.Timestamp, weeks: int = 8,
                                top: int = 10) -> dict:
    """``backtest_launches`` on the workspace's own sales and catalog."""
    with ws.read() as con:
        sales = con.execute("""SELECT date, product_id, quantity, unit_price FROM sales
                               WHERE NOT is_return AND quantity > 0""").df()
        titles = con.execute("SELECT product_id, title, category FROM products").df()
    if sales.empty:
        raise InputError("the workspace has no sales yet; run `nextdrop ingest sales FILE` first")
    sales["date"] = pd.to_datetime(sales["date"])
    report = backtest_launches(sales, titles, cutoff, embedder, weeks, top)
    return {**report, "weeks": weeks}
