"""Ingesting a store file into the workspace: match columns, validate, quarantine, append.

Every input row ends in exactly one place: accepted into its table, already
present (re-ingesting the same rows adds nothing), quarantined with its row
number and reason, or, for sales, set aside as a non-product line (postage,
fees). The counts add up to the rows read. All writes happen in one DuckDB
transaction under the workspace lock; the quarantine CSV is written atomically
after the commit.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from nextdrop.errors import InputError
from nextdrop.store import adjustments
from nextdrop.store.columns import KINDS, ColumnMatch, Mapping, match_columns
from nextdrop.store.db import scalar
from nextdrop.store.files import atomic_write
from nextdrop.store.nonproduct import non_product_reason
from nextdrop.store.parse import DateOrder, blank, clean_text, decide_date_order, parse_dates, parse_numbers
from nextdrop.store.readers import CHUNK_ROWS, RawTable, iter_table
from nextdrop.store.workspace import Workspace

TABLE_COLUMNS: dict[str, list[str]] = {
    "sales": ["date", "product_id", "quantity", "unit_price", "order_id", "customer_hash", "country",
              "description", "is_return"],
    "products": ["product_id", "title", "description", "category", "price", "cost", "launch_date",
                 "attributes"],
    "candidates": ["candidate_id", "title", "description", "category", "price", "cost", "earliest_date",
                   "lead_time_days", "min_order_qty", "attributes"],
    "reviews": ["product_id", "rating", "text", "date"],
    "events": ["date", "name", "kind"],
}
EVENT_KINDS = {"holiday", "promo"}
LINE_TABLES = ("sales", "reviews", "events")  # tables of lines, where a repeated line may be a real repeat


@dataclass
class IngestReport:
    """What one ingest did, with counts that add up to the rows read."""

    kind: str
    file: str
    rows_read: int = 0
    accepted: int = 0
    already_present: int = 0
    quarantined: Counter[str] = field(default_factory=Counter)
    non_product: Counter[str] = field(default_factory=Counter)
    derived_products: int = 0
    quarantine_file: Path | None = None
    encoding: str | None = None
    delimiter: str | None = None
    date_formats: dict[str, str] = field(default_factory=dict)  # date column -> how it was read, and why
    duplicate_lines: int = 0  # lines identical to an earlier line of the file (sales, reviews, events)
    duplicates_kept: bool = True
    adjustments: Counter[str] = field(default_factory=Counter)  # stock adjustment lines by their note
    adjustment_units: float = 0.0  # units they moved, in or out
    seconds: float = 0.0

    @property
    def quarantined_total(self) -> int:
        return sum(self.quarantined.values())

    @property
    def non_product_total(self) -> int:
        return sum(self.non_product.values())

    @property
    def balanced(self) -> bool:
        """Nothing lost: every row read is accounted for."""
        return (self.accepted + self.already_present + self.quarantined_total + self.non_product_total
                == self.rows_read)


@dataclass
class Prepared:
    """Rows split by destination; ``problems`` has one row per quarantined input row."""

    good: pd.DataFrame
    problems: pd.DataFrame  # row, column, value, reason, raw, line_key
    non_product: pd.DataFrame | None = None
    pending: pd.DataFrame | None = None  # good sales lines that may be stock adjustments, decided at the end


class RowChecks:
    """Collects the first problem of each row, in the order checks are made."""

    def __init__(self, index: pd.Index) -> None:
        self.reason = pd.Series(None, index=index, dtype=object)
        self.column = pd.Series(None, index=index, dtype=object)
        self.value = pd.Series(None, index=index, dtype=object)

    def flag(self, mask: pd.Series, column: str | None, values: pd.Series | None, reason: str) -> None:
        new = mask & self.reason.isna()
        if new.any():
            self.reason[new] = reason
            self.column[new] = column
            if values is not None:
                self.value[new] = values[new].astype(str).str.slice(0, 200)

    @property
    def bad(self) -> pd.Series:
        return self.reason.notna()


Step = Callable[[str], None]  # told what is happening, for a progress display


class SeenLines:
    """Content hashes seen so far in a file: how often each, and the row where each first appeared."""

    def __init__(self) -> None:
        self.keys = np.empty(0, dtype=np.uint64)  # sorted
        self.counts = np.empty(0, dtype=np.int64)
        self.first_rows = np.empty(0, dtype=np.int64)

    def see(self, content: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each row: how many identical rows came before it in the file (earlier chunks included), and
        the row of the first of them (its own row when it is the first)."""
        uniq, first_at, inverse, counts = np.unique(content, return_index=True, return_inverse=True,
                                                    return_counts=True)
        order = np.argsort(inverse, kind="stable")  # rows grouped by content, in file order within a group
        within = np.empty(len(content), dtype=np.int64)
        within[order] = np.arange(len(content)) - (np.cumsum(counts) - counts)[inverse[order]]
        chunk_first = np.asarray(rows, dtype=np.int64)[first_at]
        first = chunk_first[inverse]
        prior = np.zeros(len(content), dtype=np.int64)
        if len(self.keys):
            pos = np.minimum(np.searchsorted(self.keys, uniq), len(self.keys) - 1)
            found = self.keys[pos] == uniq
            prior_of, first_of = np.zeros(len(uniq), dtype=np.int64), chunk_first.copy()
            prior_of[found], first_of[found] = self.counts[pos[found]], self.first_rows[pos[found]]
            prior, first = prior_of[inverse], first_of[inverse]
        self.keys, slot = np.unique(np.concatenate([self.keys, uniq]), return_inverse=True)
        self.counts = np.bincount(slot, weights=np.concatenate([self.counts, counts])).astype(np.int64)
        first_rows = np.full(len(self.keys), np.iinfo(np.int64).max)
        np.minimum.at(first_rows, slot, np.concatenate([self.first_rows, chunk_first]))
        self.first_rows = first_rows
        return prior + within, first


