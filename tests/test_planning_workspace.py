"""Planning over a real workspace (the demo store, DuckDB, FAISS, the real duplicate check; hashing embedder)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from nextdrop.cli import app
from nextdrop.store.demo import END, create_demo_workspace, generate_demo
from nextdrop.store.ingest import ingest_file
from nextdrop.store.workspace import Workspace

runner = CliRunner()
N_PRODUCTS = 300
START = pd.Timestamp(END) + pd.Timedelta(days=1)  # the Monday after the demo's sales end


@pytest.fixture(autouse=True)
def _hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEXTDROP_INDEX_MODEL", "hashing")


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("demo") / "shop"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NEXTDROP_INDEX_MODEL", "hashing")
        create_demo_workspace(folder, n_products=N_PRODUCTS)
    yield folder


def _plan(folder: Path, *extra: str) -> dict:
    result = runner.invoke(app, ["plan", "--week", f"{START:%Y-%m-%d}", "--weeks", "4", "--format", "json",
                                 "-w", str(folder), *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_plan_json_is_the_stable_shape_and_never_plans_a_catalog_duplicate(demo_dir: Path) -> None:
    plan = _plan(demo_dir)
    assert {"start", "weeks", "launches", "excluded", "solver"} <= set(plan)
    assert plan["start"] == f"{START:%Y-%m-%d}" and plan["weeks"] == 4
    assert plan["solver"].startswith("exact")
    launches = plan["launches"]
    assert launches and {"candidate_id", "title", "week", "day", "order_qty", "expected_units", "expected_revenue",
                         "expected_profit", "score"} <= set(launches[0])
    truth = generate_demo(n_products=N_PRODUCTS).truth_pairs
    exact = set(truth.loc[truth["kind"] == "exact", "a"]) & {c for c in truth["a"] if c.startswith("C")}
    assert exact, "the demo plants exact duplicates among the candidates"
    planned = {x["candidate_id"] for x in launches}
    reasons = {x["candidate_id"]: x["reason"] for x in plan["excluded"]}
    assert not exact & planned
    assert all(reasons[c].startswith("duplicate of SKU") for c in exact)
    per_week = pd.Series([x["week"] for x in launches]).value_counts()
    assert per_week.max() <= plan["constraints"]["max_per_week"]
    assert len(planned) + len(reasons) == len(generate_demo(n_products=N_PRODUCTS).candidates)


def test_budget_and_per_week_limits_hold_and_an_impossible_budget_says_what_to_relax(demo_dir: Path) -> None:
    plan = _plan(demo_dir, "--max-per-week", "1", "--budget", "400")
    assert pd.Series([x["week"] for x in plan["launches"]]).value_counts().max() == 1
    result = runner.invoke(app, ["plan", "--week", f"{START:%Y-%m-%d}", "--budget", "0.01", "-w", str(demo_dir)])
    assert result.exit_code != 0
    assert "relax --budget" in str(result.exception)


def test_html_plan_has_a_calendar_and_a_chart_per_pick(demo_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "plan.html"
    result = runner.invoke(app, ["plan", "--week", f"{START:%Y-%m-%d}", "--format", "html", "-o", str(out),
                                 "-w", str(demo_dir)])
    assert result.exit_code == 0, result.output
    html = out.read_text()
    plan = _plan(demo_dir)
    assert "<h2>Calendar</h2>" in html and "<h2>Left out</h2>" in html
    assert html.count('<svg class="chart"') == len(plan["launches"])
    assert "http" not in html.split("<body>")[0]  # self-contained: no external style or script


def test_the_plan_and_dedup_pages_extend_one_base_template(demo_dir: Path, tmp_path: Path) -> None:
    """Both HTML reports carry base.html's stylesheet, once, and draw their charts with its SVG macros."""
    base = (resources.files("nextdrop.render") / "templates" / "base.html").read_text(encoding="utf-8")
    style = base[base.index("<style>") : base.index("</style>")]
    assert "nextdrop report style" in style
    for name, command in (("plan", ["plan", "--week", f"{START:%Y-%m-%d}", "--format", "html", "-o"]),
                          ("dedup", ["dedup", "--report"])):
        out = tmp_path / f"{name}.html"
        result = runner.invoke(app, [*command, str(out), "-w", str(demo_dir)])
        assert result.exit_code == 0, result.output
        page = out.read_text(encoding="utf-8")
        assert page.count("<style>") == 1 and style in page, name
        assert '<svg class="chart"' in page, name


