"""What a workspace holds: counts, date range, categories, quarantine, top sellers, recent launches.

One result object, rendered by the CLI and given as JSON by ``status --json``
(:meth:`StoreStatus.to_json`, whose shape the README documents).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import duckdb

from nextdrop.store.db import scalar
from nextdrop.store.workspace import Workspace

TABLES = ("products", "sales", "candidates", "reviews", "events", "non_product_lines")
TOP = 10  # top sellers and recent launches shown
JSON_VERSION = 1  # bump when a key of status --json changes meaning or goes away

# Per product with sales: units net of returns (a return line counts against its product whatever its sign),
# net revenue, and the first sale, which is the launch date as the sales show it.
PRODUCT_TOTALS = """
    SELECT s.product_id, coalesce(p.title, s.product_id) AS title,
           sum(CASE WHEN s.is_return THEN -abs(s.quantity) ELSE s.quantity END) AS units,
           sum(CASE WHEN s.is_return THEN -abs(s.quantity) ELSE s.quantity END * s.unit_price) AS revenue,
           min(s.date)::DATE AS first_sale
    FROM sales s LEFT JOIN products p USING (product_id)
    GROUP BY ALL
"""


@dataclass
class ProductLine:
    """One product in a status list: its title, units net of returns, net revenue and first sale."""

    product_id: str
    title: str
    units: float
    revenue: float | None
    first_sale: date


@dataclass
class StoreStatus:
    """A snapshot of the store for ``nextdrop status`` (and, later, the agent)."""

    workspace: str
    counts: dict[str, int]
    returns: int
    derived_products: int
    first_sale: date | None
    last_sale: date | None
    categories: list[tuple[str, int]]
    quarantine: list[tuple[str, str, int]] = field(default_factory=list)  # kind, reason, rows
    non_product: list[tuple[str, int]] = field(default_factory=list)
    ingests: int = 0
    top_sellers: list[ProductLine] = field(default_factory=list)  # most units net of returns, best first
    recent_launches: list[ProductLine] = field(default_factory=list)  # latest first sale first

    def to_json(self) -> dict[str, Any]:
        """The documented ``status --json`` shape: plain JSON types, dates as ISO strings."""
        def product(p: ProductLine) -> dict[str, Any]:
            return {**asdict(p), "first_sale": p.first_sale.isoformat()}

        return {
            "version": JSON_VERSION,
            "workspace": self.workspace,
            "counts": self.counts,
            "returns": self.returns,
            "derived_products": self.derived_products,
            "first_sale": self.first_sale.isoformat() if self.first_sale else None,
            "last_sale": self.last_sale.isoformat() if self.last_sale else None,
            "categories": [{"category": c, "products": n} for c, n in self.categories],
            "quarantine": [{"table": k, "reason": r, "rows": n} for k, r, n in self.quarantine],
            "set_aside": [{"reason": r, "lines": n} for r, n in self.non_product],
            "ingests": self.ingests,
            "top_sellers": [product(p) for p in self.top_sellers],
            "recent_launches": [product(p) for p in self.recent_launches],
        }


def _product_lines(con: duckdb.DuckDBPyConnection, order: str) -> list[ProductLine]:
    rows = con.execute(f"SELECT * FROM ({PRODUCT_TOTALS}) ORDER BY {order}, product_id LIMIT {TOP}").fetchall()
    return [ProductLine(str(pid), str(title), float(units), None if revenue is None else round(float(revenue), 2),
                        first) for pid, title, units, revenue, first in rows]


def store_status(ws: Workspace) -> StoreStatus:
    """Read the snapshot in one read-only connection."""
    with ws.read() as con:
        counts = {t: scalar(con, f"SELECT count(*) FROM {t}") for t in TABLES}
        first, last = con.execute("SELECT min(date)::DATE, max(date)::DATE FROM sales").fetchall()[0]
        categories = con.execute(
            "SELECT coalesce(category, '(none)') AS c, count(*) FROM products GROUP BY c ORDER BY 2 DESC, 1"
        ).fetchall()
        quarantine = con.execute(
            "SELECT kind, reason, count(*) FROM quarantine GROUP BY ALL ORDER BY 3 DESC, 1, 2"
        ).fetchall()
        non_product = con.execute(
            "SELECT reason, count(*) FROM non_product_lines GROUP BY ALL ORDER BY 2 DESC, 1"
        ).fetchall()
        return StoreStatus(
            workspace=str(ws.root),
            counts=counts,
            returns=scalar(con, "SELECT count(*) FROM sales WHERE is_return"),
            derived_products=scalar(con, "SELECT count(*) FROM products WHERE derived"),
            first_sale=first,
            last_sale=last,
            categories=[(str(c), int(n)) for c, n in categories],
            quarantine=[(k, r, int(n)) for k, r, n in quarantine],
            non_product=[(r, int(n)) for r, n in non_product],
            ingests=scalar(con, "SELECT count(*) FROM ingests"),
            top_sellers=_product_lines(con, "units DESC"),
            recent_launches=_product_lines(con, "first_sale DESC, units DESC"),
        )
