"""What the HTML reports share: one Jinja2 environment over ``templates/`` and the geometry of their charts.

Every report page extends ``templates/base.html``, which holds the one stylesheet and the
SVG chart macros (``line_chart``, ``bar_chart``). The functions here only compute the
coordinates those macros draw, so the plan's forecasts and the dedup report's histogram
look alike, and a page needs no plotting library, script or network to show them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from jinja2 import Environment


@cache
def _environment() -> Environment:
    from jinja2 import Environment, PackageLoader, select_autoescape  # only when a page is written: start-up

    return Environment(loader=PackageLoader("nextdrop.render", "templates"), autoescape=select_autoescape(["html"]))


def page(template: str, **context: object) -> str:
    """One self-contained page from ``template`` (which extends ``base.html``), stamped with when it was made."""
    return _environment().get_template(template).render(generated=f"{datetime.now():%Y-%m-%d %H:%M}", **context)


def line_chart(main: np.ndarray, lower: np.ndarray | None = None, upper: np.ndarray | None = None,
               others: list[np.ndarray] | None = None, labels: list[str] | None = None, label: str = "",
               width: int = 320, height: int = 140) -> dict:
    """Coordinates for the templates' ``line_chart`` macro: a line, an optional band, grey lines behind."""
    others = others or []
    series = [main, *others] + ([upper] if upper is not None else [])
    top = max(max((float(np.max(s)) for s in series if len(s)), default=1.0), 1e-9)
    left, bottom, plot_h = 4, height - 14, height - 30
    n = max(len(main), 2)

    def x(k: int) -> float:
        return left + (width - left - 4) * k / (n - 1)

    def y(v: float) -> float:
        return bottom - plot_h * max(v, 0.0) / top

    def path(values: np.ndarray) -> str:
        return " ".join(f"{'M' if k == 0 else 'L'}{x(k):.1f},{y(v):.1f}" for k, v in enumerate(values))

    band = ""
    if lower is not None and upper is not None:
        band = path(upper) + " " + " ".join(f"L{x(k):.1f},{y(v):.1f}" for k, v in reversed(list(enumerate(lower))))
        band += " Z"
    ticks = [(round(x(k), 1), text) for k, text in enumerate(labels or []) if k % 2 == 0]
    return {"width": width, "height": height, "left": left, "bottom": bottom, "band": band, "main": path(main),
            "others": [path(o[:n]) for o in others], "x_labels": ticks, "top_label": f"{top:,.0f}", "label": label}


def bar_chart(edges: Sequence[float], stacks: Mapping[str, np.ndarray], colours: Mapping[str, str], *,
              marker: float | None = None, marker_label: str = "", x_ticks: Sequence[float] = (),
              x_title: str = "", y_title: str = "", label: str = "", width: int = 900, height: int = 280) -> dict:
    """Coordinates for the templates' ``bar_chart`` macro: counts per bin, stacked in the order of ``stacks``.

    ``stacks[name][i]`` counts what falls between ``edges[i]`` and ``edges[i + 1]``. The count
    axis is logarithmic, so a few dozen of one kind stay visible beside thousands of another;
    a count of 1 still shows. ``marker`` draws a dashed line at that value (a threshold).
    """
    left, right, top, bottom = 58.0, width - 8.0, 22.0, height - 32.0
    totals = np.sum([np.asarray(c, dtype=float) for c in stacks.values()], axis=0)
    decades = max(1, math.ceil(math.log10(max(float(totals.max(initial=0.0)), 1.0))))
    floor = math.log10(0.5)  # the axis starts below 1, so a bin with one pair has a bar

    def x(value: float) -> float:
        return left + (right - left) * (value - edges[0]) / (edges[-1] - edges[0])

    def y(count: float) -> float:
        return bottom - (bottom - top) * (math.log10(max(count, 0.5)) - floor) / (decades - floor)

    bars, below = [], np.zeros(len(edges) - 1)
    for name, counts in stacks.items():
        for i, n in enumerate(np.asarray(counts, dtype=float)):
            if n > 0:
                x0, x1, y0, y1 = x(edges[i]), x(edges[i + 1]), y(below[i]), y(below[i] + n)
                bars.append({"x": round(x0 + 0.5, 1), "y": round(y1, 1), "width": round(x1 - x0 - 1, 1),
                             "height": round(y0 - y1, 1), "colour": colours[name],
                             "title": f"{name}, {edges[i]:.3f} to {edges[i + 1]:.3f}: {n:,.0f}"})
        below = below + np.asarray(counts, dtype=float)
    legend, at = [], right
    for name in reversed(list(stacks)):  # right-aligned above the plot, in stacking order
        at -= 24 + 7 * len(name)
        legend.insert(0, {"name": name, "colour": colours[name], "x": round(at, 1)})
    return {
        "width": width, "height": height, "left": left, "right": right, "top": top, "bottom": bottom,
        "bars": bars, "legend": legend, "label": label,
        "y_labels": [(round(y(10**k), 1), f"{10**k:,}") for k in range(decades + 1)],
        "x_labels": [(round(x(t), 1), f"{t:.1f}") for t in x_ticks],
        "marker": None if marker is None else {"x": round(x(marker), 1), "label": marker_label},
        "x_title": x_title, "y_title": y_title, "middle_x": round((left + right) / 2, 1),
        "middle_y": round((top + bottom) / 2, 1),
    }
