"""Recognising stock adjustments booked as sales lines: write-offs, breakages, stock-take corrections.

A till or ERP often books them under the real product code, at price 0, with no
customer, and a note instead of the product's name ("damaged", "lost",
"Thrown away-rusty", "?", "check", "found", or nothing at all). They move stock,
not demand: counted as sales or returns they would add phantom units (Online
Retail has about 180,000 such units booked as positive lines). Whether a
description is the product's own is only known once the whole file is read, so
candidate lines wait in a temporary table and are decided at the end of the
ingest against everything the store then holds.
"""

from __future__ import annotations

import duckdb
import pandas as pd

REASON = "stock adjustment"
PENDING = "pending_adjustments"  # temporary table, one per ingest connection

# A pending line is an adjustment when its description is empty or is not one the product is sold under: the
# descriptions on its priced lines (a product never sold at a price has none: its lines only moved stock).
# Only in a store with no priced line at all (prices not recorded) does a product's most frequent
# description count as its own instead.
DECIDE = f"""
    WITH lines AS (
        SELECT product_id, description, unit_price FROM sales
        WHERE product_id IN (SELECT product_id FROM {PENDING})
        UNION ALL SELECT product_id, description, unit_price FROM {PENDING}
    ), priced AS (
        SELECT DISTINCT product_id, upper(description) AS text FROM lines
        WHERE unit_price > 0 AND description IS NOT NULL
    ), usual AS (
        SELECT product_id, upper(arg_max(description, n)) AS text
        FROM (SELECT product_id, description, count(*) AS n FROM lines WHERE description IS NOT NULL GROUP BY ALL)
        WHERE NOT EXISTS (SELECT 1 FROM sales WHERE unit_price > 0)
        GROUP BY product_id
    ), own AS (SELECT * FROM priced UNION ALL SELECT * FROM usual)
    SELECT p.*, own.text IS NULL AS adjustment
    FROM {PENDING} p LEFT JOIN own ON own.product_id = p.product_id AND own.text = upper(p.description)
"""


def is_candidate(price: pd.Series, customer: pd.Series, has_description: bool) -> pd.Series:
    """Lines that may be adjustments: price exactly 0 and no customer, in a file that has descriptions."""
    return (price == 0) & customer.isna() & has_description


def hold(con: duckdb.DuckDBPyConnection, lines: pd.DataFrame) -> None:
    """Keep candidate sales lines aside until the whole file has been read."""
    if lines.empty:
        return
    con.register("incoming_pending", lines)
    exists = con.execute(f"SELECT count(*) FROM duckdb_tables() WHERE table_name = '{PENDING}'").fetchone()
    if exists and exists[0]:
        con.execute(f"INSERT INTO {PENDING} SELECT * FROM incoming_pending")
    else:
        con.execute(f"CREATE TEMP TABLE {PENDING} AS SELECT * FROM incoming_pending")
    con.unregister("incoming_pending")


def settle(con: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The held lines split into (sales, adjustments); the temporary table is dropped."""
    exists = con.execute(f"SELECT count(*) FROM duckdb_tables() WHERE table_name = '{PENDING}'").fetchone()
    if not exists or not exists[0]:
        return pd.DataFrame(), pd.DataFrame()
    decided = con.execute(DECIDE).df()
    con.execute(f"DROP TABLE {PENDING}")
    adjustment = decided.pop("adjustment").astype(bool)
    return decided[~adjustment], decided[adjustment]
