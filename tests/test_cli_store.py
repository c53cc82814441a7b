"""The store commands as a merchant runs them: exit codes and what they print."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from nextdrop.cli import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False, env={"COLUMNS": "200"})
    return result.exit_code, result.output


def test_init_ingest_status(tmp_path: Path) -> None:
    (tmp_path / "orders.csv").write_text(
        "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID\n"
        "1,A1,RED MUG,2,2024-01-01 10:00:00,3.5,77\n1,POST,POSTAGE,1,2024-01-01 10:00:00,4,77\n"
        "2,A1,RED MUG,many,2024-01-02 10:00:00,3.5,78\n")
    code, out = run("init", str(tmp_path))
    assert code == 0 and ".nextdrop" in out
    code, out = run("ingest", "sales", str(tmp_path / "orders.csv"), "--workspace", str(tmp_path))
    assert code == 0
    assert "read" in out and "accepted" in out and "quantity is not a number" in out and "code POST" in out
    assert "quarantine" in out.lower()
    code, out = run("status", "-w", str(tmp_path))
    assert code == 0
    assert "2024-01-01 → 2024-01-01" in out and "quantity is not a number" in out
    assert "Set aside as not products: code POST (1)" in out


def test_errors_are_one_line_with_the_fix(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text("when,what\n2024-01-01,A\n")
    subprocess.run([sys.executable, "-m", "nextdrop.cli", "init", str(tmp_path)], check=True, capture_output=True)
    result = subprocess.run([sys.executable, "-m", "nextdrop.cli", "ingest", "sales", "x.csv"],
                            cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: x.csv: no column for required field(s) date")
    assert "Traceback" not in result.stderr
    assert "[columns]" in result.stderr  # the fix is shown literally, not eaten as markup
    elsewhere = tmp_path.parent / f"{tmp_path.name}-no-workspace"
    elsewhere.mkdir()
    result = subprocess.run([sys.executable, "-m", "nextdrop.cli", "status"], cwd=elsewhere,
                            capture_output=True, text=True)
    assert result.returncode == 1 and "run `nextdrop init` here" in result.stderr


def test_demo_is_the_main_job(tmp_path: Path) -> None:
    """What the README's first command runs: a workspace, its status and both dedup reports."""
    code, out = run("demo", str(tmp_path / "demo"), "--products", "150")
    assert code == 0
    assert "Ingested" in out and "sales" in out and "Quarantine: empty" in out
    assert "Duplicates in the catalog" in out and "Candidates that duplicate the catalog" in out
    for name in ("dedup-report.html", "candidate-duplicates.html"):
        report = tmp_path / "demo" / name
        assert report.stat().st_mode & 0o044  # readable like any file the user writes
        assert "<svg" in report.read_text()
    code, out = run("status", "-w", str(tmp_path / "demo"))
    assert code == 0 and "Garden" in out


def test_output_to_a_pipe_is_not_cut_at_80_columns(tmp_path: Path) -> None:
    """Piped or redirected, a long path and a wide table stay on their lines, whole."""
    folder = tmp_path / ("a-long-folder-name-for-the-monthly-exports-of-the-shop-" * 2)
    folder.mkdir()
    title = "EXTRA LARGE HAND PAINTED CERAMIC STRAWBERRY CAKE MONEY BANK WITH GOLD TRIM AND GIFT BOX"
    path = folder / "orders.csv"
    path.write_text(f"date,sku,description,qty,price\n2024-01-01,A1,{title},2,3.5\n")
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    cli = [sys.executable, "-m", "nextdrop.cli"]
    subprocess.run([*cli, "init", str(tmp_path)], check=True, capture_output=True, env=env)
    result = subprocess.run([*cli, "ingest", "sales", str(path), "-w", str(tmp_path)], capture_output=True,
                            text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert f"Ingested {path} as sales" in result.stdout.splitlines()
    result = subprocess.run([*cli, "status", "-w", str(tmp_path)], capture_output=True, text=True, env=env)
    assert any(title in line for line in result.stdout.splitlines()), result.stdout


def test_status_shows_top_sellers_and_recent_launches_and_json(tmp_path: Path) -> None:
    (tmp_path / "orders.csv").write_text(
        "date,sku,description,qty,price,order\n"
        "2024-01-01,OLD,OLD FAVOURITE MUG,50,2.0,1\n"
        "2024-01-02,OLD,OLD FAVOURITE MUG,-5,2.0,C2\n"        # a return counts against its product
        "2024-01-03,MID,MIDDLE PLATE,30,4.0,3\n"
        "2024-02-10,NEW,NEW LINEN APRON,7,12.0,4\n")
    run("init", str(tmp_path))
    run("ingest", "sales", str(tmp_path / "orders.csv"), "-w", str(tmp_path))
    code, out = run("status", "-w", str(tmp_path))
    assert code == 0
    top = out.index("Top sellers")
    assert top < out.index("OLD FAVOURITE MUG", top) < out.index("MIDDLE PLATE", top) < out.index("NEW LINEN", top)
    launches = out.index("Most recent launches")
    assert out.index("NEW LINEN APRON", launches) < out.index("MIDDLE PLATE", launches)
    assert "2024-02-10" in out[launches:]
    code, out = run("status", "--json", "-w", str(tmp_path))
    data = json.loads(out)
    assert data["version"] == 1 and data["counts"]["sales"] == 4
    assert (data["first_sale"], data["last_sale"]) == ("2024-01-01", "2024-02-10")
    assert data["top_sellers"][0] == {"product_id": "OLD", "title": "OLD FAVOURITE MUG", "units": 45.0,
                                      "revenue": 90.0, "first_sale": "2024-01-01"}
    assert [p["product_id"] for p in data["recent_launches"]] == ["NEW", "MID", "OLD"]
