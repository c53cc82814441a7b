"""Sales lines to a dense panel of per-period units: the one input every forecaster reads.

A panel is a matrix (series x periods) with zeros where nothing sold, plus the
period each series first sold in. Returns net against sales within a period and
a period never goes below zero. Periods before a series' first sale are not
history (the product did not exist yet) and models must ignore them. A panel
built from sales lines also counts the lines sold per period and the sum of
their squared quantities: how often orders come and how big they are, which the
global model reads (lumpy wholesale demand is a few big orders, not a level).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from nextdrop.errors import InputError, SettingsError

# bucket setting -> (pandas period frequency, season length in periods)
BUCKETS: dict[str, tuple[str, int]] = {"W": ("W-SUN", 52), "D": ("D", 7), "M": ("M", 12)}


def bucket_spec(bucket: str) -> tuple[str, int]:
    """The period frequency and season length of a ``forecast.bucket`` setting."""
    try:
        return BUCKETS[bucket.upper()]
    except KeyError:
        raise SettingsError(
            f"setting forecast.bucket = {bucket!r} is not one of {', '.join(BUCKETS)}; fix it in nextdrop.toml"
        ) from None


@dataclass(frozen=True)
class Panel:
    """Units per series and period; ``first[i]`` is the index of series i's first sale.

    ``lines`` and ``squares`` are None when the panel was not built from sales lines.
    """

    ids: np.ndarray  # (n,) series ids (str)
    periods: pd.DatetimeIndex  # (T,) period start dates
    values: np.ndarray  # (n, T) float units, >= 0
    first: np.ndarray  # (n,) int; T when the series never sold
    bucket: str = "W"
    lines: np.ndarray | None = None  # (n, T) sales lines with a positive quantity (orders)
    squares: np.ndarray | None = None  # (n, T) sum of those lines' squared quantities

    @property
    def season_length(self) -> int:
        return bucket_spec(self.bucket)[1]

    def __len__(self) -> int:
        return len(self.ids)

    def head(self, t: int) -> Panel:
        """The panel as it was known after ``t`` periods (a backtest origin)."""
        first = np.minimum(self.first, t)
        return Panel(self.ids, self.periods[:t], self.values[:, :t], first, self.bucket,
                      _cut(self.lines, slice(None), slice(None, t)), _cut(self.squares, slice(None), slice(None, t)))

    def subset(self, mask: np.ndarray) -> Panel:
        """Only the series where ``mask`` is true."""
        return Panel(self.ids[mask], self.periods, self.values[mask], self.first[mask], self.bucket,
                     _cut(self.lines, mask, slice(None)), _cut(self.squares, mask, slice(None)))

    def since_first(self, start: int = 0) -> np.ndarray:
        """Mask (n, T - ``start``) of the periods from ``start`` on that are at or after each series' first sale."""
        return np.arange(start, self.values.shape[1])[None, :] >= self.first[:, None]

    def future_periods(self, h: int) -> pd.DatetimeIndex:
        """The ``h`` period starts after the panel ends."""
        freq = bucket_spec(self.bucket)[0]
        last = pd.Period(self.periods[-1], freq=freq)
        return pd.DatetimeIndex([(last + k).start_time for k in range(1, h + 1)])


def _cut(array: np.ndarray | None, rows: slice | np.ndarray, columns: slice) -> np.ndarray | None:
    return None if array is None else array[rows][:, columns]


def period_start(dates: pd.Series, bucket: str) -> pd.Series:
    """The start of the period each date falls in (Monday for weekly buckets)."""
    return pd.to_datetime(dates).dt.to_period(bucket_spec(bucket)[0]).dt.start_time


