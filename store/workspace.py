"""Finding, creating and opening a workspace (``DIR/.nextdrop``).

A workspace is found the way git finds a repository: ``--workspace DIR``, else
``NEXTDROP_WORKSPACE``, else the nearest ``.nextdrop`` folder at or above the
current directory. Writers take an exclusive lock and do all their work in one
DuckDB transaction, so a crash or a kill leaves the store exactly as it was.
"""

from __future__ import annotations

import fcntl
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb

from nextdrop.errors import WorkspaceLocked, WorkspaceNotFound
from nextdrop.settings import Settings
from nextdrop.store.db import scalar
from nextdrop.store.files import TEMP_PREFIX, atomic_write
from nextdrop.store.schema import migrate

WORKSPACE_DIR = ".nextdrop"
ENV_VAR = "NEXTDROP_WORKSPACE"


@dataclass(frozen=True)
class Workspace:
    """Paths of one workspace; open it with :meth:`read` or :meth:`write`."""

    root: Path

    @property
    def dir(self) -> Path:
        return self.root / WORKSPACE_DIR

    @property
    def db_path(self) -> Path:
        return self.dir / "store.duckdb"

    @property
    def settings_path(self) -> Path:
        return self.dir / "nextdrop.toml"

    @property
    def quarantine_dir(self) -> Path:
        return self.dir / "quarantine"

    @property
    def reports_dir(self) -> Path:
        return self.dir / "reports"

    @property
    def index_dir(self) -> Path:
        return self.dir / "index"

    @property
    def lock_path(self) -> Path:
        return self.dir / "lock"

    @property
    def settings(self) -> Settings:
        return Settings.load(self.settings_path)

    @classmethod
    def init(cls, root: Path) -> Workspace:
        """Create ``root/.nextdrop`` (idempotent: an existing workspace is left as it is)."""
        ws = cls(root.resolve())
        for folder in (ws.dir, ws.quarantine_dir, ws.reports_dir, ws.index_dir):
            folder.mkdir(parents=True, exist_ok=True)
        if not ws.settings_path.exists():
            atomic_write(ws.settings_path, Settings().to_toml())
        with ws.write() as con:
            con.execute(
                "INSERT OR IGNORE INTO meta VALUES ('salt', ?)", [secrets.token_hex(16)]
            )
        return ws

    @classmethod
    def find(cls, explicit: Path | None = None, start: Path | None = None) -> Workspace:
        """Locate the workspace to use, or explain how to create one."""
        chosen = explicit or (Path(os.environ[ENV_VAR]) if os.environ.get(ENV_VAR) else None)
        if chosen is not None:
            ws = cls(chosen.resolve())
            if not ws.db_path.exists():
                raise WorkspaceNotFound(
                    f"{chosen} is not a nextdrop workspace (no {WORKSPACE_DIR}/store.duckdb); "
                    f"run `nextdrop init {chosen}` first"
                )
            return ws
        here = (start or Path.cwd()).resolve()
        for folder in (here, *here.parents):
            if (folder / WORKSPACE_DIR / "store.duckdb").exists():
                return cls(folder)
        raise WorkspaceNotFound(
            f"no nextdrop workspace in {here} or any folder above it; "
            "run `nextdrop init` here, `nextdrop demo` for the demo store, or pass --workspace DIR"
        )

    def today(self) -> date:
        """The store's today: the day after its last sale, so an export that ends in the past is planned and
        asked about from where its data ends; the calendar's today when nothing has sold."""
        with self.read() as con:
            last = con.execute("SELECT max(date)::DATE FROM sales").fetchone()[0]
        return last + timedelta(days=1) if last is not None else date.today()

    @contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection (fails clearly while a writer holds the store)."""
        try:
            con = duckdb.connect(str(self.db_path), read_only=True)
            con.execute("SET enable_progress_bar = false")  # DuckDB would draw its own bars over ours
        except duckdb.IOException as exc:
            raise WorkspaceLocked(
                f"{self.db_path} is open for writing by another nextdrop process; "
                "wait for it to finish and try again"
            ) from exc
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def write(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """An exclusive, transactional connection: everything commits or nothing does."""
        with self.lock():
            con = duckdb.connect(str(self.db_path))
            con.execute("SET enable_progress_bar = false")
            try:
                con.execute("BEGIN TRANSACTION")
                migrate(con)
                yield con
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
            finally:
                con.close()

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the workspace's writer lock; the OS frees it if the process dies."""
        self.dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
                raise WorkspaceLocked(
                    f"another nextdrop process (pid {holder}) is writing to {self.dir}; "
                    "wait for it to finish and try again"
                ) from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
            _remove_stale_temp_files(self.dir)
            try:
                yield
            finally:
                os.ftruncate(fd, 0)
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def salt(self, con: duckdb.DuckDBPyConnection) -> str:
        """The per-workspace salt for hashing customer ids."""
        salt = scalar(con, "SELECT value FROM meta WHERE key = 'salt'")
        if salt is None:  # a store made by an older init: add one now
            salt = secrets.token_hex(16)
            con.execute("INSERT INTO meta VALUES ('salt', ?)", [salt])
        return str(salt)


def _remove_stale_temp_files(folder: Path) -> None:
    """Temp files left by a killed writer are garbage; the lock holder may clear them."""
    for tmp in folder.rglob(f"{TEMP_PREFIX}*"):
        tmp.unlink(missing_ok=True)
