"""Dedup over a real workspace: ingest, index per model, incremental updates, reports, the CLI."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nextdrop.cli import app
from nextdrop.errors import InputError
from nextdrop.index.catalog import IndexMissing, load_index, open_embedder, update_index
from nextdrop.index.embedder import HashingEmbedder
from nextdrop.store.ingest import ingest_file
from nextdrop.store.workspace import Workspace
from nextdrop.tools.dedup.report import write_report
from nextdrop.tools.dedup.workspace import match_in_workspace, model_advice, run_dedup

PRODUCTS = [
    ("p1", "Vintage Ceramic Mug"),
    ("p2", "VINTAGE CERAMIC MUG"),
    ("p3", "Vintage Ceramic Mug - Red"),
    ("p4", "Vintage Ceramic Mug - Blue"),
    ("p5", "Botanical Terracotta Plant Pot"),
    ("p6", "Woodland Terracotta Plant Pot"),
    ("p7", "Linen Tea Towel"),
    ("p8", "Linen Teatowel"),
]


def write_csv(path: Path, header: list[str], rows: list[tuple]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    ws = Workspace.init(tmp_path / "shop")
    ingest_file(ws, "products", write_csv(tmp_path / "products.csv", ["product_id", "title"], PRODUCTS))
    sales = [("2025-01-06", "p1", 5), ("2025-01-06", "p2", 30), ("2025-01-07", "p7", 4), ("2025-01-07", "p8", 2)]
    ingest_file(ws, "sales", write_csv(tmp_path / "sales.csv", ["date", "product_id", "quantity"], sales))
    return ws


def test_index_updates_in_place_and_refuses_another_model(ws: Workspace) -> None:
    embedder = open_embedder(ws, embedder=HashingEmbedder())
    first = update_index(ws, embedder)
    assert (first.added, first.embedded, first.kind, first.size) == (8, 8, "flat", 8)
    with ws.write() as con:
        con.execute("UPDATE products SET title = 'Stoneware Mug' WHERE product_id = 'p1'")
        con.execute("DELETE FROM products WHERE product_id = 'p6'")
    second = update_index(ws, open_embedder(ws, embedder=HashingEmbedder()))
    assert (second.added, second.removed, second.unchanged, second.embedded) == (1, 1, 6, 1)
    index, meta = load_index(ws, embedder)
    assert len(index) == 7 and "p6" not in index and meta["fingerprint"] == embedder.fingerprint
    with pytest.raises(IndexMissing, match="run `nextdrop index`"):
        load_index(ws, HashingEmbedder(dim=64))


def test_catalog_dedup_report_in_every_format(ws: Workspace, tmp_path: Path) -> None:
    report = run_dedup(ws, embedder=HashingEmbedder())
    groups = report.groups_by_impact()
    assert [g.ids for g in groups] == [("p1", "p2"), ("p7", "p8")]  # ordered by the sales they split
    assert report.impact[groups[0].group].split_units == 5
    for suffix in (".html", ".csv", ".json", ".md"):
        write_report(report, tmp_path / f"out{suffix}")
    data = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert set(data) >= {"pairs", "groups", "settings"}
    assert set(data["pairs"][0]) == {"a", "b", "title_a", "title_b", "score", "kind", "reason", "group"}
    first = next(p for p in data["pairs"] if p["a"] == "p1" and p["b"] == "p2")
    assert (first["title_a"], first["title_b"]) == ("Vintage Ceramic Mug", "VINTAGE CERAMIC MUG")
    assert data["groups"][0]["keep"] == "p2"  # the best seller of the group
    assert {p["kind"] for p in data["pairs"]} >= {"exact", "variant"}
    page = (tmp_path / "out.html").read_text(encoding="utf-8")
    assert "<svg" in page and "<mark>" in page and 'src="http' not in page
    assert "p1,p2,1.0,exact" in (tmp_path / "out.csv").read_text(encoding="utf-8")
    with pytest.raises(InputError, match=r"unknown format '\.pdf'"):
        write_report(report, tmp_path / "out.pdf")


def test_candidates_and_a_supplier_file_against_the_catalog(ws: Workspace, tmp_path: Path) -> None:
    candidates = [("c1", "Vintage Ceramic Mug", 9.5), ("c2", "Brass Garden Trowel", 12.0)]
    ingest_file(ws, "candidates", write_csv(tmp_path / "c.csv", ["candidate_id", "title", "price"], candidates))
    flagged = run_dedup(ws, candidates=True, embedder=HashingEmbedder())
    assert {(p.a, p.b) for p in flagged.result.duplicates} == {("c1", "p1"), ("c1", "p2")}
    assert flagged.result.duplicate_ratio == 0.5
    assert [p.b for p in flagged.flagged()["c1"]] == ["p1", "p2"] and "c2" not in flagged.flagged()

    feed = write_csv(tmp_path / "feed.csv", ["SKU", "Title"], [("s9", "Linen Tea Towel"), ("s8", "Copper Kettle")])
    matched = run_dedup(ws, against=feed, embedder=HashingEmbedder())
    assert [(p.a, p.b) for p in matched.result.duplicates] == [("s9", "p7")]  # one-to-one: p8 not also


def test_cli_dedup_writes_reports(ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEXTDROP_INDEX_MODEL", "hashing")
    out = tmp_path / "report.json"
    result = CliRunner().invoke(app, ["dedup", "-w", str(ws.root), "--report", str(out), "--threshold", "0.6"])
    assert result.exit_code == 0, result.output
    assert "duplicate groups" in result.output or "groups" in result.output
    assert json.loads(out.read_text(encoding="utf-8"))["settings"]["threshold"] == 0.6
    bad = CliRunner().invoke(app, ["dedup", "-w", str(ws.root), "--candidates", "--against", str(out)])
    assert bad.exit_code != 0
    pdf = tmp_path / "report.pdf"
    unknown = CliRunner().invoke(app, ["dedup", "-w", str(ws.root), "--report", str(pdf)])
    assert isinstance(unknown.exception, InputError) and str(pdf) in str(unknown.exception)
    assert "groups" not in unknown.output and not pdf.exists()  # refused before the work, not after it


def test_cli_index_and_search_with_the_real_model(ws: Workspace) -> None:
    runner = CliRunner()
    built = runner.invoke(app, ["index", "-w", str(ws.root)])
    assert built.exit_code == 0, built.output
    assert "8 added" in built.output
    found = runner.invoke(app, ["search", "coffee cup", "-k", "3", "-w", str(ws.root)])
    assert found.exit_code == 0, found.output
    assert "Mug" in found.output and "Trowel" not in found.output


def test_cli_search_of_an_empty_catalog_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEXTDROP_INDEX_MODEL", "hashing")
    empty = Workspace.init(tmp_path / "empty")
    assert CliRunner().invoke(app, ["index", "-w", str(empty.root)]).exit_code == 0
    result = CliRunner().invoke(app, ["search", "mug", "-w", str(empty.root)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "the catalog is empty; run `nextdrop ingest products FILE`" in result.output


RANGE_CATALOG = [
    *((f"s{n}", f"FRENCH BLUE METAL DOOR SIGN {n}") for n in range(1, 6)),
    ("w", "SET/20 WOODLAND PAPER NAPKINS"),
    ("p", "SET/20 POSIES PAPER NAPKINS"),
    ("35940", "35940"),
    ("35980A", "35980A"),
    ("f1", "CHERRY BLOSSOM DECORATIVE FLASK"),
    ("f2", "CHERRY BLOSSOM DECORATIVE FLASK"),
    ("h1", "HEART T-LIGHT HOLDER"),
    ("h2", "HEART T-LIGHT HOLDER"),
    ("84509G", "SET OF 4 FAIRY CAKE PLACEMATS"),  # one stem, another letter: the merchant's two colours
    ("84509B", "SET OF 4 FAIRY CAKE PLACEMATS"),
]


def test_ranges_untitled_records_and_items_bought_together_are_never_merged(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "shop")
    ingest_file(ws, "products", write_csv(tmp_path / "products.csv", ["product_id", "title"], RANGE_CATALOG))
    together = [(f"2025-01-0{n}", f, 1, f"o{n}") for n in range(1, 5) for f in ("f1", "f2")]  # one order, both
    apart = [("2025-01-06", "h1", 1, "o8"), ("2025-01-07", "h2", 1, "o9")]
    header = ["date", "product_id", "quantity", "order_id"]
    ingest_file(ws, "sales", write_csv(tmp_path / "sales.csv", header, together + apart))
    report = run_dedup(ws, embedder=HashingEmbedder())
    merged = {frozenset(g.ids) for g in report.result.groups}
    assert merged == {frozenset(("h1", "h2"))}  # the door signs, the napkins, the ids and the flasks stay apart
    assert set(report.untitled) == {"35940", "35980A"}
    signs = next(r for r in report.ranges if r.axis == "number")
    assert signs.ids == ("s1", "s2", "s3", "s4", "s5")
    flasks = next(p for p in report.result.pairs if {p.a, p.b} == {"f1", "f2"})
    assert flasks.kind == "variant" and "bought together in 4 orders" in flasks.reason
    mats = next(p for p in report.result.pairs if {p.a, p.b} == {"84509G", "84509B"})
    assert mats.kind == "variant" and "one stem, another suffix" in mats.reason
    matched = match_in_workspace(ws, [("84509G", "84509B"), ("h1", "h2")], embedder=HashingEmbedder())
    assert [m.kind for m in matched] == ["variant", "exact"]
    write_report(report, tmp_path / "out.html")
    page = (tmp_path / "out.html").read_text(encoding="utf-8")
    assert "Ranges: variants of one family" in page and "No title" in page and "Keep <b>h" in page


def test_match_scores_given_pairs_in_order_as_json(ws: Workspace, tmp_path: Path) -> None:
    pairs = write_csv(
        tmp_path / "pairs.csv",
        ["left", "right"],
        [("Vintage Ceramic Mug", "VINTAGE CERAMIC MUG"), ("DOOR SIGN 1", "DOOR SIGN 7"), ("p7", "p8")],
    )
    env = {"NEXTDROP_INDEX_MODEL": "hashing"}
    result = CliRunner().invoke(app, ["match", "--pairs", str(pairs), "--json", "-w", str(ws.root)], env=env)
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)["pairs"]
    assert [(p["left"], p["kind"]) for p in found] == [
        ("Vintage Ceramic Mug", "exact"),
        ("DOOR SIGN 1", "variant"),
        ("p7", "exact"),  # catalog ids are read as their products: Linen Tea Towel / Linen Teatowel
    ]
    assert set(found[0]) == {"left", "right", "score", "kind", "reason"}


def test_a_catalog_in_an_unspaced_script_read_by_the_english_model_gets_advice() -> None:
    chinese = ["上海电信10元话费充值", "周大福珠宝首饰颈链r14141", "鱼香茄子饭", "Mug"]
    (advice,) = model_advice("all-MiniLM-L6-v2", chinese)
    assert advice.startswith("75% of titles are in Chinese, Japanese or Thai") and "index.model" in advice
    for default in ("static:all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        assert model_advice(default, chinese)
    assert model_advice("/models/multilingual-minilm", chinese) == ()  # the merchant already chose a model
    assert model_advice("all-MiniLM-L6-v2", ["Vintage Mug", "Linen Apron", "鱼香茄子饭"]) == ()