class FileState:
    """What one ingest must remember across the chunks of a file."""

    def __init__(self, path: Path | None = None, kind: str = "", keep_duplicates: bool = True) -> None:
        self.path, self.kind, self.keep_duplicates = path, kind, keep_duplicates
        self.date_orders: dict[str, DateOrder] = {}  # date column -> its day/month order, decided once
        self.lines = SeenLines()  # the fields a line key hashes
        self.raw_lines = SeenLines()  # whole lines as read: exact duplicates
        self.duplicate_of = pd.Series(dtype="Int64")  # this chunk: row -> the earlier identical row, if any
        self.first_rows: dict[str, int] = {}  # catalog id -> the row it first appeared on

    def see_chunk(self, frame: pd.DataFrame) -> int:
        """Note which rows of this chunk repeat an earlier line exactly; return how many do."""
        content = pd.util.hash_pandas_object(frame, index=False).to_numpy()
        seen_before, first = self.raw_lines.see(content, frame.index.to_numpy())
        self.duplicate_of = pd.Series(first, index=frame.index, dtype="Int64").where(seen_before > 0)
        return int((seen_before > 0).sum())

    def line_keys(self, columns: list[pd.Series]) -> pd.Series:
        """A 64-bit key per row: its content hash plus how many identical rows came before it."""
        content = pd.concat([c.astype(str).reset_index(drop=True) for c in columns], axis=1, ignore_index=True)
        first = pd.util.hash_pandas_object(content, index=False).to_numpy()
        keyed = pd.DataFrame({"h": first, "n": self.lines.see(first, np.arange(len(first)))[0]})
        keys = pd.util.hash_pandas_object(keyed, index=False).to_numpy()
        return pd.Series(keys, index=columns[0].index, dtype=np.uint64)


