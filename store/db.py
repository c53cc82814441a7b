"""Small DuckDB helpers shared by the store's modules."""

from __future__ import annotations

from typing import Any

import duckdb


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> Any:
    """The first value of a query, with the result fully consumed.

    DuckDB 2 keeps a result open after ``fetchone()``, which blocks the next
    ``register`` on the connection; ``fetchall()`` closes it.
    """
    rows = con.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None