def panel_periods(first_date: pd.Timestamp, last_date: pd.Timestamp, bucket: str,
                  end: pd.Timestamp | None = None, complete_only: bool = True) -> pd.DatetimeIndex:
    """Start dates of the periods from the first sale's to the last complete one (or ``end``'s)."""
    freq = bucket_spec(bucket)[0]
    last_period = pd.Period(last_date, freq=freq)
    if complete_only and end is None and pd.Timestamp(last_date).normalize() < last_period.end_time.normalize():
        last_period = last_period - 1
    if end is not None:
        last_period = pd.Period(end, freq=freq)
    periods = pd.period_range(pd.Period(first_date, freq=freq), last_period, freq=freq).start_time
    if len(periods) == 0:
        span = f"{pd.Timestamp(first_date):%Y-%m-%d} to {pd.Timestamp(last_date):%Y-%m-%d}"
        raise InputError(f"the sales run from {span}: not one complete forecast period (forecast.bucket = "
                         f"{bucket!r}); ingest more sales or choose a shorter bucket in nextdrop.toml")
    return periods


def build_panel(
    sales: pd.DataFrame,
    bucket: str = "W",
    end: pd.Timestamp | None = None,
    ids: list[str] | None = None,
    complete_only: bool = True,
) -> Panel:
    """Aggregate ``date, product_id, quantity`` lines into a panel.

    ``end`` caps the panel at the period containing it; ``complete_only`` drops
    a last period that the data does not cover to its end, since a half week
    looks like a collapse in demand. ``ids`` fixes the series and their order.
    """
    lines = sales[["date", "product_id", "quantity"]].copy()
    lines["date"] = pd.to_datetime(lines["date"])
    if end is not None:
        lines = lines[lines["date"] <= end]
    if lines.empty:
        raise ValueError("no sales lines to forecast from")
    periods = panel_periods(lines["date"].min(), lines["date"].max(), bucket, end, complete_only)
    lines["period"] = period_start(lines["date"], bucket)
    lines["product_id"] = lines["product_id"].astype(str)
    sold = lines["quantity"] > 0
    lines = lines.assign(line=sold.astype(float), square=np.where(sold, lines["quantity"].astype(float) ** 2, 0.0))
    totals = lines.groupby(["product_id", "period"], as_index=False).agg(
        units=("quantity", "sum"), lines=("line", "sum"), squares=("square", "sum"))
    return panel_from_totals(totals, periods, bucket, ids)


def panel_from_totals(totals: pd.DataFrame, periods: pd.DatetimeIndex, bucket: str,
                      ids: list[str] | None = None) -> Panel:
    """A panel from ``product_id, period, units, lines, squares``: one row per product and period with a line.

    ``period`` is the period's start date; ``lines`` and ``squares`` count only lines with a positive
    quantity; a period's net units below zero (more returned than sold) count as zero. A product's
    first period is that of its first line. Periods after ``periods`` are left out.
    """
    totals = totals[totals["period"] <= periods[-1]]
    # numpy indexing, not a pandas pivot: a 50M-line store has ten million (product, period) rows
    codes, products = pd.factorize(totals["product_id"].astype(str), sort=True)
    index = pd.Index([str(i) for i in ids]) if ids is not None else pd.Index(products)
    rows = index.get_indexer(products)[codes]  # -1: a product left out by ``ids``
    cols = periods.get_indexer(totals["period"])
    keep = rows >= 0
    rows, cols = rows[keep], cols[keep]
    values, counts, squares = (np.zeros((len(index), len(periods))) for _ in range(3))
    for array, column in ((values, "units"), (counts, "lines"), (squares, "squares")):
        array[rows, cols] = totals[column].to_numpy(dtype=float)[keep]
    first = np.full(len(index), len(periods))
    np.minimum.at(first, rows, cols)
    return Panel(index.to_numpy(dtype=str), periods, np.maximum(values, 0.0), first, bucket, counts, squares)


def aggregate(panel: Panel, groups: np.ndarray) -> Panel:
    """Sum series into groups (categories): a group starts when its first member does."""
    frame = pd.DataFrame(panel.values).groupby(groups).sum()
    first = pd.Series(panel.first).groupby(groups).min().reindex(frame.index)
    lines, squares = (
        None if array is None else pd.DataFrame(array).groupby(groups).sum().reindex(frame.index).to_numpy(dtype=float)
        for array in (panel.lines, panel.squares)
    )
    return Panel(frame.index.to_numpy(dtype=str), panel.periods, frame.to_numpy(dtype=float),
                 first.to_numpy(dtype=int), panel.bucket, lines, squares)