def ingest_file(ws: Workspace, kind: str, path: Path, mapping: Path | Mapping | None = None,
                on_stage: Step | None = None, chunk_rows: int = CHUNK_ROWS, dayfirst: bool | None = None
                ) -> IngestReport:
    """Ingest ``path`` as ``kind`` (products, sales, candidates, reviews, events), chunk by chunk.

    All chunks go into one transaction, so the file lands whole or not at all. ``dayfirst`` says how this
    file's numeric dates read (``--dayfirst`` / ``--monthfirst``); unset, each date column's values decide.
    """
    if kind not in KINDS:
        raise InputError(f"unknown table {kind!r}; choose one of {', '.join(KINDS)}")
    if isinstance(mapping, Path):
        mapping = Mapping.load(mapping)
    mapping = mapping or Mapping()
    step = on_stage or (lambda _: None)
    started = time.perf_counter()
    report = IngestReport(kind=kind, file=str(path))
    options = date_options(mapping, dayfirst, ws.settings.store.dayfirst)
    chunks = iter_table(path, encoding=options.get("encoding"), delimiter=options.get("delimiter"),
                        sheet=options.get("sheet", 0), chunk_rows=chunk_rows)
    state = FileState(path, kind, keep_duplicates=ws.settings.ingest.keep_duplicate_lines)
    report.duplicates_kept = state.keep_duplicates
    quarantined: list[pd.DataFrame] = []
    step(f"reading {path.name}")
    with ws.write() as con:
        salt = ws.salt(con)
        ingest_id = scalar(con, "SELECT coalesce(max(ingest_id), 0) + 1 FROM ingests")
        match: ColumnMatch | None = None
        for raw in chunks:
            match = match or match_columns(kind, [str(c) for c in raw.frame.columns], path, mapping)
            report.encoding, report.delimiter = raw.encoding, raw.delimiter
            report.rows_read += len(raw.frame) + len(raw.broken_rows)
            step(f"validating and storing, {report.rows_read:,} rows read")
            if kind in LINE_TABLES:
                report.duplicate_lines += state.see_chunk(raw.frame)
            prepared = PREPARERS[kind](raw.frame, match, options, salt, state)
            problems = prepared.problems
            if raw.broken_rows:
                problems = pd.concat([problems, _broken_rows(raw, state)], ignore_index=True)
            quarantined.append(_store_chunk(con, kind, prepared, problems, ingest_id, str(path), report))
        if kind == "sales":
            step("setting aside stock adjustments")
            _settle_adjustments(con, ingest_id, report)
            step("deriving products from sales")
            report.derived_products = derive_products(con)
        con.execute(
            "INSERT INTO ingests VALUES (?, ?, ?, ?, now(), ?, ?, ?, ?, ?)",
            [ingest_id, kind, str(path), _sha256(path), report.rows_read, report.accepted,
             report.already_present, report.quarantined_total, report.non_product_total],
        )
        step("committing")
    report.date_formats = {column: order.describe() for column, order in state.date_orders.items()}
    new_problems = pd.concat(quarantined, ignore_index=True) if quarantined else pd.DataFrame()
    if len(new_problems):
        report.quarantine_file = _write_quarantine_csv(ws, ingest_id, kind, path, new_problems)
    report.seconds = time.perf_counter() - started
    return report


def _store_chunk(con: duckdb.DuckDBPyConnection, kind: str, prepared: Prepared, problems: pd.DataFrame,
                 ingest_id: int, file: str, report: IngestReport) -> pd.DataFrame:
    """Write one chunk's rows where they belong, count them in ``report``; return its new quarantine rows."""
    if kind in ("products", "candidates"):
        changed, unchanged = _upsert_catalog(con, kind, prepared.good)
        report.accepted += changed
        report.already_present += unchanged
    else:
        new = _append_new(con, kind, prepared.good, ingest_id)
        report.accepted += len(new)
        report.already_present += len(prepared.good) - len(new)
    if prepared.non_product is not None:
        new = _append_new(con, "non_product_lines", prepared.non_product, ingest_id)
        report.already_present += len(prepared.non_product) - len(new)
        report.non_product.update(new["reason"].tolist())
    if prepared.pending is not None:
        adjustments.hold(con, prepared.pending)
    new_problems = _new_rows(con, "quarantine", problems, f"kind = '{kind}'")
    report.already_present += len(problems) - len(new_problems)
    report.quarantined.update(new_problems["reason"].tolist())
    _store_problems(con, ingest_id, kind, file, new_problems)
    return new_problems


def _settle_adjustments(con: duckdb.DuckDBPyConnection, ingest_id: int, report: IngestReport) -> None:
    """Store the held price-0 lines: as sales when their description is the product's, else as adjustments."""
    sales, held = adjustments.settle(con)
    if not sales.empty:
        new = _append_new(con, "sales", sales, ingest_id)
        report.accepted += len(new)
        report.already_present += len(sales) - len(new)
    if held.empty:
        return
    aside = pd.DataFrame({"date": held["date"], "code": held["product_id"], "description": held["description"],
                          "quantity": held["quantity"], "unit_price": held["unit_price"],
                          "order_id": held["order_id"], "reason": adjustments.REASON, "line_key": held["line_key"]})
    fresh = _new_rows(con, "sales", aside)  # a store ingested before adjustments were recognised holds them as sales
    new = _append_new(con, "non_product_lines", fresh, ingest_id)
    report.already_present += len(aside) - len(new)
    if len(new):
        report.non_product[adjustments.REASON] += len(new)
    report.adjustments.update(new["description"].fillna("(no description)").tolist())
    report.adjustment_units += float(new["quantity"].abs().sum())


