"""New-product forecasts from analogs, on the demo store's planted launch curves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nextdrop.index.embedder import load_embedder
from nextdrop.store.demo import generate_demo
from nextdrop.tools.backtests.forecast import spearman, wape
from nextdrop.tools.forecasting.newproduct import NewProduct, StoreHistory, forecast_new_products
from nextdrop.tools.forecasting.series import build_panel


@pytest.fixture(scope="module")
def demo_history() -> StoreHistory:
    demo = generate_demo()
    panel = build_panel(demo.sales, "W")
    # the hashing embedder: title words, no model download; MiniLM is measured in bench/new_products.py
    return StoreHistory.build(panel, demo.products, load_embedder("hashing"), weeks=8)


def test_analogs_beat_the_category_median_on_held_out_launches(demo_history: StoreHistory) -> None:
    h = demo_history
    panel = h.panel
    T = panel.values.shape[1]
    targets = np.nonzero((panel.first >= T - 34) & (panel.first + 8 <= T))[0][:120]
    assert len(targets) >= 40
    units = h.launch_units
    products = [NewProduct(h.titles[i], panel.periods[panel.first[i]], category=h.categories[i],
                           price=float(h.prices[i]), id=str(panel.ids[i])) for i in targets]
    results = forecast_new_products(products, h, load_embedder("hashing"))
    predicted = np.array([r.total for r in results])
    category_median = np.array([
        np.median(units[[j for j in h.launches_before(panel.first[i]) if h.categories[j] == h.categories[i]]])
        for i in targets
    ])
    actual = units[targets]
    assert wape(actual, predicted) < 0.9 * wape(actual, category_median)
    assert spearman(actual, predicted) > spearman(actual, category_median) + 0.1
    first = results[0]
    assert first.method == "analogs" and len(first.analogs) == 10
    assert all(a.launch < first.product.launch for a in first.analogs), "only launches known before"
    for a in first.analogs:  # each carries its own first weeks, the curve the chart draws
        assert len(a.curve) == len(first.mean) and a.curve.sum() == pytest.approx(a.units)
    assert first.lower[95] <= first.lower[80] <= first.total <= first.upper[80] <= first.upper[95]
    assert 0.0 <= first.confidence <= 1.0
    assert first.mean.sum() == pytest.approx(first.total)
    covered = np.mean([(r.lower[80] <= a <= r.upper[80]) for r, a in zip(results, actual, strict=True)])
    assert covered > 0.6


def _keep(h: StoreHistory, mask: np.ndarray) -> StoreHistory:
    """The same store with only the series in ``mask``."""
    return StoreHistory(h.panel.subset(mask), [t for t, k in zip(h.titles, mask, strict=True) if k],
                        h.categories[mask], h.prices[mask], h.vectors[mask], h.weeks, h.censor)


def test_a_launch_after_the_data_ends_learns_only_from_complete_launches(demo_history: StoreHistory) -> None:
    h = demo_history
    T = h.panel.values.shape[1]
    recent = np.nonzero((h.panel.first >= h.censor) & (h.panel.first > T - h.weeks) & (h.panel.first < T))[0]
    assert len(recent) > 0, "the demo store has launches whose first weeks are not over yet"
    later = T + 6  # e.g. a candidate's earliest date a few weeks after the last sale
    assert all(h.panel.first[j] + h.weeks <= T for j in h.launches_before(later))
    twin = recent[0]  # a candidate titled like a launch still in its first weeks
    product = NewProduct(h.titles[twin], h.panel.future_periods(6)[-1], category=h.categories[twin])
    result = forecast_new_products([product], h, load_embedder("hashing"))[0]
    assert len(result.mean) == h.weeks and np.isfinite(result.mean).all()
    assert str(h.panel.ids[twin]) not in {a.id for a in result.analogs}


def test_too_few_launches_falls_back_to_category_then_store(demo_history: StoreHistory) -> None:
    h = demo_history
    launches = h.launches_before(h.panel.values.shape[1])
    cat = h.categories[launches[0]]
    four = launches[h.categories[launches] == cat][:4]
    mask = h.panel.first < h.censor
    mask[four] = True
    small = _keep(h, mask)
    late = small.panel.periods[-1]
    embedder = load_embedder("hashing")
    by_cat, by_store, nothing = forecast_new_products(
        [NewProduct("Linen Apron", late, category=cat), NewProduct("Linen Apron", late, category="Nope"),
         NewProduct("Linen Apron", small.panel.periods[h.censor])], small, embedder)
    assert by_cat.method == "category" and cat in by_cat.note and by_cat.total > 0
    assert by_store.method == "store" and "whole store" in by_store.note
    assert nothing.total == 0 and "nothing to learn from" in nothing.note
    expected = np.median(np.log1p(small.launch_units[small.launches_before(len(small.panel.periods))]))
    assert np.log1p(by_cat.total) == pytest.approx(expected)


def test_products_selling_when_the_data_starts_are_not_launches(demo_history: StoreHistory) -> None:
    h = demo_history
    launches = h.launches_before(h.panel.values.shape[1])
    assert (h.panel.first[launches] >= h.censor).all()
    assert (h.panel.first == 0).sum() > 100, "the demo has many products already selling on day one"
    assert isinstance(h.panel.periods, pd.DatetimeIndex)


def test_candidate_and_new_product_backtest_commands(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from typer.testing import CliRunner

    from nextdrop.cli import app
    from nextdrop.index.catalog import catalog_texts, open_embedder
    from nextdrop.store.demo import create_demo_workspace

    monkeypatch.setenv("NEXTDROP_INDEX_MODEL", "hashing")
    ws, _ = create_demo_workspace(tmp_path / "demo", n_products=300)
    runner = CliRunner()
    open_embedder(ws).path.unlink(missing_ok=True)  # as if the catalog had never been indexed
    chart = tmp_path / "launch.png"
    shown = runner.invoke(app, ["forecast", "--candidate", "C100", "--chart", str(chart), "-w", str(ws.root)],
                          catch_exceptions=False, env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "Analogs (past launches)" in shown.output and "confidence" in shown.output
    assert chart.stat().st_size > 5000
    with ws.read() as con:
        title = con.execute("SELECT title FROM candidates WHERE candidate_id = 'C100'").fetchone()[0]
    remembered = open_embedder(ws)
    remembered.encode([*catalog_texts(ws)[1], title])
    assert remembered.misses == 0, "the titles embedded for the forecast were saved"
    unknown = str(runner.invoke(app, ["forecast", "--candidate", "C99", "-w", str(ws.root)]).exception)
    assert unknown.startswith("no candidate 'C99'; the candidates are C100, C101,") and "(60 in all)" in unknown
    result = runner.invoke(app, ["backtest", "new-products", "--since", "2026-03-01", "--json", "-w", str(ws.root)],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert set(report["methods"]) == {"nextdrop", "global_median", "plain_10nn"}
    assert report["n"] > 10
    assert report["methods"]["nextdrop"]["wape"] < report["methods"]["global_median"]["wape"]
    undated = runner.invoke(app, ["backtest", "new-products", "--since", "March", "-w", str(ws.root)],
                            env={"COLUMNS": "200"})
    assert undated.exit_code == 2 and "'March' does not match the formats '%Y-%m-%d'" in undated.output
