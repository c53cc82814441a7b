"""How often two products were bought in one order: sales evidence that two listings are two items.

A merchant does not sell one item under two codes in the same order, so two products with
the same title that customers buy together (a blue and a pink flask both titled "CHERRY
BLOSSOM DECORATIVE FLASK") are two items, whatever their titles say.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from nextdrop.store.workspace import Workspace

TOGETHER_ORDERS = 3  # orders holding both products that show them to be two items


def orders_together(ws: Workspace, pairs: Sequence[tuple[str, str]]) -> list[int]:
    """For each ``(a, b)``, the number of orders that hold both (0 without order ids)."""
    if not pairs:
        return []
    wanted = pd.DataFrame({"n": range(len(pairs)), "a": [a for a, _ in pairs], "b": [b for _, b in pairs]})
    query = """
        WITH lines AS (
            SELECT DISTINCT product_id, order_id FROM sales
            WHERE order_id IS NOT NULL AND NOT is_return
              AND product_id IN (SELECT a FROM wanted UNION SELECT b FROM wanted)
        )
        SELECT w.n, count(*) AS orders
        FROM wanted w
        JOIN lines x ON x.product_id = w.a
        JOIN lines y ON y.product_id = w.b AND y.order_id = x.order_id
        GROUP BY w.n
    """
    with ws.read() as con:
        con.register("wanted", wanted)
        found = dict(con.execute(query).fetchall())
    return [int(found.get(n, 0)) for n in range(len(pairs))]