# --- preparing each kind: one function per table, all returning Prepared ---------------------------


def _prepare_sales(frame: pd.DataFrame, match: ColumnMatch, options: dict, salt: str, state: FileState
                   ) -> Prepared:
    checks = RowChecks(frame.index)
    product_id = _coalesced(frame, match, "product_id")
    description = _text(frame, match, "description")
    order_id = _text(frame, match, "order_id")
    date_text = _date_text(frame, match)
    quantity_raw = _column(frame, match, "quantity")
    quantity, bad_qty = parse_numbers(quantity_raw)
    price_raw = _column(frame, match, "unit_price")
    price, bad_price = parse_numbers(price_raw)
    customer = _hash_values(_text(frame, match, "customer_id"), salt)
    line_key = state.line_keys([product_id, date_text, quantity_raw, price_raw, order_id, customer, description])

    reason = non_product_reason(product_id, description, options.get("non_product"))
    is_product = reason.isna()
    checks.flag(is_product & product_id.isna(), match.source_of("product_id"), None, "missing product_id")
    dates = _checked_dates(checks, date_text, match.source_of("date"), options, state, required=True,
                           where=is_product)
    checks.flag(is_product & blank(quantity_raw), match.source_of("quantity"), None, "missing quantity")
    checks.flag(is_product & bad_qty, match.source_of("quantity"), quantity_raw, "quantity is not a number")
    checks.flag(is_product & bad_price, match.source_of("unit_price"), price_raw, "unit_price is not a number")
    _flag_duplicates(checks, state)

    cancelled = order_id.fillna("").str.match(r"^[Cc]\d")
    good_rows = is_product & ~checks.bad
    pending = good_rows & adjustments.is_candidate(price, customer, match.source_of("description") is not None)
    lines = pd.DataFrame({
        "date": dates, "product_id": product_id, "quantity": quantity, "unit_price": price,
        "order_id": order_id, "customer_hash": customer, "country": _text(frame, match, "country"),
        "description": description, "is_return": (quantity < 0) | cancelled, "line_key": line_key,
    })
    non_product = pd.DataFrame({
        "date": dates, "code": product_id, "description": description, "quantity": quantity,
        "unit_price": price, "order_id": order_id, "reason": reason, "line_key": line_key,
    })[~is_product & ~checks.bad]
    raw = frame.copy()
    if match.source_of("customer_id"):
        raw[match.source_of("customer_id")] = customer
    return Prepared(lines[good_rows & ~pending], _problems(raw, checks, line_key), non_product, lines[pending])


