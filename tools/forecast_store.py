"""Forecasts of a workspace: read its sales, forecast, cache, and answer per product, category or candidate.

Store-wide product forecasts are cached in ``.nextdrop/cache/forecasts.pkl``
under a fingerprint of the sales (row count, units, last date, last ingest),
the events and the settings: they are recomputed only when one of those changes.
"""

from __future__ import annotations

import hashlib
import pickle
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nextdrop.errors import InputError
from nextdrop.store.files import atomic_write
from nextdrop.store.workspace import Workspace
from nextdrop.tools.backtest_report import evaluate_forecasts, evaluate_new_products
from nextdrop.tools.forecast import ForecastResult, SeriesForecast, forecast_panel
from nextdrop.tools.holidays import holiday_calendar
from nextdrop.tools.newproduct import Embedder, NewProduct, NewProductForecast, StoreHistory, forecast_new_products
from nextdrop.tools.series import Panel, aggregate, bucket_spec, panel_from_totals, panel_periods

CACHE_VERSION = "forecast-v5"


@dataclass(frozen=True)
class SeriesView:
    """A forecast with the history it came from (for tables and charts)."""

    forecast: SeriesForecast
    history: pd.Series  # units per period
    title: str  # what a table or chart calls it: "Product P1: Linen apron", "Category Toys (12 products)"
    incomplete: str = ""  # the sales of the period under way, which the history leaves out


def read_panel(ws: Workspace) -> Panel:
    """The workspace's sales as a panel, summed per product and period inside DuckDB.

    A big store's tens of millions of sales lines never reach pandas one by one: only one row
    per product and period with a sale does (``series.panel_from_totals``).
    """
    bucket = ws.settings.forecast.bucket
    unit = {"W": "week", "D": "day", "M": "month"}[bucket_spec(bucket)[0][0]]  # DuckDB weeks start on Monday
    with ws.read() as con:
        first, last = con.execute("SELECT min(date), max(date) FROM sales").fetchone()
        if first is None:
            raise InputError("the workspace has no sales yet; run `nextdrop ingest sales FILE` first")
        totals = con.execute(f"""
            SELECT product_id, date_trunc('{unit}', date) AS period, sum(quantity) AS units,
                   count(*) FILTER (WHERE quantity > 0)::DOUBLE AS lines,
                   coalesce(sum(quantity * quantity) FILTER (WHERE quantity > 0), 0) AS squares
            FROM sales GROUP BY ALL""").df()
    totals["period"] = pd.to_datetime(totals["period"])
    return panel_from_totals(totals, panel_periods(first, last, bucket), bucket)


