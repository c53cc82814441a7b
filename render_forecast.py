"""Rich rendering for ``nextdrop forecast`` and ``nextdrop backtest`` (kept out of ``cli.py``)."""

from __future__ import annotations

import math

from rich.console import Console
from rich.table import Table

from nextdrop.tools.forecast_store import SeriesView
from nextdrop.tools.newproduct import NewProductForecast


def _num(value: float) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:,.1f}"


def _metric(value: float | None) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.3f}"


def series_view(console: Console, view: SeriesView) -> None:
    """Per-period forecast with 80% / 95% intervals, the chosen model and its backtest error."""
    f = view.forecast
    table = Table(title=view.title)
    for column in ("period", "forecast", "80% interval", "95% interval"):
        table.add_column(column, justify="right" if column != "period" else "left")
    for k, period in enumerate(f.periods):
        table.add_row(str(period.date()), _num(f.mean[k]), f"{_num(f.lower[80][k])} - {_num(f.upper[80][k])}",
                      f"{_num(f.lower[95][k])} - {_num(f.upper[95][k])}")
    console.print(table)
    if math.isnan(f.backtest_mae):
        how = f"Model [bold]{f.model}[/], the default: too little history to backtest. "
    else:
        how = (f"Model [bold]{f.model}[/], chosen by rolling-origin backtest: mean absolute error "
               f"{_num(f.backtest_mae)} units per period (MASE {_num(f.backtest_mase)}). ")
    console.print(f"{how}Last 8 periods sold {view.history.iloc[-8:].sum():,.0f} units; "
                  f"forecast {f.mean.sum():,.0f} for the next {len(f.periods)}.")
    if f.note:
        console.print(f"Note: {f.note}")
    if view.incomplete:
        console.print(f"Note: {view.incomplete}")


def launch_forecast(console: Console, result: NewProductForecast) -> None:
    """A candidate's launch curve, its interval and confidence, and the analogs it came from."""
    p = result.product
    console.print(f"[bold]{p.title}[/] ({p.category or 'no category'}, price {_num(p.price)}) launching "
                  f"{result.periods[0].date()}: [bold]{result.total:,.0f}[/] units in {len(result.periods)} "
                  f"periods (80%: {result.lower[80]:,.0f}-{result.upper[80]:,.0f}, "
                  f"95%: {result.lower[95]:,.0f}-{result.upper[95]:,.0f}); confidence {result.confidence:.2f}")
    console.print(f"How: {result.method} - {result.note}")
    curve = Table(title="Launch curve")
    curve.add_column("period")
    curve.add_column("units", justify="right")
    for period, units in zip(result.periods, result.mean, strict=True):
        curve.add_row(str(period.date()), _num(units))
    console.print(curve)
    if result.analogs:
        table = Table(title="Analogs (past launches)")
        for column in ("id", "title", "similarity", "launched", "first units", "adjusted", "weight"):
            table.add_column(column, justify="left" if column in ("id", "title") else "right")
        for a in result.analogs:
            table.add_row(a.id, a.title, f"{a.similarity:.2f}", str(a.launch.date()), _num(a.units),
                          _num(a.adjusted_units), f"{a.weight:.2f}")
        console.print(table)


def backtest_report(console: Console, report: dict, title: str) -> None:
    """The methods side by side: WAPE, MASE, Spearman, seconds."""
    table = Table(title=f"{title} ({report['n']} series, {report['seconds']} s)")
    for column in ("method", "WAPE", "MASE", "Spearman", "seconds"):
        table.add_column(column, justify="left" if column == "method" else "right")
    for name, m in report["methods"].items():
        table.add_row(name, *(_metric(m[k]) for k in ("wape", "mase", "spearman")), _num(m["seconds"]))
    console.print(table)
    console.print("Lower WAPE / MASE is better; Spearman: how well each method ranks what sold most.")