def _prepare_catalog(frame: pd.DataFrame, match: ColumnMatch, options: dict, salt: str, state: FileState, *,
                     kind: str) -> Prepared:
    """Products and candidates share their shape: an id, a title, text, money and dates."""
    del salt  # catalogs carry no customer data
    id_field = "product_id" if kind == "products" else "candidate_id"
    checks = RowChecks(frame.index)
    ids = _coalesced(frame, match, id_field)
    title = _text(frame, match, "title")
    description = _text(frame, match, "description").map(strip_html, na_action="ignore")
    category = _text(frame, match, "category")
    attributes = _attributes(frame, match)
    handle = _text(frame, match, "handle") if kind == "products" else None
    if handle is not None and handle.notna().any():  # Shopify: variant rows leave the shared fields empty
        title, description, category = (_fill_by_group(s, handle) for s in (title, description, category))
        title = _variant_titles(title, frame, match)
    out = pd.DataFrame({id_field: ids, "title": title, "description": description, "category": category},
                       index=frame.index)
    checks.flag(ids.isna(), match.source_of(id_field), None, f"missing {id_field}")
    checks.flag(title.isna(), match.source_of("title"), None, "empty title")
    money = ["price", "cost"] + (["min_order_qty"] if kind == "candidates" else [])
    for name in money:
        values, bad = parse_numbers(_column(frame, match, name))
        checks.flag(bad, match.source_of(name), _column(frame, match, name), f"{name} is not a number")
        out[name] = values
    if kind == "candidates":
        checks.flag(out["price"].isna(), match.source_of("price"), None, "missing price")
        lead, bad = parse_numbers(_column(frame, match, "lead_time_days"))
        checks.flag(bad, match.source_of("lead_time_days"), _column(frame, match, "lead_time_days"),
                    "lead_time_days is not a number")
        out["lead_time_days"] = lead.round().astype("Int64")
    date_field = "launch_date" if kind == "products" else "earliest_date"
    dates = _checked_dates(checks, _column(frame, match, date_field), match.source_of(date_field), options, state,
                           label=date_field)
    out[date_field] = dates.dt.date
    out["attributes"] = attributes
    valid = ids.where(~checks.bad).dropna()
    repeated = valid.duplicated(keep="first") | valid.isin(list(state.first_rows))
    state.first_rows.update(zip(valid[~repeated].to_numpy(), valid[~repeated].index, strict=True))
    if repeated.any():
        first_row = ids.map(state.first_rows).astype("Int64").astype(str)
        mask = pd.Series(frame.index.isin(repeated[repeated].index), index=frame.index)
        checks.flag(mask, match.source_of(id_field), ids, "duplicate id (first at row " + first_row + ")")
    line_key = state.line_keys([out[c].astype(str) for c in out.columns])
    good = out[~checks.bad][TABLE_COLUMNS[kind]]
    return Prepared(good, _problems(frame, checks, line_key))


def _prepare_reviews(frame: pd.DataFrame, match: ColumnMatch, options: dict, salt: str, state: FileState
                     ) -> Prepared:
    del salt
    checks = RowChecks(frame.index)
    product_id = _coalesced(frame, match, "product_id")
    rating_raw = _column(frame, match, "rating")
    rating, bad_rating = parse_numbers(rating_raw)
    date_raw = _column(frame, match, "date")
    text = _text(frame, match, "text").map(strip_html, na_action="ignore")
    checks.flag(product_id.isna(), match.source_of("product_id"), None, "missing product_id")
    checks.flag(blank(rating_raw), match.source_of("rating"), None, "missing rating")
    checks.flag(bad_rating, match.source_of("rating"), rating_raw, "rating is not a number")
    dates = _checked_dates(checks, date_raw, match.source_of("date"), options, state)
    _flag_duplicates(checks, state)
    line_key = state.line_keys([product_id, rating_raw, text, date_raw])
    good = pd.DataFrame({"product_id": product_id, "rating": rating, "text": text, "date": dates.dt.date,
                         "line_key": line_key})[~checks.bad]
    return Prepared(good, _problems(frame, checks, line_key))


def _prepare_events(frame: pd.DataFrame, match: ColumnMatch, options: dict, salt: str, state: FileState
                    ) -> Prepared:
    del salt
    checks = RowChecks(frame.index)
    date_raw = _column(frame, match, "date")
    name = _text(frame, match, "name")
    kind = _text(frame, match, "kind").fillna(str(match.defaults.get("kind", "holiday"))).str.lower()
    dates = _checked_dates(checks, date_raw, match.source_of("date"), options, state, required=True)
    checks.flag(name.isna(), match.source_of("name"), None, "missing name")
    checks.flag(~kind.isin(EVENT_KINDS), match.source_of("kind"), kind, "kind must be holiday or promo")
    _flag_duplicates(checks, state)
    line_key = state.line_keys([date_raw, name, kind])
    good = pd.DataFrame({"date": dates.dt.date, "name": name, "kind": kind, "line_key": line_key})[~checks.bad]
    return Prepared(good, _problems(frame, checks, line_key))


PREPARERS = {
    "sales": _prepare_sales,
    "products": partial(_prepare_catalog, kind="products"),
    "candidates": partial(_prepare_catalog, kind="candidates"),
    "reviews": _prepare_reviews,
    "events": _prepare_events,
}


def _flag_duplicates(checks: RowChecks, state: FileState) -> None:
    """Quarantine exact repeats of an earlier line, unless the workspace keeps them (the default)."""
    if state.keep_duplicates:
        return
    repeat = state.duplicate_of.notna().reindex(checks.reason.index, fill_value=False).astype(bool)
    checks.flag(repeat, None, "same as row " + state.duplicate_of.astype(str), "exact duplicate line")


