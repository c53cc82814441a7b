"""Forecasts of a real workspace: DuckDB store, cache, the forecast and backtest commands."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from nextdrop.cli import app
from nextdrop.errors import InputError
from nextdrop.store.cache import read_cached
from nextdrop.store.ingest import ingest_file
from nextdrop.store.workspace import Workspace
from nextdrop.tools.backtests.workspace import backtest_forecast
from nextdrop.tools.forecasting.series import build_panel
from nextdrop.tools.forecasting.workspace import (
    _fingerprint,
    forecast_candidate,
    forecast_category,
    forecast_product,
    read_panel,
    store_forecasts,
)

runner = CliRunner()


def _sales_csv(path: Path, weeks: int, seed: int = 0) -> Path:
    """Daily lines for 6 products over ``weeks`` weeks, one of them intermittent, one young."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2024-01-01", periods=weeks * 7, freq="D")
    rows = []
    for p, rate in enumerate([12, 8, 5, 3, 0.3, 6]):
        for day in days:
            if p == 5 and day < days[-21]:
                continue  # launched three weeks before the end
            qty = rng.poisson(rate)
            if qty:
                rows.append((day.strftime("%Y-%m-%d 10:00"), f"SKU{p}", qty, 2.5 + p, f"Item {p}"))
    frame = pd.DataFrame(rows, columns=["InvoiceDate", "StockCode", "Quantity", "Price", "Description"])
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    ws = Workspace.init(tmp_path / "shop")
    ingest_file(ws, "sales", _sales_csv(tmp_path / "sales.csv", 40))
    return ws


