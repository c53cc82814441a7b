"""New-product forecasts on Online Retail: first-8-week units predicted before the first sale.

Targets: products first sold on or after 2011-03-01 with 8 complete weeks after
their first sale, each predicted from what was known before its first sale,
next to the global median of earlier launches and a plain similarity-weighted
mean of the 10 nearest earlier products (no censoring, no adjustments), in the
same run. Titles (the most common description) are embedded with MiniLM, the
index's default model; price is the product's median unit price.

    HF_HUB_OFFLINE=1 nice -n 10 .venv/bin/python -m bench.new_products

Settings were chosen on a time split that never sees the evaluation period:
the data cut at 2011-03-01, targets first sold from 2010-08-23 (by then 150
launches were complete to learn from):

    HF_HUB_OFFLINE=1 nice -n 10 .venv/bin/python -m bench.new_products --until 2011-03-01 --since 2010-08-23

``--ablations`` switches one part of the launch model off at a time and scores
each variant on the time split, the evaluation and the demo store's launches of
its last 52 weeks (hashing embedder, as in the tests).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from bench.forecast_data import online_retail_sales
from nextdrop.index.embedder import Embedder, load_embedder
from nextdrop.tools.backtests.forecast import spearman, wape
from nextdrop.tools.backtests.report import evaluate_new_products
from nextdrop.tools.forecasting import newproduct
from nextdrop.tools.forecasting.newproduct import NewProduct, StoreHistory, forecast_new_products
from nextdrop.tools.forecasting.series import build_panel

WEEKS = 8
SINCE = "2011-03-01"
SPLIT = ("2011-03-01", "2010-08-23")  # (until, since) of the time split
OUT = Path(__file__).resolve().parent / "out"


def catalog(sales: pd.DataFrame) -> pd.DataFrame:
    """One row per product: its most common description and median unit price."""
    titles = sales.dropna(subset=["description"]).groupby("product_id")["description"].agg(
        lambda s: s.value_counts().index[0])
    prices = sales.groupby("product_id")["unit_price"].median()
    return pd.DataFrame({"product_id": titles.index, "title": titles.to_numpy(),
                         "price": prices.reindex(titles.index).to_numpy()})


def online_retail(until: str | None, embedder: Embedder) -> StoreHistory:
    """Online Retail as a store history, with every sale from ``until`` on removed."""
    sales = online_retail_sales()
    if until:
        sales = sales[sales["date"] < pd.Timestamp(until)]
    return StoreHistory.build(build_panel(sales, "W"), catalog(sales), embedder, WEEKS)


def _since(history: StoreHistory, since: str) -> int:
    return int(history.panel.periods.searchsorted(pd.Timestamp(since)))


def _ridge_only(self, features: np.ndarray) -> float | None:
    """The launch model without its WAPE link: the ridge's log prediction."""
    if self.ridge is None or not np.isfinite(features).all():
        return None
    return float(self.ridge.predict(features[None, :])[0])


ABLATIONS: dict[str, dict[str, object]] = {
    "final": {},
    "no price closeness": {"PRICE_WIDTH": 0.0},
    "focused bandwidth only": {"BROAD": newproduct.FOCUSED},
    "broad bandwidth only": {"FOCUSED": newproduct.BROAD},
    "no WAPE link": {"_LaunchModel.predict": _ridge_only},
    "WAPE link on the ridge alone": {"LINKED": []},
}


def _patched(changes: dict[str, object], run: Callable[[], str]) -> str:
    """``run()`` with module settings of ``newproduct`` replaced, restored afterwards."""
    saved = {}
    for name, value in changes.items():
        *path, attr = name.split(".")
        owner = newproduct
        for part in path:
            owner = getattr(owner, part)
        saved[(owner, attr)] = getattr(owner, attr)
        setattr(owner, attr, value)
    try:
        return run()
    finally:
        for (owner, attr), value in saved.items():
            setattr(owner, attr, value)


