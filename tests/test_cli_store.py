"""The store commands as a merchant runs them: exit codes and what they print."""

from __future__ import annotations

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