def test_duckdb_panel_equals_the_one_built_from_every_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Summing inside DuckDB gives the panel pandas builds line by line: returns, week edges, a partial week."""
    rows = [
        ("2024-01-07 23:30", "A", 5), ("2024-01-08 00:10", "A", 4), ("2024-01-09 09:00", "A", 3),
        ("2024-01-10 12:00", "A", -10),  # more returned than sold that week: zero units, two orders
        ("2024-01-16 08:00", "A", 6), ("2024-01-17 08:00", "B", -2),  # B: only a return
        ("2024-01-22 08:00", "B", 7), ("2024-02-05 08:00", "A", 1),
        ("2024-02-14 10:00", "C", 9),  # C first sells in the last, partial week
    ]
    csv = tmp_path / "lines.csv"
    pd.DataFrame(rows, columns=["InvoiceDate", "StockCode", "Quantity"]).assign(Price=1.0, Description="x").to_csv(
        csv, index=False)
    ws = Workspace.init(tmp_path / "edges")
    ingest_file(ws, "sales", csv)
    with ws.read() as con:
        lines = con.execute("SELECT date, product_id, quantity FROM sales").df()
    for bucket in ("W", "D", "M"):
        monkeypatch.setenv("NEXTDROP_FORECAST_BUCKET", bucket)
        fast, slow = read_panel(ws), build_panel(lines, bucket)
        assert fast.ids.tolist() == slow.ids.tolist() and fast.periods.equals(slow.periods), bucket
        for name in ("values", "first", "lines", "squares"):
            assert np.array_equal(getattr(fast, name), getattr(slow, name)), (bucket, name)
    monkeypatch.setenv("NEXTDROP_FORECAST_BUCKET", "W")
    weekly = read_panel(ws)
    assert weekly.ids.tolist() == ["A", "B"], "C sold only in the partial last week"
    assert weekly.first.tolist() == [0, 2], "a product starts with its first line, a return included"
    with pytest.raises(InputError, match="not one complete forecast period"):
        build_panel(lines[lines["date"] >= "2024-02-14"], "W")  # only the partial last week
    a = weekly.ids.tolist().index("A")
    assert weekly.values[a, :3].tolist() == [5.0, 0.0, 6.0] and weekly.lines[a, :3].tolist() == [1.0, 2.0, 1.0]


def test_forecasts_are_cached_until_sales_change(workspace: Workspace, tmp_path: Path) -> None:
    first, _ = store_forecasts(workspace, 4)
    cache = workspace.dir / "cache" / "forecasts.pkl"
    stamp = cache.stat().st_mtime_ns
    again, _ = store_forecasts(workspace, 4)
    assert cache.stat().st_mtime_ns == stamp, "unchanged sales: read from the cache"
    assert np.allclose(again.means(), first.means())
    more = _sales_csv(tmp_path / "more.csv", 44, seed=1)
    ingest_file(workspace, "sales", more)
    store_forecasts(workspace, 4)
    assert cache.stat().st_mtime_ns != stamp, "new sales: recomputed"


def test_a_cache_written_by_another_version_is_recomputed(workspace: Workspace) -> None:
    """A cache pickled before a module moved (here: one that no longer exists) must not break the command."""
    first, _ = store_forecasts(workspace, 4)
    cache = workspace.dir / "cache" / "forecasts.pkl"
    cache.write_bytes(b"cnextdrop.tools.newproduct\nNewProductForecast\n.")  # protocol 0: a moved class
    again, _ = store_forecasts(workspace, 4)
    assert np.allclose(again.means(), first.means())
    assert read_cached(cache, _fingerprint(workspace, 4)) is not None, "rewritten in this version's layout"


def test_product_forecast_carries_model_interval_and_history(workspace: Workspace) -> None:
    view = forecast_product(workspace, "SKU0", 4)
    assert view.title == "Product SKU0: Item 0"
    f = view.forecast
    assert len(f.mean) == 4 and f.model
    assert (f.lower[80] <= f.mean).all() and (f.mean <= f.upper[95]).all()
    assert view.history.iloc[-4:].mean() == pytest.approx(84, rel=0.4)  # 12 a day
    assert f.mean.mean() == pytest.approx(84, rel=0.4)
    young = forecast_product(workspace, "SKU5", 4)
    assert "too young" in young.forecast.note


def _sell_after(ws: Workspace, tmp_path: Path, start: pd.Timestamp, sales: list[tuple[int, str, int]]) -> None:
    """Ingest (days after ``start``, product, units) lines."""
    rows = [(f"{start + pd.Timedelta(days=d):%Y-%m-%d} 09:00", sku, qty, 2.5, "Item") for d, sku, qty in sales]
    path = tmp_path / "later.csv"
    pd.DataFrame(rows, columns=["InvoiceDate", "StockCode", "Quantity", "Price", "Description"]).to_csv(path,
                                                                                                      index=False)
    ingest_file(ws, "sales", path)


def test_sales_of_the_period_under_way_are_named_not_counted(workspace: Workspace, tmp_path: Path) -> None:
    complete = forecast_product(workspace, "SKU0", 4)
    assert complete.incomplete == ""
    monday = complete.forecast.periods[0]
    _sell_after(workspace, tmp_path, monday, [(0, "SKU0", 7), (2, "SKU0", 7)])
    view = forecast_product(workspace, "SKU0", 4)
    assert view.history.equals(complete.history) and view.forecast.periods[0] == monday
    wednesday = monday + pd.Timedelta(days=2)
    assert view.incomplete == (f"the period from {monday:%Y-%m-%d} is not over: its 14 units so far (to "
                               f"{wednesday:%Y-%m-%d}) are left out of the history; its forecast is those plus "
                               "the forecast of the 57% of a usual period's sales still to come.")
    assert forecast_product(workspace, "SKU1", 4).incomplete == ""  # another product's sales


def test_what_the_period_under_way_has_sold_is_a_floor(workspace: Workspace, tmp_path: Path) -> None:
    """A planted partial week selling far above the usual week: its forecast is what it sold plus the rest."""
    before = forecast_product(workspace, "SKU0", 4).forecast
    monday = before.periods[0]
    _sell_after(workspace, tmp_path, monday, [(0, "SKU0", 250), (2, "SKU0", 250)])
    for view in (forecast_product(workspace, "SKU0", 4), forecast_product(workspace, "SKU0", 2)):
        f = view.forecast
        # the week runs Monday to Sunday and the store sells every day: about 4 of its 7 days are to come
        assert 500 + 0.5 * before.mean[0] < f.mean[0] < 500 + 0.62 * before.mean[0]
        assert f.lower[95][0] >= 500 and f.upper[80][0] > f.mean[0]
        assert np.allclose(f.mean[1:], before.mean[1:len(f.mean)]), "the later weeks are not touched"
        assert "its 500 units so far" in view.incomplete and "its forecast is those plus" in view.incomplete


def test_category_forecast_is_its_products_summed(workspace: Workspace, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no product with sales has a category; ingest a products file"):
        forecast_category(workspace, "Mugs", 4)  # products derived from sales have none
    products = tmp_path / "products.csv"
    pd.DataFrame({"product_id": [f"SKU{p}" for p in range(6)], "title": [f"Item {p}" for p in range(6)],
                  "category": ["Mugs", "Mugs", "Lamps", "Lamps", "Lamps", "Mugs"]}).to_csv(products, index=False)
    ingest_file(workspace, "products", products)
    view = forecast_category(workspace, "Mugs", 4)
    assert view.title == "Category Mugs (3 products with sales)" and view.incomplete == ""
    members = [forecast_product(workspace, f"SKU{p}", 4).history for p in (0, 1, 5)]
    assert view.history.equals(pd.concat(members, axis=1).fillna(0).sum(axis=1).loc[view.history.index])
    assert view.forecast.mean.mean() == pytest.approx(view.history.iloc[-4:].mean(), rel=0.3)
    assert forecast_category(workspace, "mugs", 4).title == view.title
    _sell_after(workspace, tmp_path, view.forecast.periods[0], [(1, "SKU1", 5), (1, "SKU5", 900)])
    under_way = forecast_category(workspace, "mugs", 4)
    assert "its 905 units so far" in under_way.incomplete
    assert under_way.forecast.mean[0] > 905 > view.forecast.mean[0], "what sold is a floor for the category too"
    assert forecast_category(workspace, "Lamps", 4).incomplete == ""
    with pytest.raises(InputError, match=r"no category 'Mug'.*categories: Lamps, Mugs"):
        forecast_category(workspace, "Mug", 4)


def test_a_product_without_sales_is_an_error_that_says_what_to_do(workspace: Workspace) -> None:
    with pytest.raises(InputError, match=r"has no sales in this workspace.*--candidate"):
        forecast_product(workspace, "NEVER-SOLD", 4)
    with pytest.raises(InputError, match=r"no candidate 'C1': the workspace has none; run `nextdrop ingest candidates"):
        forecast_candidate(workspace, "C1", 4, embedder=None)  # fails before any embedding


def test_backtest_json_is_the_stable_shape(workspace: Workspace) -> None:
    result = runner.invoke(app, ["backtest", "forecast", "--weeks", "4", "--json", "-w", str(workspace.root)],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert {"methods", "n", "seconds"} <= set(report)
    assert {"nextdrop", "seasonal_naive", "ma8", "auto_ets"} <= set(report["methods"])
    for scores in report["methods"].values():
        assert {"wape", "mase", "spearman"} <= set(scores)
    assert report["n"] == 5  # the product launched inside the held-out weeks is not scored
    direct = backtest_forecast(workspace, 4, top=2)
    assert direct["n"] == 2


def test_forecast_command_renders_and_charts(workspace: Workspace, tmp_path: Path) -> None:
    chart = tmp_path / "f.png"
    result = runner.invoke(app, ["forecast", "SKU1", "--weeks", "3", "--chart", str(chart), "-w",
                                 str(workspace.root)], catch_exceptions=False, env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    assert "80% interval" in result.output and "chosen by rolling-origin backtest" in result.output
    assert chart.stat().st_size > 5000
    young = runner.invoke(app, ["forecast", "SKU5", "--weeks", "3", "-w", str(workspace.root)],
                          catch_exceptions=False, env={"COLUMNS": "160"})
    assert "the default: too little history to backtest" in young.output
    assert "chosen by" not in young.output and "too young to backtest 8 periods ahead" in young.output
    missing = runner.invoke(app, ["forecast", "NOPE", "-w", str(workspace.root)])
    assert missing.exit_code != 0
    text = tmp_path / "f.txt"
    unknown = runner.invoke(app, ["forecast", "SKU1", "--chart", str(text), "-w", str(workspace.root)])
    assert isinstance(unknown.exception, InputError) and ".png, .svg, .pdf" in str(unknown.exception)
    assert "80% interval" not in unknown.output and not text.exists()  # refused before forecasting


@pytest.mark.slow
def test_online_retail_backtest_beats_the_references(tmp_path: Path) -> None:
    from conftest import shared_file

    data = shared_file("online_retail", "online_retail_combined_2009-12_to_2011-12.csv.gz")
    ws = Workspace.init(tmp_path / "retail")
    ingest_file(ws, "sales", data)
    report = backtest_forecast(ws, 8, top=300)
    methods = report["methods"]
    assert methods["nextdrop"]["wape"] < methods["ma8"]["wape"] < methods["seasonal_naive"]["wape"]
    assert methods["nextdrop"]["mase"] < methods["auto_ets"]["mase"]


def test_the_weeks_asked_for_do_not_change_the_weeks_shared(workspace: Workspace, tmp_path: Path) -> None:
    """One series at several horizons: the same model and numbers on every week two answers share."""
    products = tmp_path / "products.csv"
    pd.DataFrame({"product_id": [f"SKU{p}" for p in range(6)], "title": [f"Item {p}" for p in range(6)],
                  "category": ["Mugs", "Mugs", "Lamps", "Lamps", "Lamps", "Mugs"]}).to_csv(products, index=False)
    ingest_file(workspace, "products", products)
    for answer in (lambda w: forecast_product(workspace, "SKU0", w), lambda w: forecast_category(workspace, "Mugs", w)):
        longest = answer(12).forecast
        for weeks in (2, 4, 6, 8):
            f = answer(weeks).forecast
            assert f.model == longest.model and f.backtest_mase == longest.backtest_mase
            assert np.array_equal(f.mean, longest.mean[:weeks]), weeks
            assert np.array_equal(f.upper[95], longest.upper[95][:weeks]), weeks
    with pytest.raises(InputError, match=r"--weeks 27 is beyond the longest forecast, forecast.max_weeks = 26"):
        forecast_product(workspace, "SKU0", 27)
