"""Forecasts a merchant can trust (issue 20): closed weeks, duplicate and off-range candidates, JSON, prices."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rich.console import Console
from typer.testing import CliRunner

from nextdrop.cli import app
from nextdrop.index.catalog import open_embedder
from nextdrop.render.forecast import series_view
from nextdrop.store.ingest import ingest_file
from nextdrop.store.workspace import Workspace
from nextdrop.tools.forecasting.forecast import forecast_panel, worse_than_naive
from nextdrop.tools.forecasting.holidays import closed_days, closed_periods
from nextdrop.tools.forecasting.models import WindowAverage
from nextdrop.tools.forecasting.series import Panel
from nextdrop.tools.forecasting.workspace import (
    SeriesView,
    forecast_candidate,
    forecast_candidates,
    forecast_category,
    forecast_product,
    read_daily,
)

runner = CliRunner()


def _closed_over_new_year(day: pd.Timestamp) -> bool:
    return (day.month == 12 and day.day >= 24) or (day.month == 1 and day.day <= 5)


@pytest.fixture
def seasonal_shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """Three years of daily sales of 12 gift products, six launched in 2023; shut 24 Dec - 5 Jan every year."""
    monkeypatch.setenv("NEXTDROP_INDEX_MODEL", "hashing")
    rng = np.random.default_rng(3)
    days = pd.date_range("2022-01-03", "2024-12-15", freq="D")
    rows = []
    for p in range(12):
        start = days[0] if p < 6 else pd.Timestamp("2023-03-06") + pd.Timedelta(weeks=5 * (p - 6))
        for day in days[(days >= start)]:
            if _closed_over_new_year(day):
                continue
            qty = rng.poisson(4 + p % 3)
            if qty:
                rows.append((f"{day:%Y-%m-%d} 11:00", f"G{p}", qty, 3.5, f"Gift candle {p}"))
    sales = tmp_path / "sales.csv"
    pd.DataFrame(rows, columns=["InvoiceDate", "StockCode", "Quantity", "Price", "Description"]).to_csv(
        sales, index=False)
    products = tmp_path / "products.csv"
    pd.DataFrame({"product_id": [f"G{p}" for p in range(12)], "title": [f"Gift candle {p}" for p in range(12)],
                  "category": "Candles"}).to_csv(products, index=False)
    candidates = tmp_path / "candidates.csv"
    pd.DataFrame({"candidate_id": ["N1", "N2", "N3"],
                  "title": ["Gift candle 11", "Glass lantern for a gift candle, set of two",
                            "Bluetooth waterproof speaker with bass"],
                  "category": ["Candles", "Candles", "Electronics"], "price": [4.95, 3.5, 39.0]}).to_csv(
        candidates, index=False)
    ws = Workspace.init(tmp_path / "shop")
    for kind, path in (("sales", sales), ("products", products), ("candidates", candidates)):
        ingest_file(ws, kind, path)
    return ws


def test_closed_calendar_days_are_learnt_from_the_store_history(seasonal_shop: Workspace) -> None:
    closed = closed_days(read_daily(seasonal_shop))
    assert {(12, 24), (12, 31), (1, 1), (1, 5)} <= closed
    assert (12, 23) not in closed and (1, 6) not in closed and (7, 14) not in closed
    weeks = pd.date_range("2024-12-16", periods=4, freq="W-MON")
    assert closed_periods(weeks, "W", closed).tolist() == [False, False, True, False]


def test_closed_weeks_forecast_zero_for_products_categories_and_candidates(seasonal_shop: Workspace) -> None:
    product = forecast_product(seasonal_shop, "G0", 4).forecast
    category = forecast_category(seasonal_shop, "Candles", 4).forecast
    for f in (product, category):
        assert [f"{p:%Y-%m-%d}" for p in f.periods] == ["2024-12-16", "2024-12-23", "2024-12-30", "2025-01-06"]
        assert f.mean[2] == 0 and f.upper[95][2] == 0, f.id
        assert f.mean[[0, 1, 3]].min() > 0
        assert "so 2024-12-30 forecast 0" in f.note
    launch = forecast_candidate(seasonal_shop, "N2", 8, open_embedder(seasonal_shop))
    assert launch.periods[2] == pd.Timestamp("2024-12-30") and launch.mean[2] == 0
    assert launch.total == pytest.approx(launch.mean.sum()) and "forecast 0" in launch.note


def test_a_duplicate_candidate_is_forecast_from_the_product_it_copies(seasonal_shop: Workspace) -> None:
    launch = forecast_candidate(seasonal_shop, "N1", 4, open_embedder(seasonal_shop))
    assert launch.method == "duplicate"
    assert launch.note.startswith("an exact duplicate of product G11 (Gift candle 11)")
    own = forecast_product(seasonal_shop, "G11", 4).forecast
    assert np.allclose(launch.mean, own.mean), "the product's own forecast, over the same weeks"
    assert launch.analogs, "the analogs stay beside it"
    several = forecast_candidates(seasonal_shop, ["N3", "N1"], 4, open_embedder(seasonal_shop))
    assert [r.method for r in several] == ["store", "duplicate"] and np.allclose(several[1].mean, launch.mean)


def test_an_off_range_candidate_falls_back_and_says_so(seasonal_shop: Workspace) -> None:
    launch = forecast_candidate(seasonal_shop, "N3", 8, open_embedder(seasonal_shop))
    assert launch.method == "store" and not launch.analogs
    assert "off the store's range: its closest past launch" in launch.note
    near = forecast_candidate(seasonal_shop, "N2", 8, open_embedder(seasonal_shop))
    assert near.method == "analogs"


def test_forecast_json_shape_and_prices_as_given(seasonal_shop: Workspace) -> None:
    root = str(seasonal_shop.root)
    keys = {"id", "periods", "forecast", "lower_80", "upper_80", "lower_95", "upper_95", "model", "mase", "notes"}
    for args in (["G0"], ["--category", "candles"], ["--candidate", "N2"]):
        out = runner.invoke(app, ["forecast", *args, "--weeks", "4", "--json", "-w", root], catch_exceptions=False)
        assert out.exit_code == 0, out.output
        shape = json.loads(out.output)
        assert keys <= set(shape), args
        assert len(shape["periods"]) == len(shape["forecast"]) == len(shape["upper_95"])
        assert shape["periods"][0] == "2024-12-16" and isinstance(shape["notes"], list)
    shown = runner.invoke(app, ["forecast", "--candidate", "N1", "-w", root], env={"COLUMNS": "200"})
    assert "price 4.95)" in shown.output and "exact duplicate of product G11" in shown.output


def test_a_model_worse_than_naive_says_so_beside_its_numbers() -> None:
    """A steady climb: an 8-week average lags it by far more than last week carried forward."""
    climbing = np.arange(1, 61, dtype=float)[None, :] * 10
    panel = Panel(np.array(["up"]), pd.date_range("2024-01-01", periods=60, freq="W-MON"), climbing, np.array([0]))
    f = forecast_panel(panel, 4, models=[WindowAverage(8)])["up"]
    assert f.backtest_mase > 1 and f.note == worse_than_naive(f.backtest_mase)
    assert f"MASE {f.backtest_mase:.2f} > 1" in f.note
    console = Console(record=True, width=200)
    series_view(console, SeriesView(f, pd.Series(climbing[0], index=panel.periods), "Product up"))
    assert "worse than a naive forecast" in console.export_text()


def test_a_launch_in_the_period_under_way_sells_only_in_its_rest(seasonal_shop: Workspace, tmp_path: Path) -> None:
    whole = forecast_candidate(seasonal_shop, "N2", 8, open_embedder(seasonal_shop))
    later = tmp_path / "monday.csv"
    pd.DataFrame({"InvoiceDate": ["2024-12-16 10:00"], "StockCode": ["G0"], "Quantity": [3], "Price": [3.5],
                  "Description": ["Gift candle 0"]}).to_csv(later, index=False)
    ingest_file(seasonal_shop, "sales", later)
    begun = forecast_candidate(seasonal_shop, "N2", 8, open_embedder(seasonal_shop))
    assert begun.periods.equals(whole.periods) and np.array_equal(begun.mean[1:], whole.mean[1:])
    assert 0.8 * whole.mean[0] < begun.mean[0] < 0.9 * whole.mean[0], "six of seven selling days are to come"
    assert "launching in the period under way (2024-12-16)" in begun.note


def test_search_builds_the_index_when_missing(seasonal_shop: Workspace) -> None:
    out = runner.invoke(app, ["search", "gift candle", "-w", str(seasonal_shop.root)], catch_exceptions=False,
                        env={"COLUMNS": "200"})
    assert out.exit_code == 0, out.output
    assert "G1" in out.output
