"""DuckDB schema as numbered migrations.

Each migration runs once, inside the transaction that opens a workspace for
writing; ``meta.schema_version`` records how far a store has come. Add new
migrations at the end; never edit one that has shipped.
"""

from __future__ import annotations

import duckdb

from nextdrop.store.db import scalar

MIGRATIONS: list[str] = [
    # 1: the tables of the data contracts, plus ingest bookkeeping
    """
    CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR);
    CREATE TABLE products (
        product_id VARCHAR PRIMARY KEY,
        title VARCHAR NOT NULL,
        description VARCHAR,
        category VARCHAR,
        price DOUBLE,
        cost DOUBLE,
        launch_date DATE,
        attributes VARCHAR,          -- JSON object text
        derived BOOLEAN NOT NULL     -- true: made from sales lines, no product file yet
    );
    CREATE TABLE sales (
        date TIMESTAMP NOT NULL,
        product_id VARCHAR NOT NULL,
        quantity DOUBLE NOT NULL,    -- negative = return or cancellation
        unit_price DOUBLE,
        order_id VARCHAR,
        customer_hash VARCHAR,       -- salted hash; the raw id is never stored
        country VARCHAR,
        description VARCHAR,         -- the product text on the line, if any
        is_return BOOLEAN NOT NULL,
        ingest_id INTEGER NOT NULL,
        line_key UBIGINT NOT NULL    -- content hash + occurrence: makes re-ingest idempotent
    );
    CREATE TABLE non_product_lines (
        date TIMESTAMP,
        code VARCHAR,
        description VARCHAR,
        quantity DOUBLE,
        unit_price DOUBLE,
        order_id VARCHAR,
        reason VARCHAR,
        ingest_id INTEGER NOT NULL,
        line_key UBIGINT NOT NULL
    );
    CREATE TABLE candidates (
        candidate_id VARCHAR PRIMARY KEY,
        title VARCHAR NOT NULL,
        description VARCHAR,
        category VARCHAR,
        price DOUBLE,
        cost DOUBLE,
        earliest_date DATE,
        lead_time_days INTEGER,
        min_order_qty DOUBLE,
        attributes VARCHAR
    );
    CREATE TABLE reviews (
        product_id VARCHAR NOT NULL,
        rating DOUBLE,
        text VARCHAR,
        date DATE,
        ingest_id INTEGER NOT NULL,
        line_key UBIGINT NOT NULL
    );
    CREATE TABLE events (
        date DATE NOT NULL,
        name VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,       -- holiday | promo
        ingest_id INTEGER NOT NULL,
        line_key UBIGINT NOT NULL
    );
    CREATE TABLE ingests (
        ingest_id INTEGER PRIMARY KEY,
        kind VARCHAR NOT NULL,
        file VARCHAR NOT NULL,
        sha256 VARCHAR NOT NULL,
        ingested_at TIMESTAMP NOT NULL,
        rows_read BIGINT NOT NULL,
        accepted BIGINT NOT NULL,
        already_present BIGINT NOT NULL,
        quarantined BIGINT NOT NULL,
        non_product BIGINT NOT NULL
    );
    CREATE TABLE quarantine (
        ingest_id INTEGER NOT NULL,
        kind VARCHAR NOT NULL,
        file VARCHAR NOT NULL,
        row BIGINT NOT NULL,         -- 1-based, the header is row 1
        "column" VARCHAR,
        value VARCHAR,
        reason VARCHAR NOT NULL,
        raw VARCHAR,                 -- the row as JSON, customer id already hashed
        line_key UBIGINT NOT NULL
    );
    CREATE VIEW product_sales AS
        SELECT p.product_id, p.title, p.category, p.price, p.launch_date,
               min(s.date)::DATE AS first_sale, max(s.date)::DATE AS last_sale,
               coalesce(sum(s.quantity) FILTER (WHERE NOT s.is_return), 0) AS units,
               coalesce(sum(s.quantity * s.unit_price) FILTER (WHERE NOT s.is_return), 0) AS revenue
        FROM products p LEFT JOIN sales s USING (product_id)
        GROUP BY ALL;
    """,
]


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Bring the store up to the newest schema; return the version it is at."""
    has_meta = scalar(con, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'")
    version = 0
    if has_meta:
        version = int(scalar(con, "SELECT value FROM meta WHERE key = 'schema_version'") or 0)
    for number, sql in enumerate(MIGRATIONS[version:], start=version + 1):
        con.execute(sql)
        con.execute(
            "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(number)]
        )
    return len(MIGRATIONS)