def date_options(mapping: Mapping, dayfirst: bool | None, default: bool | None) -> dict:
    """Reading options with the date order made explicit: asked for this file (flag, then mapping) or defaulted."""
    options = dict(mapping.options)
    if dayfirst is not None:
        options["dayfirst"], options["asked_by"] = dayfirst, "--dayfirst" if dayfirst else "--monthfirst"
    elif "dayfirst" in options:
        options["dayfirst"] = bool(options["dayfirst"])
        options["asked_by"] = f"dayfirst = {str(options['dayfirst']).lower()} in {mapping.path}"
    if default is not None:
        options["default"], options["default_by"] = default, f"[store] dayfirst = {str(default).lower()}"
    return options


def _date_order(values: pd.Series, key: str, options: dict, state: FileState) -> DateOrder:
    """The column's order: decided from the first chunk that has dates, then kept for the whole file."""
    if key in state.date_orders:
        return state.date_orders[key]
    order = decide_date_order(values, dayfirst=options.get("dayfirst"), asked_by=options.get("asked_by", ""),
                              default=options.get("default"), default_by=options.get("default_by", ""),
                              fmt=options.get("date_format"))
    if order.ambiguous is not None:
        raise InputError(
            f"{state.path}: every date in column {key!r} reads both day-first and month-first "
            f"(e.g. {order.ambiguous!r}), so nextdrop will not guess. Say which: "
            f"`nextdrop ingest {state.kind} {state.path} --dayfirst` (or `--monthfirst`), "
            "or `dayfirst = true` under [options] in a --mapping file, "
            "or `dayfirst = true` under [store] in nextdrop.toml for every file")
    if not blank(values).all():
        state.date_orders[key] = order
    return order


def _checked_dates(checks: RowChecks, values: pd.Series, source: str | None, options: dict, state: FileState, *,
                   label: str = "date", required: bool = False, where: pd.Series | None = None) -> pd.Series:
    """Parse a date column in the file's one order for it, flagging missing, misfit and unparseable cells."""
    order = _date_order(values, source or label, options, state)
    dates, bad, other_way = parse_dates(values, order)
    scope = where if where is not None else pd.Series(True, index=values.index)
    if required:
        checks.flag(scope & blank(values), source, None, f"missing {label}")
    checks.flag(scope & other_way, source, values,
                f"{label} does not fit the file's {order.order or 'year-month-day'} dates")
    checks.flag(scope & bad, source, values, f"unparseable {label}")
    return dates


# --- column helpers ---------------------------------------------------------------------------------


def _column(frame: pd.DataFrame, match: ColumnMatch, name: str) -> pd.Series:
    """The source column for a field, its mapped default, or an empty column."""
    source = match.source_of(name)
    if source is not None:
        return frame[source]
    if name in match.defaults:
        return pd.Series(str(match.defaults[name]), index=frame.index, dtype=object)
    return pd.Series("", index=frame.index, dtype=object)


def _text(frame: pd.DataFrame, match: ColumnMatch, name: str) -> pd.Series:
    return clean_text(_column(frame, match, name))


def _coalesced(frame: pd.DataFrame, match: ColumnMatch, name: str) -> pd.Series:
    """First non-empty value over all the columns that alias ``name`` (SKU, then Handle, ...)."""
    values = _text(frame, match, name)
    for source in match.sources.get(name, [])[1:]:
        values = values.fillna(clean_text(frame[source]))
    return values


def _date_text(frame: pd.DataFrame, match: ColumnMatch) -> pd.Series:
    """The date column, joined with a separate time column when the file has one (bakery tills do)."""
    dates = _column(frame, match, "date")
    if match.source_of("time") and not pd.api.types.is_datetime64_any_dtype(dates):
        times = clean_text(frame[match.source_of("time")]).fillna("")
        joined = (dates.astype(str).str.strip() + " " + times).str.strip()
        return joined.where(~blank(dates), "")
    return dates


