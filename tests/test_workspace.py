"""The workspace: discovery, settings, the writer lock, and atomicity under failure."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from nextdrop.errors import SettingsError, WorkspaceLocked, WorkspaceNotFound
from nextdrop.settings import Settings
from nextdrop.store import ingest as ingest_module
from nextdrop.store.ingest import ingest_file
from nextdrop.store.workspace import Workspace

SALES = "date,sku,qty,price\n2024-01-01,A1,1,2.0\n2024-01-02,B2,3,4.0\nnot-a-date,C3,1,1.0\n"


def snapshot(ws: Workspace) -> dict[str, str]:
    """Every file under .nextdrop (but the lock) with its content hash, plus the table contents."""
    files = {str(p.relative_to(ws.dir)): hashlib.sha256(p.read_bytes()).hexdigest()
             for p in sorted(ws.dir.rglob("*")) if p.is_file() and p.name not in {"lock", "store.duckdb"}
             and not p.name.endswith(".wal")}
    with ws.read() as con:
        for table in ("products", "sales", "quarantine", "ingests", "non_product_lines"):
            rows = con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
            files[f"table:{table}"] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return files


def test_find_walks_up_and_honours_env_and_explicit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = Workspace.init(tmp_path / "shop")
    deep = tmp_path / "shop" / "a" / "b"
    deep.mkdir(parents=True)
    assert Workspace.find(start=deep).root == ws.root
    with pytest.raises(WorkspaceNotFound, match="nextdrop init"):
        Workspace.find(start=tmp_path)
    monkeypatch.setenv("NEXTDROP_WORKSPACE", str(tmp_path / "shop"))
    assert Workspace.find(start=tmp_path).root == ws.root
    with pytest.raises(WorkspaceNotFound, match="not a nextdrop workspace"):
        Workspace.find(explicit=tmp_path / "elsewhere")


def test_init_is_idempotent_and_keeps_data(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path)
    (tmp_path / "s.csv").write_text(SALES)
    ingest_file(ws, "sales", tmp_path / "s.csv")
    before = snapshot(ws)
    Workspace.init(tmp_path)
    assert snapshot(ws) == before


def test_settings_file_and_env_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = Workspace.init(tmp_path)
    assert ws.settings.index.model == "all-MiniLM-L6-v2"
    ws.settings_path.write_text('[store]\ndayfirst = true\n[index]\nthreshold = 0.9\n')
    monkeypatch.setenv("NEXTDROP_INDEX_MODEL", "/models/multilingual")
    settings = ws.settings
    assert (settings.store.dayfirst, settings.index.threshold, settings.index.model) == (
        True, 0.9, "/models/multilingual")
    monkeypatch.setenv("NEXTDROP_FORECAST_HORIZON", "soon")
    with pytest.raises(SettingsError, match=r"forecast\.horizon.*NEXTDROP_FORECAST_HORIZON"):
        Settings.load(ws.settings_path)


def test_a_second_writer_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path)
    (tmp_path / "s.csv").write_text(SALES)
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from pathlib import Path
            from nextdrop.store.workspace import Workspace
            with Workspace(Path({str(tmp_path)!r})).lock():
                print("locked", flush=True)
                time.sleep(30)
        """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(WorkspaceLocked, match=rf"pid {holder.pid}\) is writing"):
            ingest_file(ws, "sales", tmp_path / "s.csv")
    finally:
        holder.kill()
        holder.wait()
    assert ingest_file(ws, "sales", tmp_path / "s.csv").accepted == 2  # the OS freed the dead holder's lock


def test_failure_mid_ingest_leaves_the_workspace_unchanged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = Workspace.init(tmp_path)
    (tmp_path / "s.csv").write_text(SALES)
    ingest_file(ws, "sales", tmp_path / "s.csv")
    (tmp_path / "s2.csv").write_text(SALES.replace("2024", "2025"))
    before = snapshot(ws)

    def explode(con: object) -> int:
        raise RuntimeError("disk on fire")  # after sales and non-product rows were inserted

    monkeypatch.setattr(ingest_module, "derive_products", explode)
    with pytest.raises(RuntimeError, match="disk on fire"):
        ingest_file(ws, "sales", tmp_path / "s2.csv")
    assert snapshot(ws) == before


def test_killed_process_mid_ingest_leaves_the_workspace_unchanged(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path)
    (tmp_path / "s.csv").write_text(SALES)
    ingest_file(ws, "sales", tmp_path / "s.csv")
    (tmp_path / "s2.csv").write_text(SALES.replace("2024", "2025"))
    before = snapshot(ws)
    script = textwrap.dedent(f"""
        import os, signal
        from pathlib import Path
        from nextdrop.store import ingest
        from nextdrop.store.workspace import Workspace

        def die(con):  # SIGKILL after the rows are inserted, before the commit
            os.kill(os.getpid(), signal.SIGKILL)

        ingest.derive_products = die
        ingest.ingest_file(Workspace(Path({str(tmp_path)!r})), "sales", Path({str(tmp_path / "s2.csv")!r}))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == -signal.SIGKILL
    assert snapshot(ws) == before
    report = ingest_file(ws, "sales", tmp_path / "s2.csv")  # and the workspace still works
    assert report.accepted == 2


def test_atomic_write_leaves_no_temp_files(tmp_path: Path) -> None:
    from nextdrop.store.files import atomic_write

    target = tmp_path / "reports" / "r.txt"
    atomic_write(target, "one")
    atomic_write(target, b"two")
    assert target.read_text() == "two"
    assert [p.name for p in target.parent.iterdir()] == ["r.txt"]
    assert os.stat(target).st_size == 3


def test_atomic_file_keeps_the_old_file_when_the_writer_fails(tmp_path: Path) -> None:
    from nextdrop.store.files import atomic_file

    target = tmp_path / "cache.npz"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="interrupted"), atomic_file(target) as handle:
        handle.write(b"half of the new")
        raise RuntimeError("interrupted")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["cache.npz"]
