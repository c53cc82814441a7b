"""Ingestion against a real DuckDB workspace: formats, aliases, bad input, idempotency."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from nextdrop.errors import InputError
from nextdrop.store.ingest import ingest_file
from nextdrop.store.workspace import Workspace

ONLINE_RETAIL_II = """Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country
489434,85048,15CM CHRISTMAS GLASS BALL 20 LIGHTS,12,2009-12-01 07:45:00,6.95,13085,United Kingdom
489434,79323P,PINK CHERRY LIGHTS,12,2009-12-01 07:45:00,6.75,13085,United Kingdom
489435,85048,15CM CHRISTMAS GLASS BALL 20 LIGHTS,6,2009-12-02 09:00:00,6.95,13086,United Kingdom
489436,POST,POSTAGE,1,2009-12-02 09:00:00,18.00,13086,France
C489437,85048,15CM CHRISTMAS GLASS BALL 20 LIGHTS,-2,2009-12-03 10:00:00,6.95,13085,United Kingdom
489438,DOT,DOTCOM POSTAGE,1,2009-12-03 10:00:00,5.00,,United Kingdom
489438,M,Manual,1,2009-12-03 10:00:00,0.50,,United Kingdom
489439,79323P,PINK CHERRY LIGHT,3,2009-12-04 11:00:00,6.75,,United Kingdom
"""


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace.init(tmp_path / "shop")


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def table(ws: Workspace, sql: str) -> pd.DataFrame:
    with ws.read() as con:
        return con.execute(sql).df()


def test_online_retail_layout_counts_every_line(ws: Workspace, tmp_path: Path) -> None:
    report = ingest_file(ws, "sales", write(tmp_path / "or.csv", ONLINE_RETAIL_II))
    assert report.rows_read == 8
    assert report.accepted == 5
    assert report.non_product == {"non-product code POST": 1, "non-product code DOT": 1,
                                  "non-product description manual": 1}
    assert report.quarantined_total == 0
    assert report.balanced
    sales = table(ws, "SELECT * FROM sales ORDER BY date")
    assert set(sales["product_id"]) == {"85048", "79323P"}
    cancelled = sales[sales["order_id"] == "C489437"]
    assert cancelled["is_return"].tolist() == [True] and cancelled["quantity"].tolist() == [-2.0]
    assert table(ws, "SELECT count(*) AS n FROM non_product_lines")["n"][0] == 3


def test_products_are_derived_from_sales(ws: Workspace, tmp_path: Path) -> None:
    more = ONLINE_RETAIL_II + "489440,79323P,PINK CHERRY LIGHTS,1,2009-12-05 11:00:00,6.75,,United Kingdom\n"
    ingest_file(ws, "sales", write(tmp_path / "or.csv", more))
    products = table(ws, "SELECT * FROM products ORDER BY product_id").set_index("product_id")
    assert list(products.index) == ["79323P", "85048"]  # POST, DOT and M stay out of the catalog
    assert products.loc["79323P", "title"] == "PINK CHERRY LIGHTS"  # the more frequent description
    assert str(products.loc["85048", "launch_date"])[:10] == "2009-12-01"
    assert products.loc["85048", "price"] == pytest.approx(6.95)
    assert products["derived"].all()


def test_online_retail_one_layout_aliases(ws: Workspace, tmp_path: Path) -> None:
    text = ("InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
            "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850,United Kingdom\n"
            "536366,22633,HAND WARMER UNION JACK,6,12/13/2010 8:28,1.85,17850,United Kingdom\n")
    report = ingest_file(ws, "sales", write(tmp_path / "or1.csv", text))
    assert report.accepted == 2 and report.balanced
    dates = table(ws, "SELECT date FROM sales ORDER BY date")["date"]
    assert [str(d) for d in dates] == ["2010-12-01 08:26:00", "2010-12-13 08:28:00"]  # month first


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_any_common_delimiter(ws: Workspace, tmp_path: Path, delimiter: str) -> None:
    text = ONLINE_RETAIL_II.replace(",", delimiter)
    report = ingest_file(ws, "sales", write(tmp_path / "s.csv", text))
    assert report.delimiter == delimiter
    assert report.accepted == 5


def test_gzip_parquet_and_excel(ws: Workspace, tmp_path: Path) -> None:
    gz = tmp_path / "s.csv.gz"
    gz.write_bytes(gzip.compress(ONLINE_RETAIL_II.encode()))
    assert ingest_file(ws, "sales", gz).accepted == 5
    frame = pd.DataFrame({"sku": ["A1", "B2"], "name": ["Linen Apron", "Enamel Mug"], "price": [12.5, 8.0],
                          "category": ["Kitchen", "Mugs"], "launch_date": pd.to_datetime(["2024-01-02", None])})
    frame.to_parquet(tmp_path / "p.parquet")
    assert ingest_file(ws, "products", tmp_path / "p.parquet").accepted == 2
    frame.assign(sku=["C3", "D4"]).to_excel(tmp_path / "p.xlsx", index=False)
    assert ingest_file(ws, "products", tmp_path / "p.xlsx").accepted == 2
    products = table(ws, "SELECT * FROM products WHERE NOT derived ORDER BY product_id")
    assert products["product_id"].tolist() == ["A1", "B2", "C3", "D4"]
    assert products["price"].tolist() == [12.5, 8.0, 12.5, 8.0]
    assert str(products["launch_date"][0])[:10] == "2024-01-02" and pd.isna(products["launch_date"][1])


def test_latin1_and_cp1252_files(ws: Workspace, tmp_path: Path) -> None:
    text = "sku;title;description;price\nX1;Crème brûlée set;Costs £5 – a bargain;5,50\n"
    report = ingest_file(ws, "products", write(tmp_path / "p.csv", text, "cp1252"))
    assert report.encoding == "cp1252"
    row = table(ws, "SELECT * FROM products").iloc[0]
    assert row["title"] == "Crème brûlée set"
    assert row["description"] == "Costs £5 – a bargain"
    assert row["price"] == 5.5  # decimal comma
    report = ingest_file(ws, "products", write(tmp_path / "q.csv", "sku,title\nX2,Café mug\n", "latin-1"))
    assert table(ws, "SELECT title FROM products WHERE product_id = 'X2'")["title"][0] == "Café mug"


def test_shopify_product_export(ws: Workspace, tmp_path: Path) -> None:
    text = (
        "Handle,Title,Body (HTML),Vendor,Type,Tags,Option1 Name,Option1 Value,Variant SKU,Variant Price,"
        "Cost per item\n"
        "linen-apron,Linen Apron,<p>Stonewashed <b>linen</b> &amp; pockets</p>,Acme,Aprons,\"kitchen, linen\","
        "Colour,Sage,APR-SAGE,24.00,9.00\n"
        "linen-apron,,,,,,,Rust,APR-RUST,24.00,9.00\n"
        "enamel-mug,Enamel Mug,<p>Camping mug</p>,Acme,Mugs,,Title,Default Title,,8.00,3.00\n"
    )
    report = ingest_file(ws, "products", write(tmp_path / "products_export.csv", text))
    assert report.accepted == 3 and report.balanced
    products = table(ws, "SELECT * FROM products ORDER BY product_id").set_index("product_id")
    assert list(products.index) == ["APR-RUST", "APR-SAGE", "enamel-mug"]  # no SKU: falls back to Handle
    assert products.loc["APR-RUST", "title"] == "Linen Apron - Rust"
    assert products.loc["APR-SAGE", "description"] == "Stonewashed linen & pockets"
    assert products.loc["APR-RUST", "category"] == "Aprons"
    assert products.loc["enamel-mug", "title"] == "Enamel Mug"
    assert '"colour": "Sage"' in products.loc["APR-SAGE", "attributes"]


def test_shopify_orders_and_woocommerce_products(ws: Workspace, tmp_path: Path) -> None:
    orders = (
        "Name,Email,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Billing Country\n"
        "#1001,ann@example.com,2024-03-01 10:22:33 +0000,2,Linen Apron - Sage,24.00,APR-SAGE,GB\n"
        "#1002,bob@example.com,2024-03-02 11:00:00 +0000,1,Enamel Mug,8.00,MUG-1,GB\n"
    )
    report = ingest_file(ws, "sales", write(tmp_path / "orders_export.csv", orders))
    assert report.accepted == 2
    woo = ("ID,Type,SKU,Name,Published,Short description,Description,Regular price,Categories\n"
           "15,simple,WOO-1,Beeswax Candle,1,Hand poured,<p>Long text</p>,12.00,Candles > Pillar\n"
           "16,variable,,Soy Candle,1,,,,Candles\n")
    report = ingest_file(ws, "products", write(tmp_path / "wc-product-export.csv", woo))
    assert report.accepted == 2
    products = table(ws, "SELECT product_id, title, category, price FROM products WHERE NOT derived ORDER BY 1")
    assert products["product_id"].tolist() == ["16", "WOO-1"]  # empty SKU falls back to ID
    assert products["category"].tolist() == ["Candles", "Candles > Pillar"]


def test_woocommerce_order_export(ws: Workspace, tmp_path: Path) -> None:
    text = ("Order Number,Order Date,Order Status,Customer Email,Item Name,SKU,Quantity,Item Cost\n"
            "5001,2024-05-02 14:00,completed,amy@example.com,Soy Candle,WOO-2,3,9.50\n"
            "5002,2024-05-03 09:30,refunded,tom@example.com,Beeswax Candle,WOO-1,-1,12.00\n")
    report = ingest_file(ws, "sales", write(tmp_path / "woo-orders.csv", text))
    assert report.accepted == 2
    sales = table(ws, "SELECT * FROM sales ORDER BY date")
    assert sales["order_id"].tolist() == ["5001", "5002"]
    assert sales["unit_price"].tolist() == [9.5, 12.0] and sales["is_return"].tolist() == [False, True]
    assert sales["description"].tolist() == ["Soy Candle", "Beeswax Candle"]


def test_plain_names_for_candidates_reviews_events(ws: Workspace, tmp_path: Path) -> None:
    write(tmp_path / "c.csv", "id,name,category,price,cost,lead time,moq,earliest date\n"
                              "C1,Rattan Lamp,Lighting,39,15,21,24,2026-12-01\n")
    write(tmp_path / "r.csv", "sku,stars,review,date\nA1,5,Lovely,2024-01-05\nA1,x,Bad row,2024-01-06\n")
    write(tmp_path / "e.csv", "date,event,type\n2025-11-28,Black Friday,promo\n2025-12-25,Christmas,holiday\n")
    assert ingest_file(ws, "candidates", tmp_path / "c.csv").accepted == 1
    reviews = ingest_file(ws, "reviews", tmp_path / "r.csv")
    assert (reviews.accepted, reviews.quarantined) == (1, {"rating is not a number": 1})
    assert ingest_file(ws, "events", tmp_path / "e.csv").accepted == 2
    cand = table(ws, "SELECT * FROM candidates").iloc[0]
    assert (cand["lead_time_days"], cand["min_order_qty"], str(cand["earliest_date"])[:10]) == (21, 24, "2026-12-01")


def test_missing_required_column_names_it_and_the_aliases(ws: Workspace, tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", "when,what,how many\n2024-01-01,A,1\n")
    with pytest.raises(InputError) as err:
        ingest_file(ws, "sales", path)
    message = str(err.value)
    assert "s.csv" in message and "date" in message and "'invoicedate'" in message
    assert "product_id" in message and "'stockcode'" in message and "--mapping" in message
    assert table(ws, "SELECT count(*) AS n FROM ingests")["n"][0] == 0


def test_bad_rows_go_to_quarantine_with_row_and_reason(ws: Workspace, tmp_path: Path) -> None:
    text = ("date,sku,qty,price,customer\n"
            "2024-01-01,A,1,2.0,c1\n"        # row 2: fine
            "not a date,A,1,2.0,c1\n"        # row 3
            "2024-01-02,,1,2.0,c1\n"         # row 4: empty id
            "2024-01-03,A,lots,2.0,c1\n"     # row 5
            "2024-01-04,A,2,cheap,c1\n"      # row 6
            "2024-01-05,A,,2.0,c1\n")        # row 7
    report = ingest_file(ws, "sales", write(tmp_path / "s.csv", text))
    assert report.accepted == 1 and report.balanced
    assert report.quarantined == {"unparseable date": 1, "missing product_id": 1, "quantity is not a number": 1,
                                  "unit_price is not a number": 1, "missing quantity": 1}
    quarantined = pd.read_csv(report.quarantine_file)
    by_row = quarantined.set_index("row")
    assert by_row.loc[3, "reason"] == "unparseable date" and by_row.loc[3, "column"] == "date"
    assert by_row.loc[5, "value"] == "lots" and by_row.loc[5, "column"] == "qty"
    assert set(quarantined["file"]) == {str(tmp_path / "s.csv")}
    assert table(ws, "SELECT count(*) AS n FROM quarantine")["n"][0] == 5


def test_empty_titles_and_repeated_ids_in_products(ws: Workspace, tmp_path: Path) -> None:
    text = "sku,title,price\nA,Mug,3\nB,,4\nA,Mug again,5\nC,Plate,free\n"
    report = ingest_file(ws, "products", write(tmp_path / "p.csv", text))
    assert report.accepted == 1
    assert report.quarantined == {"empty title": 1, "duplicate id (first at row 2)": 1, "price is not a number": 1}


def test_ragged_csv_rows_are_quarantined_not_dropped(ws: Workspace, tmp_path: Path) -> None:
    text = "date,sku,qty\n2024-01-01,A1,1\n2024-01-02,A1,1,extra,fields\n2024-01-03,B2,2\n"
    report = ingest_file(ws, "sales", write(tmp_path / "s.csv", text))
    assert report.accepted == 2
    assert report.quarantined == {"expected 3 fields, found 5": 1}
    assert report.balanced


def test_reingest_adds_nothing_and_newer_export_appends_only_new_rows(ws: Workspace, tmp_path: Path) -> None:
    first = ingest_file(ws, "sales", write(tmp_path / "s.csv", ONLINE_RETAIL_II))
    again = ingest_file(ws, "sales", tmp_path / "s.csv")
    assert (again.accepted, again.already_present, again.quarantined_total, again.non_product_total) == (0, 8, 0, 0)
    newer = ONLINE_RETAIL_II + (
        "489440,85048,15CM CHRISTMAS GLASS BALL 20 LIGHTS,12,2009-12-05 07:45:00,6.95,13085,United Kingdom\n"
        "489440,85048,15CM CHRISTMAS GLASS BALL 20 LIGHTS,12,2009-12-05 07:45:00,6.95,13085,United Kingdom\n"
        "489440,POST,POSTAGE,1,2009-12-05 07:45:00,18.00,13085,United Kingdom\n")
    update = ingest_file(ws, "sales", write(tmp_path / "s2.csv", newer))
    assert (update.accepted, update.already_present, update.non_product_total) == (2, 8, 1)  # an identical pair
    assert update.balanced
    count = table(ws, "SELECT count(*) AS n FROM sales")["n"][0]
    assert count == first.accepted + 2


def test_reingesting_a_product_file_updates_in_place(ws: Workspace, tmp_path: Path) -> None:
    ingest_file(ws, "products", write(tmp_path / "p.csv", "sku,title,price\nA,Mug,3\nB,Plate,4\n"))
    again = ingest_file(ws, "products", write(tmp_path / "p.csv", "sku,title,price\nA,Mug,3\nB,Plate,4.5\n"))
    assert (again.accepted, again.already_present) == (1, 1)
    assert table(ws, "SELECT price FROM products WHERE product_id = 'B'")["price"][0] == 4.5
    assert table(ws, "SELECT count(*) AS n FROM products")["n"][0] == 2


def test_product_file_wins_over_derived_products(ws: Workspace, tmp_path: Path) -> None:
    ingest_file(ws, "sales", write(tmp_path / "s.csv", ONLINE_RETAIL_II))
    ingest_file(ws, "products", write(tmp_path / "p.csv", "sku,title,category\n85048,Glass Ball Lights,Xmas\n"))
    ingest_file(ws, "sales", write(tmp_path / "s2.csv", ONLINE_RETAIL_II.replace("489434", "999999")))
    row = table(ws, "SELECT * FROM products WHERE product_id = '85048'").iloc[0]
    assert (row["title"], row["category"], bool(row["derived"])) == ("Glass Ball Lights", "Xmas", False)


def test_mapping_file_for_a_bakery_till(ws: Workspace, tmp_path: Path) -> None:
    write(tmp_path / "bakery.csv", "Date,Time,Transaction,Item\n30-10-2016,09:58:11,1,Bread\n"
                                   "01-11-2016,10:05:34,2,NONE\n02-11-2016,10:07:57,3,Coffee\n")
    write(tmp_path / "map.toml", '[columns]\ndate = "Date"\ntime = "Time"\norder_id = "Transaction"\n'
                                 'product_id = "Item"\ndescription = "Item"\n[defaults]\nquantity = 1\n'
                                 '[options]\ndayfirst = true\nnon_product = ["NONE"]\n')
    report = ingest_file(ws, "sales", tmp_path / "bakery.csv", tmp_path / "map.toml")
    assert (report.accepted, report.non_product_total) == (2, 1)
    sales = table(ws, "SELECT date, product_id, quantity FROM sales ORDER BY date")
    assert [str(d) for d in sales["date"]] == ["2016-10-30 09:58:11", "2016-11-02 10:07:57"]  # day first
    assert sales["quantity"].tolist() == [1.0, 1.0]


def test_mapping_naming_a_missing_column_is_a_clear_error(ws: Workspace, tmp_path: Path) -> None:
    write(tmp_path / "s.csv", "Date,Item\n2024-01-01,Bread\n")
    write(tmp_path / "map.toml", '[columns]\nproduct_id = "Article"\n')
    with pytest.raises(InputError, match=r"column 'Article' \(for product_id\) is not in .*s.csv"):
        ingest_file(ws, "sales", tmp_path / "s.csv", tmp_path / "map.toml")


def test_customer_ids_never_reach_the_workspace(ws: Workspace, tmp_path: Path) -> None:
    text = ("date,sku,qty,customer id\n2024-01-01,A,1,CUST-778899\n2024-01-02,A,1,jane.doe@example.com\n"
            "bad date,A,1,CUST-445566\n")
    report = ingest_file(ws, "sales", write(tmp_path / "s.csv", text))
    assert report.quarantined_total == 1  # the quarantine copy must not leak it either
    for path in ws.dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for raw in (b"CUST-778899", b"jane.doe@example.com", b"CUST-445566"):
                assert raw not in data, f"{raw!r} found in {path}"
    hashes = table(ws, "SELECT DISTINCT customer_hash FROM sales")["customer_hash"]
    assert hashes.str.fullmatch(r"[0-9a-f]{20}").all()


def test_same_customer_hashes_alike_within_a_workspace_but_not_across(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", "date,sku,qty,customer\n2024-01-01,A,1,c1\n2024-01-02,B,1,c1\n")
    one, two = Workspace.init(tmp_path / "one"), Workspace.init(tmp_path / "two")
    ingest_file(one, "sales", path)
    ingest_file(two, "sales", path)
    h1 = table(one, "SELECT DISTINCT customer_hash FROM sales")["customer_hash"].tolist()
    h2 = table(two, "SELECT DISTINCT customer_hash FROM sales")["customer_hash"].tolist()
    assert len(h1) == 1 and len(h2) == 1 and h1 != h2  # per-workspace salt


def test_unknown_table_and_missing_file(ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        ingest_file(ws, "sales", tmp_path / "nope.csv")
    with pytest.raises(InputError, match="is empty"):
        ingest_file(ws, "sales", write(tmp_path / "empty.csv", ""))


def test_chunked_reading_gives_the_same_store(tmp_path: Path) -> None:
    """Identical lines split across chunks still count as distinct lines, and keys do not depend on chunking."""
    text = ONLINE_RETAIL_II + ONLINE_RETAIL_II.split("\n", 1)[1]  # every line twice, far apart
    path = write(tmp_path / "s.csv", text)
    ws = Workspace.init(tmp_path / "shop")
    many = ingest_file(ws, "sales", path, chunk_rows=3)
    assert (many.accepted, many.non_product_total, many.rows_read) == (10, 6, 16)
    for chunk_rows in (5, 1000):  # other chunkings, the fast path included: the same keys, nothing new
        again = ingest_file(ws, "sales", path, chunk_rows=chunk_rows)
        assert (again.accepted, again.already_present) == (0, 16)


def test_repeated_ids_across_chunks_name_the_first_row(ws: Workspace, tmp_path: Path) -> None:
    text = "sku,title\nA,Mug\nB,Plate\nC,Bowl\nA,Mug again\n"
    report = ingest_file(ws, "products", write(tmp_path / "p.csv", text), chunk_rows=2)
    assert report.quarantined == {"duplicate id (first at row 2)": 1}


def test_ragged_rows_and_blank_lines_keep_their_row_numbers(ws: Workspace, tmp_path: Path) -> None:
    text = "date,sku,qty\n2024-01-01,A1,1\n\n2024-01-02,A1,x\n2024-01-03,B2,2\n2024-01-04,B2,2,9\n2024-01-05,B2,\n"
    report = ingest_file(ws, "sales", write(tmp_path / "s.csv", text), chunk_rows=2)
    assert report.rows_read == 5 and report.balanced
    by_row = pd.read_csv(report.quarantine_file).set_index("row")["reason"].to_dict()
    assert by_row == {4: "quantity is not a number", 6: "expected 3 fields, found 4", 7: "missing quantity"}


def test_parquet_in_chunks(ws: Workspace, tmp_path: Path) -> None:
    frame = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=7), "sku": list("ABCDEFG"),
                          "qty": [1, 2, 3, 4, 5, 6, 7]})
    frame.to_parquet(tmp_path / "s.parquet", row_group_size=2)
    report = ingest_file(ws, "sales", tmp_path / "s.parquet", chunk_rows=3)
    assert report.accepted == 7
    assert table(ws, "SELECT sum(quantity) AS q FROM sales")["q"][0] == 28


@pytest.mark.parametrize(("name", "data", "what"), [
    ("orders.csv", b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4, "an ELF executable"),
    ("orders", b"\x7fELF\x02\x01\x01\x00" + bytes(64), "an ELF executable"),
    ("photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64), "a PNG image"),
    ("sheet.xlsx", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64), "a PNG image"),
    ("dump.csv", b"date,sku,qty\n" + bytes(range(256)), "binary data"),
])
def test_a_binary_file_is_named_as_not_a_table(ws: Workspace, tmp_path: Path, name: str, data: bytes,
                                               what: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    gz = tmp_path / f"{name}.gz"
    gz.write_bytes(gzip.compress(data))
    for given in (path, gz) if not name.endswith(".xlsx") else (path,):
        with pytest.raises(InputError) as err:
            ingest_file(ws, "sales", given)
        message = str(err.value)
        assert message.startswith(f"{given}: not a CSV, Excel or Parquet file (it looks like {what})")
        assert "no column" not in message


def test_utf16_text_export_is_read(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "unicode.txt"
    path.write_bytes("date\tsku\tdescription\tqty\n2024-01-01\tA1\tCafé mug\t2\n".encode("utf-16"))
    report = ingest_file(ws, "sales", path)
    assert report.accepted == 1 and report.encoding == "utf-16"
    assert table(ws, "SELECT description FROM sales")["description"][0] == "Café mug"


def test_mixed_date_formats_are_read_in_one_order_decided_by_the_file(ws: Workspace, tmp_path: Path) -> None:
    """A day above 12 settles day-first for the whole column: 12/01/2010 is then 12 January, not 1 December."""
    text = ("date,sku,qty\n"
            "01.12.2010,A,1\n"      # row 2: day-first by the file's decision: 1 December
            "12/01/2010,A,1\n"      # row 3: 12 January, like every other date of this file
            "13/01/2010 09:30,B,1\n"  # row 4: settles it
            "2010-01-14,B,1\n"      # row 5: ISO is ISO
            "01/13/2010,B,1\n"      # row 6: reads only month-first: quarantined, not read as 13 January
            "25/01/2010,B,1\n")     # row 7: day-first again; more rows read only day-first than month-first
    report = ingest_file(ws, "sales", write(tmp_path / "mixed.csv", text))
    assert report.accepted == 5 and report.balanced
    dates = table(ws, "SELECT date FROM sales ORDER BY date")["date"].dt.strftime("%Y-%m-%d %H:%M").tolist()
    assert dates == ["2010-01-12 00:00", "2010-01-13 09:30", "2010-01-14 00:00", "2010-01-25 00:00",
                     "2010-12-01 00:00"]
    assert report.date_formats == {"date": "day-first (2 rows read only day-first, like 13/01/2010 09:30; "
                                           "1 only month-first, like 01/13/2010)"}
    misfit = pd.read_csv(report.quarantine_file).set_index("row").loc[6]
    assert (misfit["column"], misfit["value"]) == ("date", "01/13/2010")
    assert misfit["reason"] == "date does not fit the file's day-first dates"


def test_an_ambiguous_date_column_asks_instead_of_guessing(ws: Workspace, tmp_path: Path) -> None:
    path = write(tmp_path / "ambiguous.csv", "InvoiceDate,sku,qty\n01/02/2011,A,1\n03/04/2011,A,2\n")
    with pytest.raises(InputError) as err:
        ingest_file(ws, "sales", path)
    message = str(err.value)
    assert message.startswith(f"{path}: every date in column 'InvoiceDate' reads both day-first and month-first")
    assert f"nextdrop ingest sales {path} --dayfirst" in message and "--monthfirst" in message
    assert table(ws, "SELECT count(*) AS n FROM sales")["n"][0] == 0
    report = ingest_file(ws, "sales", path, dayfirst=True)
    assert report.date_formats == {"InvoiceDate": "day-first (as asked: --dayfirst)"}
    dates = table(ws, "SELECT date FROM sales ORDER BY date")["date"].dt.strftime("%Y-%m-%d").tolist()
    assert dates == ["2011-02-01", "2011-04-03"]


def test_the_workspace_setting_answers_for_ambiguous_files_only(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "shop")
    ws.settings_path.write_text("[store]\ndayfirst = false\n")
    ambiguous = ingest_file(ws, "sales", write(tmp_path / "a.csv", "date,sku,qty\n01/02/2011,A,1\n"))
    assert ambiguous.date_formats == {"date": "month-first ([store] dayfirst = false)"}
    settled = ingest_file(ws, "sales", write(tmp_path / "b.csv", "date,sku,qty\n01/03/2011,A,1\n25/03/2011,A,1\n"))
    assert settled.date_formats == {"date": "day-first (settled by 25/03/2011)"} and settled.accepted == 2
    iso = ingest_file(ws, "sales", write(tmp_path / "c.csv", "date,sku,qty\n2011-04-01 10:00,A,1\n"))
    assert iso.date_formats == {"date": "year-month-day (ISO)"}
    dates = table(ws, "SELECT date FROM sales ORDER BY date")["date"].dt.strftime("%Y-%m-%d %H:%M").tolist()
    assert dates == ["2011-01-02 00:00", "2011-03-01 00:00", "2011-03-25 00:00", "2011-04-01 10:00"]


def test_cli_dayfirst_flag_and_the_summary_name_the_date_format(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from nextdrop.cli import app

    Workspace.init(tmp_path)
    write(tmp_path / "s.csv", "date,sku,qty\n05/06/2024,A,1\n")
    runner = CliRunner()
    result = runner.invoke(app, ["ingest", "sales", str(tmp_path / "s.csv"), "-w", str(tmp_path)])
    assert result.exit_code == 1 and "--dayfirst" in str(result.exception)
    result = runner.invoke(app, ["ingest", "sales", str(tmp_path / "s.csv"), "--monthfirst", "-w", str(tmp_path)],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "Dates in 'date' read as month-first (as asked: --monthfirst)" in result.output


def test_the_date_order_is_decided_once_for_a_streamed_file(ws: Workspace, tmp_path: Path) -> None:
    """The first chunk settles day-first; a later chunk of dates that read both ways follows it."""
    rows = [f"{day:02d}/03/2011,A,1" for day in range(13, 29)] + ["01/04/2011,A,1", "02/04/2011,A,1"]
    path = write(tmp_path / "s.csv", "date,sku,qty\n" + "\n".join(rows) + "\n")
    report = ingest_file(ws, "sales", path, chunk_rows=4)
    assert report.accepted == 18 and report.date_formats == {"date": "day-first (settled by 13/03/2011)"}
    last = table(ws, "SELECT max(date) AS d FROM sales")["d"][0]
    assert str(last)[:10] == "2011-04-02"


DUPLICATED = ("date,sku,qty,price,note\n"
              "2024-01-01,A,2,3.0,\n"      # row 2
              "2024-01-01,A,2,3.0,\n"      # row 3: an exact repeat of row 2
              "2024-01-01,A,2,3.0,gift\n"  # row 4: differs in a column nextdrop does not read: not a repeat
              "2024-01-02,B,1,5.0,\n"      # row 5
              "2024-01-01,A,2,3.0,\n"      # row 6: row 2 again, in another chunk
              "2024-01-03,POST,1,4.0,\n"   # row 7: postage
              "2024-01-03,POST,1,4.0,\n")  # row 8: postage again


def test_exact_duplicate_lines_are_counted_and_kept_by_default(ws: Workspace, tmp_path: Path) -> None:
    report = ingest_file(ws, "sales", write(tmp_path / "s.csv", DUPLICATED), chunk_rows=1)
    assert report.duplicate_lines == 3 and report.duplicates_kept
    assert (report.accepted, report.non_product_total, report.quarantined_total) == (5, 2, 0)
    assert table(ws, "SELECT sum(quantity) AS q FROM sales")["q"][0] == 9


def test_exact_duplicate_lines_can_be_set_aside(ws: Workspace, tmp_path: Path) -> None:
    ws.settings_path.write_text("[ingest]\nkeep_duplicate_lines = false\n")
    path = write(tmp_path / "s.csv", DUPLICATED)
    report = ingest_file(ws, "sales", path, chunk_rows=1)  # streamed: repeats across chunks too
    assert report.duplicate_lines == 3 and not report.duplicates_kept
    assert (report.accepted, report.non_product_total, report.quarantined) == (3, 1, {"exact duplicate line": 3})
    assert report.balanced
    quarantined = pd.read_csv(report.quarantine_file).set_index("row")
    assert quarantined["value"].to_dict() == {3: "same as row 2", 6: "same as row 2", 8: "same as row 7"}
    assert table(ws, "SELECT sum(quantity) AS q FROM sales")["q"][0] == 5
    again = ingest_file(ws, "sales", path)
    assert (again.accepted, again.already_present) == (0, 7)


def test_stock_adjustments_under_product_codes_are_set_aside(ws: Workspace, tmp_path: Path) -> None:
    text = ("Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID\n"
            "1,A1,RED MUG,6,2024-01-01 10:00,2.5,c1\n"            # row 2: a sale
            "2,A1,damaged,-3,2024-01-02 10:00,0,\n"               # row 3: a write-off
            "3,A1,Thrown away-rusty,-2,2024-01-03 10:00,0,\n"     # row 4
            "4,A1,?,-1,2024-01-03 11:00,0,\n"                     # row 5
            "5,A1,,10,2024-01-04 10:00,0,\n"                      # row 6: no description at all
            "6,A1,found,4,2024-01-05 10:00,0,\n"                  # row 7: found in the warehouse
            "7,A1,Red mug,1,2024-01-05 11:00,0,\n"                # row 8: the product's own name: a sale at 0
            "8,A1,RED MUG,2,2024-01-06 10:00,0,c2\n"              # row 9: free to a customer: a sale
            "9,Z9,lost,-50,2024-01-06 11:00,0,\n"                 # row 10: a code never sold at a price
            "C10,A1,RED MUG,-1,2024-01-07 10:00,2.5,c1\n")        # row 11: a real return
    report = ingest_file(ws, "sales", write(tmp_path / "s.csv", text))
    assert report.balanced and report.accepted == 4
    assert report.non_product == {"stock adjustment": 6}
    assert report.adjustments == {"damaged": 1, "Thrown away-rusty": 1, "?": 1, "(no description)": 1,
                                  "found": 1, "lost": 1}
    assert report.adjustment_units == 70
    sales = table(ws, "SELECT * FROM sales ORDER BY date")
    assert sales["quantity"].tolist() == [6, 1, 2, -1] and sales["is_return"].sum() == 1
    aside = table(ws, "SELECT code, description, quantity FROM non_product_lines ORDER BY date")
    assert aside["code"].tolist() == ["A1", "A1", "A1", "A1", "A1", "Z9"]
    assert table(ws, "SELECT product_id FROM products")["product_id"].tolist() == ["A1"]  # Z9 never sold
    again = ingest_file(ws, "sales", tmp_path / "s.csv")
    assert (again.accepted, again.non_product_total, again.already_present) == (0, 0, 10)


def test_price_zero_lines_stay_sales_without_a_description_column(ws: Workspace, tmp_path: Path) -> None:
    """With no descriptions there is nothing to tell a note from a name: free lines stay what they were."""
    report = ingest_file(ws, "sales", write(tmp_path / "s.csv", "date,sku,qty,price\n2024-01-01,A,2,0\n"))
    assert report.accepted == 1 and not report.non_product


@pytest.mark.slow
def test_online_retail_adjustments_duplicates_and_dates(ws: Workspace) -> None:
    from conftest import shared_file

    path = shared_file("online_retail", "online_retail_combined_2009-12_to_2011-12.csv.gz")
    report = ingest_file(ws, "sales", path)
    assert report.balanced and report.duplicate_lines == 11_812
    assert report.date_formats == {"InvoiceDate": "year-month-day (ISO)"}
    assert 5_000 <= report.non_product["stock adjustment"] <= 5_400
    for note in ("damaged", "Thrown away-rusty", "?", "wet damaged", "check", "found", "lost"):
        assert report.adjustments[note] >= 1, note
    free = table(ws, "SELECT count(*) AS n FROM sales WHERE unit_price = 0 AND customer_hash IS NULL "
                     "AND description IS NULL")["n"][0]
    assert free == 0  # a line with no description at price 0 is never a sale


def test_typed_dates_are_reported_as_typed(ws: Workspace, tmp_path: Path) -> None:
    pd.DataFrame({"date": pd.date_range("2024-01-01", periods=2), "sku": ["A", "B"], "qty": [1, 2]}).to_parquet(
        tmp_path / "s.parquet")
    report = ingest_file(ws, "sales", tmp_path / "s.parquet")
    assert report.accepted == 2 and report.date_formats == {"date": "typed (as the file stores them)"}
