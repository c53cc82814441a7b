"""Rich rendering for ``nextdrop forecast`` and ``nextdrop backtest`` (kept out of ``cli.py``)."""

from __future__ import annotations

import math

from rich.console import Console
from rich.table import Table

from nextdrop.tools.forecasting.newproduct import NewProductForecast
from nextdrop.tools.forecasting.workspace import SeriesView


def _num(value: float) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:,.1f}"


def _price(value: float | None) -> str:
    """A price as the merchant gave it: 4.95, never a rounded 5.0."""
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:,.2f}"


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
               f"{_num(f.backtest_mae)} units per period (MASE {f.backtest_mase:.2f}"
               + (", [bold yellow]worse than a naive forecast[/]" if f.backtest_mase > 1 else "") + "). ")
    console.print(f"{how}Last 8 periods sold {view.history.iloc[-8:].sum():,.0f} units; "
                  f"forecast {f.mean.sum():,.0f} for the next {len(f.periods)}.")
    if f.note:
        console.print(f"Note: {f.note}")
    if view.incomplete:
        console.print(f"Note: {view.incomplete}")


def launch_forecast(console: Console, result: NewProductForecast) -> None:
    """A candidate's launch curve, its interval and confidence, and the analogs it came from."""
    p = result.product
    console.print(f"[bold]{p.title}[/] ({p.category or 'no category'}, price {_price(p.price)}) launching "
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


def _finite(value: float) -> float | None:
    """JSON has no NaN: an unknown figure is null."""
    return None if value is None or math.isnan(value) else round(float(value), 3)


def series_json(view: SeriesView) -> dict:
    """``nextdrop forecast ID --json`` (and ``--category``): the stable shape documented in the README."""
    f = view.forecast
    return {
        "id": f.id, "title": view.title, "kind": "category" if view.title.startswith("Category") else "product",
        "periods": [f"{p:%Y-%m-%d}" for p in f.periods], "forecast": [_finite(v) for v in f.mean],
        **{f"{side}_{level}": [_finite(v) for v in bounds[level]]
           for side, bounds in (("lower", f.lower), ("upper", f.upper)) for level in (80, 95)},
        "model": f.model, "mase": _finite(f.backtest_mase), "mae": _finite(f.backtest_mae),
        "notes": [n for n in (f.note, view.incomplete) if n],
    }


def launch_json(result: NewProductForecast) -> dict:
    """``nextdrop forecast --candidate ID --json``: the same keys; the bounds per period follow the curve."""
    p = result.product
    share = result.mean / result.total if result.total > 0 else result.mean * 0.0
    return {
        "id": p.id, "title": p.title, "kind": "candidate", "category": p.category, "price": p.price,
        "periods": [f"{d:%Y-%m-%d}" for d in result.periods], "forecast": [_finite(v) for v in result.mean],
        **{f"{side}_{level}": [_finite(v * bounds[level]) for v in share]
           for side, bounds in (("lower", result.lower), ("upper", result.upper)) for level in (80, 95)},
        "model": result.method, "mase": None, "total": _finite(result.total),
        "total_interval": {str(level): [_finite(result.lower[level]), _finite(result.upper[level])]
                           for level in (80, 95)},
        "confidence": result.confidence, "notes": [result.note] if result.note else [],
        "analogs": [{"id": a.id, "title": a.title, "similarity": round(a.similarity, 3), "weight": round(a.weight, 3),
                     "launched": f"{a.launch:%Y-%m-%d}", "units": _finite(a.units)} for a in result.analogs],
    }