def test_explain_parts_add_up_to_the_score(demo_dir: Path) -> None:
    from nextdrop.index.catalog import open_embedder
    from nextdrop.tools.planning.workspace import explain_candidate

    ws = Workspace(demo_dir)
    scored, _ = explain_candidate(ws, open_embedder(ws), "C100", START)
    for week in scored.weeks:
        assert sum(c.value for c in week.components) == pytest.approx(week.score)
    result = runner.invoke(app, ["explain", "C100", "--week", f"{START:%Y-%m-%d}", "-w", str(demo_dir)])
    assert result.exit_code == 0, result.output
    assert "cannibalisation" in result.output and "Analogs" in result.output


def test_cadence_and_backtest_launches_run_on_the_workspace(demo_dir: Path) -> None:
    result = runner.invoke(app, ["cadence", "-w", str(demo_dir)])
    assert result.exit_code == 0, result.output
    assert "Planner defaults" in result.output
    result = runner.invoke(app, ["backtest", "launches", "--cutoff", "2026-03-02", "--json", "-w", str(demo_dir)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert {"top_revenue", "random_revenue", "naive_revenue", "oracle_revenue", "spearman", "precision_at_10",
            "n_candidates"} <= set(report)
    assert report["oracle_revenue"] >= report["top_revenue"] and report["oracle_revenue"] >= report["random_revenue"]


def test_review_recovers_a_planted_under_performer(demo_dir: Path, tmp_path: Path) -> None:
    """Two planned launches sell: one as forecast, one a tenth of it; the review flags the second."""
    plan = _plan(demo_dir)
    good, bad = plan["launches"][0], plan["launches"][1]
    stored = sorted((demo_dir / ".nextdrop" / "plans").glob("plan-*.json"))[-1]
    curves = {x["candidate_id"]: x["curve"] for x in json.loads(stored.read_text())["launches"]}
    rows = []
    for launch, share in ((good, 1.0), (bad, 0.1)):
        week = pd.Timestamp(launch["week"])
        for k, units in enumerate(curves[launch["candidate_id"]][:4]):
            rows.append({"date": f"{week + pd.Timedelta(weeks=k, days=2):%Y-%m-%d}",
                         "product_id": launch["candidate_id"], "title": launch["title"],
                         "quantity": max(round(units * share), 1), "price": 10.0})
    sales = tmp_path / "launch_sales.csv"
    pd.DataFrame(rows).to_csv(sales, index=False)
    ingest_file(Workspace(demo_dir), "sales", sales)
    result = runner.invoke(app, ["review", "--since", f"{START:%Y-%m-%d}", "-w", str(demo_dir)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    lines = {line.split("│")[2].split()[0]: line for line in result.output.splitlines() if line.count("│") > 4}
    assert "below" in lines[bad["candidate_id"]]
    assert "on track" in lines[good["candidate_id"]]
    assert (demo_dir / ".nextdrop" / "calibration.json").exists()


def test_no_candidates_says_how_to_add_them(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "shop")
    sales = tmp_path / "s.csv"
    pd.DataFrame({"date": ["2024-01-01", "2024-01-08"], "sku": ["A", "A"], "qty": [1, 2], "title": ["Mug", "Mug"],
                  "price": [3.0, 3.0]}).to_csv(sales, index=False)
    ingest_file(ws, "sales", sales)
    result = runner.invoke(app, ["plan", "-w", str(ws.root)])
    assert result.exit_code != 0
    assert "nextdrop ingest candidates" in str(result.exception)
