"""Online Retail, cleaned the way the store cleans it, for the forecasting benches.

Reads the shared CSV with pandas directly so the benches do not depend on
ingestion: no cancellations (invoice starting with C), no non-product codes
(a product code starts with five digits), quantity > 0 and price > 0.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
ONLINE_RETAIL = DATA / "online_retail" / "online_retail_combined_2009-12_to_2011-12.csv.gz"
CACHE = Path(__file__).resolve().parent / "out" / "online_retail_clean.parquet"


def online_retail_sales() -> pd.DataFrame:
    """Clean sales lines: ``date, product_id, quantity, unit_price, description, customer``."""
    if CACHE.exists():
        return pd.read_parquet(CACHE)
    raw = pd.read_csv(ONLINE_RETAIL, dtype={"Invoice": str, "StockCode": str})
    keep = (
        ~raw["Invoice"].str.startswith("C")
        & raw["StockCode"].str.match(r"^\d{5}")
        & (raw["Quantity"] > 0)
        & (raw["Price"] > 0)
    )
    sales = raw.loc[keep].rename(
        columns={
            "InvoiceDate": "date",
            "StockCode": "product_id",
            "Quantity": "quantity",
            "Price": "unit_price",
            "Description": "description",
            "Customer ID": "customer",
        }
    )[["date", "product_id", "quantity", "unit_price", "description", "customer"]]
    sales["date"] = pd.to_datetime(sales["date"])
    sales["quantity"] = sales["quantity"].astype(float)
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    sales.to_parquet(CACHE)
    return sales