def _attributes(frame: pd.DataFrame, match: ColumnMatch) -> pd.Series:
    """Attributes as JSON text: an attributes column, Shopify/Woo option pairs, and tags."""
    parts: list[pd.Series] = []
    for name_col, value_col in match.attribute_pairs:
        names, values = clean_text(frame[name_col]), clean_text(frame[value_col])
        keep = names.notna() & values.notna() & (values != "Default Title")
        parts.append(pd.Series([{n.lower(): v} if k else {} for n, v, k in zip(names, values, keep, strict=True)],
                               index=frame.index))
    source = match.source_of("attributes")
    if source is not None:
        parts.append(clean_text(frame[source]).map(lambda cell: _attribute_cell(cell) if cell else {}))
    if not parts:
        return pd.Series(None, index=frame.index, dtype=object)
    merged = [dict(pair for d in row for pair in d.items()) for row in zip(*parts, strict=True)]
    return pd.Series([json.dumps(d, ensure_ascii=False, sort_keys=True) if d else None for d in merged],
                     index=frame.index)


def _attribute_cell(text: str) -> dict:
    """A JSON object, ``key: value; key: value`` pairs, or a comma-separated tag list."""
    if text.startswith("{"):
        try:
            value = json.loads(text)
            return value if isinstance(value, dict) else {"tags": text}
        except json.JSONDecodeError:
            pass
    pairs = [p.split(":", 1) for p in re.split(r"[;|]", text) if ":" in p]
    if pairs:
        return {k.strip().lower(): v.strip() for k, v in pairs}
    return {"tags": text}


def _fill_by_group(values: pd.Series, groups: pd.Series) -> pd.Series:
    """Fill empty cells from the first non-empty one of the same group."""
    first = values.groupby(groups).transform("first")
    return values.fillna(first)


def _variant_titles(title: pd.Series, frame: pd.DataFrame, match: ColumnMatch) -> pd.Series:
    """Shopify variants share a title: append their option values so each product reads apart."""
    if not match.attribute_pairs:
        return title
    options = [clean_text(frame[value_col]).replace("Default Title", None) for _, value_col in match.attribute_pairs]
    suffix = pd.concat(options, axis=1).apply(lambda r: " / ".join(v for v in r if v), axis=1)
    return title.where(suffix == "", title + " - " + suffix)


TAG = re.compile(r"<[^>]+>")


def strip_html(text: str) -> str:
    """Plain text from a Shopify ``Body (HTML)`` cell; entities decoded, white space folded."""
    if "<" not in text and "&" not in text:
        return text
    return re.sub(r"\s+", " ", html.unescape(TAG.sub(" ", text))).strip()


def _hash_values(values: pd.Series, salt: str) -> pd.Series:
    """Salted SHA-256 of each distinct value (customer ids never reach the store in the clear)."""
    distinct = values.dropna().unique()
    table = {v: hashlib.sha256(f"{salt}:{v}".encode()).hexdigest()[:20] for v in distinct}
    return values.map(table)


# --- quarantine ------------------------------------------------------------------------------------


def _problems(frame: pd.DataFrame, checks: RowChecks, line_key: pd.Series) -> pd.DataFrame:
    bad = checks.bad
    rows = frame[bad]
    raw = [json.dumps({str(k): _jsonable(v) for k, v in rec.items()}, ensure_ascii=False)
           for rec in rows.to_dict(orient="records")]
    return pd.DataFrame({
        "row": rows.index.to_numpy(dtype=np.int64), "column": checks.column[bad].to_numpy(),
        "value": checks.value[bad].to_numpy(), "reason": checks.reason[bad].to_numpy(), "raw": raw,
        "line_key": line_key[bad].to_numpy(dtype=np.uint64),
    })


def _jsonable(value: object) -> object:
    if isinstance(value, float) and np.isnan(value):
        return None
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)


def _broken_rows(raw: RawTable, state: FileState) -> pd.DataFrame:
    """Rows the CSV reader could not split, as quarantine entries."""
    rows = raw.broken_rows
    keys = state.line_keys([pd.Series([text for _, text, _ in rows], dtype=object)])
    return pd.DataFrame({
        "row": [r for r, _, _ in rows], "column": [None] * len(rows), "value": [t[:200] for _, t, _ in rows],
        "reason": [why for _, _, why in rows], "raw": [json.dumps({"line": t}) for _, t, _ in rows],
        "line_key": pd.Series(keys, dtype=np.uint64),
    })


def _store_problems(con: duckdb.DuckDBPyConnection, ingest_id: int, kind: str, file: str,
                    problems: pd.DataFrame) -> None:
    if problems.empty:
        return
    con.register("incoming_problems", problems)
    con.execute(
        'INSERT INTO quarantine SELECT ?, ?, ?, "row", "column", value, reason, raw, line_key '
        "FROM incoming_problems", [ingest_id, kind, file])
    con.unregister("incoming_problems")


