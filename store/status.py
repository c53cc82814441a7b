"""What a workspace holds: counts, date range, categories, quarantine, as one result object."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from nextdrop.store.db import scalar
from nextdrop.store.workspace import Workspace

TABLES = ("products", "sales", "candidates", "reviews", "events", "non_product_lines")


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
        )
