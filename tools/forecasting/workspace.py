"""Forecasts of a workspace: read its sales, forecast, cache, and answer per product, category or candidate.

Store-wide product forecasts are cached in ``.nextdrop/cache/forecasts.pkl`` (and
``forecasts-long.pkl`` for forecasts past the backtest's horizon) under a fingerprint
of the sales (row count, units, last date, last ingest), the events and the
settings: they are recomputed only when one of those changes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from nextdrop.errors import InputError
from nextdrop.store.cache import read_cached, write_cached
from nextdrop.store.workspace import Workspace
from nextdrop.tools.forecasting.forecast import ForecastResult, SeriesForecast, forecast_panel
from nextdrop.tools.forecasting.holidays import closed_days, closed_periods, holiday_calendar, rest_of_period
from nextdrop.tools.forecasting.newproduct import (
    Embedder,
    NewProduct,
    NewProductForecast,
    StoreHistory,
    forecast_new_products,
    launch_index,
)
from nextdrop.tools.forecasting.series import Panel, aggregate, bucket_spec, panel_from_totals, panel_periods

if TYPE_CHECKING:
    from nextdrop.index.dedup import Pair

CACHE_VERSION = "forecast-v6"


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


def read_daily(ws: Workspace) -> pd.Series:
    """The store's units per calendar day with a sale: what closed days and the weekday pattern are read from."""
    with ws.read() as con:
        daily = con.execute("SELECT date::DATE AS day, sum(quantity) AS units FROM sales "
                            "WHERE quantity > 0 GROUP BY 1 ORDER BY 1").df()
    return pd.Series(daily["units"].to_numpy(dtype=float), index=pd.DatetimeIndex(daily["day"]))


@dataclass(frozen=True)
class StoreCalendar:
    """When the store is closed, and how far the period under way has got: what settles a raw forecast."""

    closed: frozenset[tuple[int, int]]  # (month, day) the store has never traded on
    under_way: pd.Timestamp | None  # start of the period the data ends in, when it is not over
    rest: float  # share of that period's usual sales still to come
    bucket: str

    @classmethod
    def read(cls, ws: Workspace, panel: Panel) -> StoreCalendar:
        daily = read_daily(ws)
        start = panel.future_periods(1)[0]
        last = daily.index.max()
        under_way = start if last is not None and last >= start else None
        rest = rest_of_period(daily, start, last, panel.bucket) if under_way is not None else 1.0
        return cls(closed_days(daily), under_way, rest, panel.bucket)

    def closed_in(self, periods: pd.DatetimeIndex) -> np.ndarray:
        return closed_periods(periods, self.bucket, self.closed)

    def closed_note(self, periods: pd.DatetimeIndex) -> str:
        shut = periods[self.closed_in(periods)]
        if len(shut) == 0:
            return ""
        return (f"closed: the store sold nothing on these dates in any past year it traded around them, "
                f"so {', '.join(f'{p:%Y-%m-%d}' for p in shut)} forecast 0")


def settle(forecast: SeriesForecast, calendar: StoreCalendar, sold: float) -> SeriesForecast:
    """Closed periods forecast 0; the period under way is what it sold so far plus the forecast of its rest."""
    mean = forecast.mean.copy()
    lower = {level: bound.copy() for level, bound in forecast.lower.items()}
    upper = {level: bound.copy() for level, bound in forecast.upper.items()}
    shut = calendar.closed_in(forecast.periods)
    notes = [forecast.note, calendar.closed_note(forecast.periods)]
    for array in (mean, *lower.values(), *upper.values()):
        array[shut] = 0.0
        if calendar.under_way is not None and forecast.periods[0] == calendar.under_way:
            array[0] = sold + calendar.rest * array[0]
    return replace(forecast, mean=mean, lower=lower, upper=upper, note="; ".join(n for n in notes if n))


def forecast_horizon(ws: Workspace, weeks: int) -> int:
    """The horizon a forecast is made for: the backtest's, or the longest, never the request's own."""
    f = ws.settings.forecast
    if weeks > f.max_weeks:
        raise InputError(f"--weeks {weeks} is beyond the longest forecast, forecast.max_weeks = {f.max_weeks}; "
                         f"raise it in nextdrop.toml (or NEXTDROP_FORECAST_MAX_WEEKS)")
    return f.backtest_weeks if weeks <= f.backtest_weeks else max(f.max_weeks, f.backtest_weeks)