def _write_quarantine_csv(ws: Workspace, ingest_id: int, kind: str, source: Path, problems: pd.DataFrame) -> Path:
    path = ws.quarantine_dir / f"{ingest_id:04d}-{kind}-{source.name.split('.')[0]}.csv"
    out = problems.drop(columns=["line_key"]).assign(file=str(source))
    atomic_write(path, out[["file", "row", "column", "value", "reason", "raw"]].to_csv(index=False))
    return path


# --- writing ---------------------------------------------------------------------------------------


def _new_rows(con: duckdb.DuckDBPyConnection, table: str, rows: pd.DataFrame, where: str = "true") -> pd.DataFrame:
    """The rows whose line_key ``table`` does not hold yet."""
    if rows.empty:
        return rows
    con.register("incoming_keys", rows[["line_key"]])
    present = con.execute(
        f"SELECT line_key FROM {table} WHERE {where} AND line_key IN (SELECT line_key FROM incoming_keys)"
    ).fetchnumpy()["line_key"]
    con.unregister("incoming_keys")
    return rows[~rows["line_key"].isin(present)] if len(present) else rows


def _append_new(con: duckdb.DuckDBPyConnection, table: str, rows: pd.DataFrame, ingest_id: int) -> pd.DataFrame:
    """Append the rows not stored before; return them."""
    new = _new_rows(con, table, rows)
    if not new.empty:
        columns = [c for c in new.columns if c != "line_key"]
        con.register("incoming_rows", new)
        con.execute(
            f"INSERT INTO {table} ({', '.join(columns)}, ingest_id, line_key) "
            f"SELECT {', '.join(columns)}, ?, line_key FROM incoming_rows", [ingest_id])
        con.unregister("incoming_rows")
    return new


def _upsert_catalog(con: duckdb.DuckDBPyConnection, kind: str, rows: pd.DataFrame) -> tuple[int, int]:
    """Insert or update catalog rows by id; return (added or changed, already identical)."""
    if rows.empty:
        return 0, 0
    columns = TABLE_COLUMNS[kind]
    con.register("incoming_catalog", rows)
    cast = ", ".join(f"{c}::VARCHAR" for c in columns)
    unchanged = scalar(
        con, f"SELECT count(*) FROM (SELECT {cast} FROM incoming_catalog INTERSECT SELECT {cast} FROM {kind})"
    )
    extra = ", derived" if kind == "products" else ""
    extra_value = ", false" if kind == "products" else ""
    con.execute(
        f"INSERT OR REPLACE INTO {kind} ({', '.join(columns)}{extra}) "
        f"SELECT {', '.join(columns)}{extra_value} FROM incoming_catalog"
    )
    con.unregister("incoming_catalog")
    return len(rows) - unchanged, unchanged


def derive_products(con: duckdb.DuckDBPyConnection) -> int:
    """Make or refresh catalog rows for products known only from sales; return how many are new.

    Title is the most frequent description on the product's lines, launch date
    the first sale, price the median positive unit price. Products from a
    product file (``derived = false``) are never overwritten.
    """
    before = scalar(con, "SELECT count(*) FROM products")
    con.execute("""
        INSERT OR REPLACE INTO products (product_id, title, description, category, price, cost, launch_date,
                                         attributes, derived)
        WITH texts AS (
            SELECT product_id, description, count(*) AS n FROM sales
            WHERE description IS NOT NULL GROUP BY ALL
        ), titles AS (
            SELECT product_id, arg_max(description, n * 1e6 - length(description)) AS title FROM texts GROUP BY ALL
        ), stats AS (
            SELECT product_id, min(date)::DATE AS first_sale,
                   median(unit_price) FILTER (WHERE unit_price > 0 AND NOT is_return) AS price
            FROM sales GROUP BY ALL
        )
        SELECT s.product_id, coalesce(t.title, s.product_id), NULL, NULL, s.price, NULL, s.first_sale, NULL, true
        FROM stats s LEFT JOIN titles t USING (product_id)
        WHERE s.product_id NOT IN (SELECT product_id FROM products WHERE NOT derived)
    """)
    return scalar(con, "SELECT count(*) FROM products") - before


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