def read_events(ws: Workspace, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """The events table plus the built-in holiday calendar of the ``store.country`` setting."""
    with ws.read() as con:
        own = con.execute("SELECT date, name, kind FROM events").df()
    built_in = holiday_calendar(ws.settings.store.country, start, end)
    own["date"] = pd.to_datetime(own["date"])
    return pd.concat([own, built_in], ignore_index=True)


def _fingerprint(ws: Workspace, h: int) -> str:
    with ws.read() as con:
        sales = con.execute(
            "SELECT count(*), sum(quantity), max(date), max(ingest_id) FROM sales").fetchone()
        events = con.execute("SELECT count(*), max(date), max(ingest_id) FROM events").fetchone()
    s = ws.settings
    text = f"{CACHE_VERSION}|{sales}|{events}|{s.forecast.bucket}|{s.store.country}|{h}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def store_forecasts(ws: Workspace, h: int | None = None) -> tuple[ForecastResult, Panel]:
    """Forecasts of every product, from the cache when the sales have not changed."""
    h = h or ws.settings.forecast.horizon
    key = _fingerprint(ws, h)
    path = ws.dir / "cache" / "forecasts.pkl"
    if path.exists():
        with path.open("rb") as handle:
            cached = pickle.load(handle)
        if cached.get("key") == key:
            return cached["result"], cached["panel"]
    panel = read_panel(ws)
    result = forecast_panel(panel, h, events=_panel_events(ws, panel, h))
    atomic_write(path, pickle.dumps({"key": key, "result": result, "panel": panel}))
    return result, panel


def forecast_product(ws: Workspace, product_id: str, weeks: int) -> SeriesView:
    """One product's forecast (from the store-wide, cached run)."""
    result, panel = store_forecasts(ws, weeks)
    try:
        forecast = result[str(product_id)]
    except KeyError:
        raise InputError(f"product {product_id!r} has no sales in this workspace; "
                         f"for a product that has never sold use `nextdrop forecast --candidate ID`") from None
    with ws.read() as con:
        row = con.execute("SELECT title FROM products WHERE product_id = ?", [str(product_id)]).fetchone()
    title = f"Product {product_id}" + (f": {row[0]}" if row else "")
    where = "WHERE product_id = ? AND"
    return SeriesView(forecast, _history(panel, str(product_id)), title, _incomplete(ws, panel, where, product_id))


def forecast_category(ws: Workspace, category: str, weeks: int) -> SeriesView:
    """The category's total units, forecast as a series of its own."""
    with ws.read() as con:
        cats = con.execute("SELECT product_id, coalesce(category, '') AS category FROM products").df()
    panel = read_panel(ws)
    groups = pd.Series(panel.ids).map(cats.set_index("product_id")["category"]).fillna("").to_numpy()
    names = {c.casefold(): c for c in set(groups) if c}
    if not names:
        raise InputError("no product with sales has a category; ingest a products file with a category column "
                         "(`nextdrop ingest products FILE`)")
    if category not in names.values():  # "toys" finds "Toys"
        if category.casefold() not in names:
            known = ", ".join(sorted(names.values()))
            raise InputError(f"no category {category!r} among products with sales (categories: {known})")
        category = names[category.casefold()]
    by_cat = aggregate(panel, groups)
    result = forecast_panel(by_cat, weeks, events=_panel_events(ws, panel, weeks))
    members = int((groups == category).sum())
    title = f"Category {category} ({members} product{'s' if members != 1 else ''} with sales)"
    where = "JOIN products USING (product_id) WHERE category = ? AND"
    return SeriesView(result[category], _history(by_cat, category), title, _incomplete(ws, panel, where, category))


def _incomplete(ws: Workspace, panel: Panel, where: str, key: str) -> str:
    """What sold after the last complete period, said so that nobody reads the history as the whole story.

    ``where`` selects the series' sales (``... WHERE x = ? AND``), ``key`` fills its placeholder.
    """
    start = panel.future_periods(1)[0]
    with ws.read() as con:
        last, units = con.execute(f"SELECT max(date), sum(quantity) FROM sales {where} date >= ?",
                                  [str(key), start.to_pydatetime()]).fetchone()
    if last is None:
        return ""
    return (f"the period from {start:%Y-%m-%d} is not over: its {units:,.0f} units so far (to "
            f"{pd.Timestamp(last):%Y-%m-%d}) are left out of the history, and the first row forecasts all of it.")


def _history(panel: Panel, series_id: str) -> pd.Series:
    """One series' units per period, from its first sale on."""
    i = int(np.nonzero(panel.ids == series_id)[0][0])
    return pd.Series(panel.values[i, panel.first[i]:], index=panel.periods[panel.first[i]:])


def _panel_events(ws: Workspace, panel: Panel, h: int) -> pd.DataFrame:
    """Events over the panel's history and its next ``h`` periods."""
    return read_events(ws, panel.periods[0], panel.future_periods(h)[-1] + pd.Timedelta(days=6))


def store_history(ws: Workspace, embedder: Embedder, weeks: int) -> StoreHistory:
    """Panel plus product titles, categories, prices and vectors: what analogs are drawn from."""
    with ws.read() as con:
        catalog = con.execute("SELECT product_id, title, category, price FROM products").df()
        median_price = con.execute(
            "SELECT product_id, median(unit_price) AS p FROM sales WHERE unit_price > 0 GROUP BY 1").df()
    prices = catalog["product_id"].map(median_price.set_index("product_id")["p"])
    catalog["price"] = catalog["price"].fillna(prices)
    panel = read_panel(ws)
    return StoreHistory.build(panel, catalog, embedder, weeks)


def forecast_candidate(ws: Workspace, candidate_id: str, weeks: int, embedder: Embedder) -> NewProductForecast:
    """A candidate's launch curve from analogs, launching at its earliest date or the next period."""
    with ws.read() as con:
        row = con.execute("SELECT title, category, price, earliest_date FROM candidates WHERE candidate_id = ?",
                          [candidate_id]).fetchone()
    if row is None:
        raise InputError(_unknown_candidate(ws, candidate_id))
    history = store_history(ws, embedder, weeks)
    next_period = history.panel.future_periods(1)[0]
    launch = max(pd.Timestamp(row[3]), next_period) if row[3] is not None else next_period
    product = NewProduct(row[0], launch, category=row[1], price=row[2], id=candidate_id)
    return forecast_new_products([product], history, embedder)[0]


def _unknown_candidate(ws: Workspace, candidate_id: str) -> str:
    """The error for an id that is not a candidate: which ids are, or how to add some."""
    with ws.read() as con:
        count = con.execute("SELECT count(*) FROM candidates").fetchone()[0]
        ids = [r[0] for r in con.execute("SELECT candidate_id FROM candidates ORDER BY 1 LIMIT 8").fetchall()]
    if not ids:
        return f"no candidate {candidate_id!r}: the workspace has none; run `nextdrop ingest candidates FILE`"
    shown = ", ".join(ids) + (f", ... ({count} in all)" if count > len(ids) else "")
    return f"no candidate {candidate_id!r}; the candidates are {shown}"


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
    return evaluate_forecasts(train.subset(keep), actual, events=events)


def backtest_new_products(ws: Workspace, since: pd.Timestamp, weeks: int, embedder: Embedder) -> dict:
    """Products first sold from ``since`` on, each forecast from what was known before its first sale."""
    history = store_history(ws, embedder, weeks)
    since_period = int(history.panel.periods.searchsorted(pd.Timestamp(since)))
    report = evaluate_new_products(history, since_period, embedder)
    if report["n"] == 0:
        raise InputError(f"no product first sold on or after {since.date()} with {weeks} complete periods; "
                         "pick an earlier --since")
    return report