def _fingerprint(ws: Workspace, h: int) -> str:
    with ws.read() as con:
        sales = con.execute(
            "SELECT count(*), sum(quantity), max(date), max(ingest_id) FROM sales").fetchone()
        events = con.execute("SELECT count(*), max(date), max(ingest_id) FROM events").fetchone()
    s = ws.settings
    text = f"{CACHE_VERSION}|{sales}|{events}|{s.forecast.bucket}|{s.store.country}|{h}|{s.forecast.backtest_weeks}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def store_forecasts(ws: Workspace, h: int | None = None) -> tuple[ForecastResult, Panel]:
    """Forecasts of every product for ``h`` periods (models chosen on the backtest setting's), cached."""
    h = h or forecast_horizon(ws, ws.settings.forecast.horizon)
    key = _fingerprint(ws, h)
    # the backtest's horizon and the longest one are both asked for often: each keeps its own file
    path = ws.dir / "cache" / ("forecasts.pkl" if h <= ws.settings.forecast.backtest_weeks else "forecasts-long.pkl")
    if (cached := read_cached(path, key)) is not None:
        return cached["result"], cached["panel"]
    panel = read_panel(ws)
    result = forecast_panel(panel, h, events=_panel_events(ws, panel, h),
                            backtest_h=ws.settings.forecast.backtest_weeks)
    write_cached(path, key, result=result, panel=panel)
    return result, panel


def forecast_product(ws: Workspace, product_id: str, weeks: int) -> SeriesView:
    """One product's forecast (from the store-wide, cached run), cut to ``weeks`` and settled."""
    result, panel = store_forecasts(ws, forecast_horizon(ws, weeks))
    try:
        forecast = result.head(weeks)[str(product_id)]
    except KeyError:
        raise InputError(f"product {product_id!r} has no sales in this workspace; "
                         f"for a product that has never sold use `nextdrop forecast --candidate ID`") from None
    with ws.read() as con:
        row = con.execute("SELECT title FROM products WHERE product_id = ?", [str(product_id)]).fetchone()
    title = f"Product {product_id}" + (f": {row[0]}" if row else "")
    return _view(ws, panel, forecast, _history(panel, str(product_id)), title,
                 "WHERE product_id = ? AND", product_id)


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
    h = forecast_horizon(ws, weeks)
    result = forecast_panel(by_cat, h, events=_panel_events(ws, panel, h),
                            backtest_h=ws.settings.forecast.backtest_weeks).head(weeks)
    members = int((groups == category).sum())
    title = f"Category {category} ({members} product{'s' if members != 1 else ''} with sales)"
    return _view(ws, panel, result[category], _history(by_cat, category), title,
                 "JOIN products USING (product_id) WHERE category = ? AND", category)


def _view(ws: Workspace, panel: Panel, forecast: SeriesForecast, history: pd.Series, title: str,
          where: str, key: str) -> SeriesView:
    """The forecast settled against the calendar and the period under way, with its history."""
    calendar = StoreCalendar.read(ws, panel)
    sold, incomplete = _incomplete(ws, panel, where, key, calendar.rest)
    return SeriesView(settle(forecast, calendar, sold), history, title, incomplete)


def _incomplete(ws: Workspace, panel: Panel, where: str, key: str, rest: float) -> tuple[float, str]:
    """What sold after the last complete period, and a sentence saying how the forecast counts it.

    ``where`` selects the series' sales (``... WHERE x = ? AND``), ``key`` fills its placeholder;
    ``rest``: the share of the period's usual sales still to come.
    """
    start = panel.future_periods(1)[0]
    with ws.read() as con:
        last, units = con.execute(f"SELECT max(date), sum(quantity) FROM sales {where} date >= ?",
                                  [str(key), start.to_pydatetime()]).fetchone()
    if last is None:
        return 0.0, ""
    return float(units), (f"the period from {start:%Y-%m-%d} is not over: its {units:,.0f} units so far (to "
                          f"{pd.Timestamp(last):%Y-%m-%d}) are left out of the history; its forecast is those "
                          f"plus the forecast of the {rest:.0%} of a usual period's sales still to come.")


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
    """One candidate's launch curve (``forecast_candidates``)."""
    return forecast_candidates(ws, [candidate_id], weeks, embedder)[0]


