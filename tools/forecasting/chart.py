"""The forecast chart: history, forecast and intervals (and a candidate's analog curves).

One function per kind of forecast, writing a PNG, SVG or PDF (by suffix) atomically;
the HTML reports of later issues embed the same figures.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from nextdrop.store.files import atomic_file, check_format
from nextdrop.tools.forecasting.forecast import SeriesForecast
from nextdrop.tools.forecasting.newproduct import NewProductForecast

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

FORMATS = (".png", ".svg", ".pdf")


def _figure() -> tuple[Figure, Axes]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(9, 4), dpi=110)


def _save(fig: Figure, path: Path) -> None:
    """Write the figure in the format its suffix names, through a temp file (never half a chart)."""
    import matplotlib.pyplot as plt

    fmt = check_format(path, FORMATS).suffix.lower()[1:]
    try:
        with atomic_file(path) as handle:
            fig.savefig(handle, format=fmt)
    finally:
        plt.close(fig)


def series_chart(forecast: SeriesForecast, history: pd.Series, path: Path, title: str) -> Path:
    """History (last two years), the forecast line and its 80% / 95% bands."""
    fig, ax = _figure()
    recent = history.iloc[-104:]
    ax.plot(recent.index, recent.to_numpy(), color="#444", lw=1.2, label="history")
    ax.fill_between(forecast.periods, forecast.lower[95], forecast.upper[95], color="#1f77b4", alpha=0.15,
                    label="95% interval")
    ax.fill_between(forecast.periods, forecast.lower[80], forecast.upper[80], color="#1f77b4", alpha=0.3,
                    label="80% interval")
    ax.plot(forecast.periods, forecast.mean, color="#1f77b4", lw=2, label=f"forecast ({forecast.model})")
    ax.set_title(title)
    ax.set_ylabel("units")
    ax.legend(loc="upper left", fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    _save(fig, path)
    return path


def launch_chart(forecast: NewProductForecast, path: Path) -> Path:
    """The launch curve against its analogs' own first weeks (aligned at launch)."""
    fig, ax = _figure()
    steps = np.arange(1, len(forecast.mean) + 1)
    for analog in forecast.analogs:
        ax.plot(steps, analog.curve, color="#999", lw=0.8, alpha=0.6)
    ax.plot([], [], color="#999", lw=0.8, label="analogs (own launch)")
    ax.plot(steps, forecast.mean, color="#d62728", lw=2.2, label=f"forecast ({forecast.method})")
    ax.set_xlabel("period since launch")
    ax.set_ylabel("units")
    ax.set_title(f"{forecast.product.title}: {forecast.total:.0f} units in {len(steps)} periods "
                 f"(80%: {forecast.lower[80]:.0f}-{forecast.upper[80]:.0f})")
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    _save(fig, path)
    return path
