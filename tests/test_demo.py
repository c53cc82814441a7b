"""The synthetic demo store: deterministic, realistic enough, and with usable ground truth."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from nextdrop.store.demo import END, START, DemoStore, create_demo_workspace, generate_demo


@pytest.fixture(scope="module")
def demo() -> DemoStore:
    return generate_demo(seed=3, n_products=400, n_candidates=24)


def test_same_seed_same_store() -> None:
    a, b = generate_demo(seed=5, n_products=150), generate_demo(seed=5, n_products=150)
    pd.testing.assert_frame_equal(a.products, b.products)
    pd.testing.assert_frame_equal(a.sales, b.sales)
    assert not a.products.equals(generate_demo(seed=6, n_products=150).products)


def test_catalog_shape(demo: DemoStore) -> None:
    products = demo.products
    assert products["product_id"].is_unique
    assert products["category"].nunique() == 12
    assert products["title"].str.len().between(8, 90).all()
    assert (products["cost"] < products["price"]).all()
    launched = pd.to_datetime(products["launch_date"])
    assert (launched < pd.Timestamp(START)).mean() > 0.2  # some were selling before the data starts
    assert (launched > pd.Timestamp(START)).mean() > 0.5  # most launch during it


def test_sales_have_seasonality_and_launch_curves(demo: DemoStore) -> None:
    sales = demo.sales[demo.sales["quantity"] > 0].assign(date=lambda d: pd.to_datetime(d["date"]))
    assert sales["date"].min() >= pd.Timestamp(START) and sales["date"].max() <= pd.Timestamp(END)
    monthly = sales.groupby(sales["date"].dt.month)["quantity"].sum()
    assert monthly[11] > 1.3 * monthly[2]  # the Christmas run-up
    weekday = sales.groupby(sales["date"].dt.weekday)["quantity"].sum()
    assert weekday[5] > weekday[0]  # Saturdays beat Mondays
    launch = pd.to_datetime(demo.products.set_index("product_id")["launch_date"])
    first = sales.groupby("product_id")["date"].min()
    late = launch[launch > pd.Timestamp(START)].index.intersection(first.index)
    assert ((first[late] - launch[late]).dt.days >= 0).all()  # nothing sells before its launch
    assert (demo.sales["quantity"] < 0).sum() > 0  # and some come back


def test_demand_follows_what_the_title_says(demo: DemoStore) -> None:
    """Products of the same type sell alike: the signal analog forecasts rely on."""
    rate = demo.weekly_rate[demo.products["product_id"]].to_numpy()
    noun = demo.products["title"].str.split().str[-1]
    frame = pd.DataFrame({"noun": noun.to_numpy(), "rate": rate})
    within = frame.groupby("noun")["rate"].transform("mean")
    explained = 1 - ((frame["rate"] - within) ** 2).sum() / ((frame["rate"] - frame["rate"].mean()) ** 2).sum()
    assert explained > 0.3


def test_planted_duplicates_are_labelled(demo: DemoStore) -> None:
    truth = demo.truth_pairs
    assert set(truth["kind"]) == {"exact", "near_duplicate", "variant"}
    titles = pd.concat([demo.products.set_index("product_id")["title"],
                        demo.candidates.set_index("candidate_id")["title"]])
    exact = truth[truth["kind"] == "exact"]
    assert (titles[exact["a"]].to_numpy() == titles[exact["b"]].to_numpy()).all()
    near = truth[truth["kind"] == "near_duplicate"]
    assert (titles[near["a"]].to_numpy() != titles[near["b"]].to_numpy()).all()
    candidate_pairs = truth[truth["a"].str.startswith("C")]
    assert len(candidate_pairs) >= 4 and candidate_pairs["b"].isin(demo.products["product_id"]).all()


def test_demo_workspace_ingests_cleanly(tmp_path: Path) -> None:
    ws, reports = create_demo_workspace(tmp_path / "demo", seed=2, n_products=120)
    assert [r.kind for r in reports] == ["products", "sales", "candidates", "events"]
    assert all(r.balanced and r.quarantined_total == 0 for r in reports)
    with ws.read() as con:
        n_products = con.execute("SELECT count(*) FROM products WHERE NOT derived").fetchall()[0][0]
        n_derived = con.execute("SELECT count(*) FROM products WHERE derived").fetchall()[0][0]
    assert n_products == reports[0].accepted and n_derived == 0
    assert (tmp_path / "demo" / "demo-data" / "truth_pairs.csv").exists()