def forecast_candidates(ws: Workspace, candidate_ids: list[str], weeks: int,
                        embedder: Embedder) -> list[NewProductForecast]:
    """Launch curves of candidates, each launching at its earliest date or the period under way.

    From analogs, unless ``nextdrop dedup --candidates`` finds a candidate duplicates a catalog
    product with sales: then it is that product's own forecast, said so, with the analogs beside it.
    Closed periods sell nothing; a launch in the period under way sells only in its rest. One
    duplicate check and one store history serve them all.
    """
    with ws.read() as con:
        rows = {r[0]: r[1:] for r in con.execute(
            "SELECT candidate_id, title, category, price, earliest_date FROM candidates").fetchall()}
    missing = [c for c in candidate_ids if c not in rows]
    if missing:
        raise InputError(_unknown_candidate(ws, missing[0]))
    history = store_history(ws, embedder, weeks)
    next_period = history.panel.future_periods(1)[0]
    products = []
    for cid in candidate_ids:
        title, category, price, earliest = rows[cid]
        launch = max(pd.Timestamp(earliest), next_period) if earliest is not None else next_period
        products.append(NewProduct(title, launch, category=category, price=price, id=cid))
    results = forecast_new_products(products, history, embedder)
    duplicates = duplicates_of(ws, embedder)
    calendar = StoreCalendar.read(ws, history.panel)
    return [settle_launch(_as_duplicate(ws, r, duplicates[r.product.id], history.panel)
                          if r.product.id in duplicates else r, calendar) for r in results]


def duplicates_of(ws: Workspace, embedder: Embedder) -> dict[str, Pair]:
    """Candidate id -> the catalog product it duplicates, as ``nextdrop dedup --candidates`` decides (best pair)."""
    from nextdrop.tools.dedup.workspace import run_dedup

    best: dict[str, Pair] = {}
    for pair in run_dedup(ws, candidates=True, embedder=embedder).result.duplicates:
        if pair.a not in best or pair.score > best[pair.a].score:
            best[pair.a] = pair
    return best


def _as_duplicate(ws: Workspace, analog: NewProductForecast, pair: Pair, panel: Panel) -> NewProductForecast:
    """A duplicate candidate's forecast: the product's own, over the candidate's launch periods."""
    with ws.read() as con:
        row = con.execute("SELECT title FROM products WHERE product_id = ?", [pair.b]).fetchone()
    named = f"product {pair.b}" + (f" ({row[0]})" if row and row[0] else "")
    kind = "an exact duplicate" if pair.kind == "exact" else "a near duplicate"
    offset = launch_index(panel, analog.periods[0]) - len(panel.periods)  # periods from now to the launch
    h = offset + len(analog.periods)
    if pair.b not in panel.ids or h > ws.settings.forecast.max_weeks:
        why = ("it has no sales to forecast from" if pair.b not in panel.ids
               else "its forecast does not reach the launch")
        return replace(analog, note=f"{kind} of {named} (score {pair.score:.2f}; {pair.reason}); {why}, so the "
                                    f"analogs' forecast stands; {analog.note}")
    own = store_forecasts(ws, forecast_horizon(ws, h))[0].head(h)[pair.b]
    cut = slice(offset, h)
    mean = own.mean[cut]
    return replace(
        analog, mean=mean, total=float(mean.sum()), method="duplicate", confidence=analog.confidence,
        lower={level: float(bound[cut].sum()) for level, bound in own.lower.items()},
        upper={level: float(bound[cut].sum()) for level, bound in own.upper.items()},
        note=(f"{kind} of {named} (score {pair.score:.2f}; {pair.reason}): forecast from that product's own sales "
              f"({own.model}); listing it again splits that demand, it adds none (the analogs alone said "
              f"{analog.total:,.0f} units)"),
    )


def settle_launch(result: NewProductForecast, calendar: StoreCalendar) -> NewProductForecast:
    """A launch curve that sells nothing in closed periods, and only the rest of a period under way."""
    mean = result.mean.copy()
    mean[calendar.closed_in(result.periods)] = 0.0
    notes = [result.note, calendar.closed_note(result.periods)]
    if calendar.under_way is not None and result.periods[0] == calendar.under_way:
        mean[0] *= calendar.rest
        notes.append(f"launching in the period under way ({calendar.under_way:%Y-%m-%d}): only the "
                     f"{calendar.rest:.0%} of its usual sales still to come count")
    total = float(mean.sum())
    ratio = total / result.total if result.total > 0 else 0.0
    return replace(result, mean=mean, total=total, lower={k: v * ratio for k, v in result.lower.items()},
                   upper={k: v * ratio for k, v in result.upper.items()}, note="; ".join(n for n in notes if n))


def _unknown_candidate(ws: Workspace, candidate_id: str) -> str:
    """The error for an id that is not a candidate: which ids are, or how to add some."""
    with ws.read() as con:
        count = con.execute("SELECT count(*) FROM candidates").fetchone()[0]
        ids = [r[0] for r in con.execute("SELECT candidate_id FROM candidates ORDER BY 1 LIMIT 8").fetchall()]
    if not ids:
        return f"no candidate {candidate_id!r}: the workspace has none; run `nextdrop ingest candidates FILE`"
    shown = ", ".join(ids) + (f", ... ({count} in all)" if count > len(ids) else "")
    return f"no candidate {candidate_id!r}; the candidates are {shown}"