def ablations(embedder: Embedder) -> None:
    """Each variant on the time split, the evaluation and the demo store, in one run."""
    from nextdrop.store.demo import generate_demo

    split, full = online_retail(SPLIT[0], embedder), online_retail(None, embedder)
    demo = generate_demo()
    hashing = load_embedder("hashing")
    store = StoreHistory.build(build_panel(demo.sales, "W"), demo.products, hashing, WEEKS)
    panel, end = store.panel, store.panel.values.shape[1]
    targets = np.nonzero((panel.first >= end - 52) & (panel.first + WEEKS <= end))[0]
    products = [NewProduct(store.titles[i], panel.periods[panel.first[i]], category=store.categories[i],
                           price=float(store.prices[i])) for i in targets]
    actual = store.launch_units[targets]

    def fresh(h: StoreHistory) -> StoreHistory:  # no caches carried over from another variant
        return StoreHistory(h.panel, h.titles, h.categories, h.prices, h.vectors, h.weeks, h.censor)

    def scores() -> str:
        cells = []
        for h, since in ((split, SPLIT[1]), (full, SINCE)):
            m = evaluate_new_products(fresh(h), _since(h, since), embedder)["methods"]["nextdrop"]
            cells.append(f"{m['wape']:.3f} / {m['spearman']:.3f}")
        total = np.array([r.total for r in forecast_new_products(products, fresh(store), hashing)])
        cells.append(f"{wape(actual, total):.3f} / {spearman(actual, total):.3f}")
        return " | ".join(cells)

    print(f"{'variant':30s} time split | evaluation | demo ({len(targets)} launches), WAPE / Spearman")
    for name, changes in ABLATIONS.items():
        print(f"{name:30s} {_patched(changes, scores)}", flush=True)


FLOORS = (0.0, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5)


def floors(embedder: Embedder) -> None:
    """The similarity floor below which a product falls back to its category or the store, swept in one run.

    Chosen on the time split; the evaluation is shown beside it, not used to choose.
    """
    split, full = online_retail(SPLIT[0], embedder), online_retail(None, embedder)
    print(f"{'floor':6s} time split: WAPE / Spearman / fell back | evaluation: WAPE / Spearman / fell back")
    for floor in FLOORS:
        cells = []
        for h, since in ((split, SPLIT[1]), (full, SINCE)):
            fresh = StoreHistory(h.panel, h.titles, h.categories, h.prices, h.vectors, h.weeks, h.censor)
            r = _patched({"MIN_SIMILARITY": floor}, lambda f=fresh, s=since: evaluate_new_products(
                f, _since(f, s), embedder))
            m, how = r["methods"]["nextdrop"], r["how"]
            cells.append(f"{m['wape']:.3f} / {m['spearman']:.3f} / {r['n'] - how.get('analogs', 0)} of {r['n']}")
        print(f"{floor:<6.2f} {' | '.join(cells)}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--since", default=SINCE, help="targets: products first sold from this date")
    parser.add_argument("--until", default=None, help="cut all sales at this date (a time split for tuning)")
    parser.add_argument("--ablations", action="store_true", help="score the model with one part off at a time")
    parser.add_argument("--floors", action="store_true", help="sweep the similarity floor of off-range products")
    args = parser.parse_args()
    embedder = load_embedder("all-MiniLM-L6-v2")
    if args.floors:
        floors(embedder)
        return
    if args.ablations:
        ablations(embedder)
        return
    history = online_retail(args.until, embedder)
    report = evaluate_new_products(history, _since(history, args.since), embedder)
    for name, m in report["methods"].items():
        print(f"{name:14s} WAPE {m['wape']:.3f}  Spearman {m['spearman']:.3f}")
    print(f"{report['n']} new products, {report['how']}, {report['seconds']} s")
    OUT.mkdir(parents=True, exist_ok=True)
    name = "new_products.json" if args.until is None else f"new_products_until_{args.until}.json"
    (OUT / name).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
