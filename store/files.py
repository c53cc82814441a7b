"""Atomic file writes: a reader, or a run that was killed, never sees half a file.

Kept apart from the workspace so that the index modules (vectors, embedding cache) do not load DuckDB.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from nextdrop.errors import InputError

TEMP_PREFIX = ".tmp-nextdrop-"


def check_format(path: Path, formats: tuple[str, ...]) -> Path:
    """``path`` if its suffix is one of ``formats``: checked before long work, not after it."""
    if path.suffix.lower() not in formats:
        raise InputError(f"{path}: unknown format {path.suffix or '(no suffix)'!r}; use one of {', '.join(formats)}")
    return path


def atomic_write(path: Path, data: str | bytes | Iterable[str]) -> None:
    """Write ``path`` via a temp file in the same folder and a rename: readers never see half a file.

    ``data`` may also arrive in pieces (an iterable of strings), so a large report never sits in memory whole.
    """
    chunks = [data] if isinstance(data, (str, bytes)) else data
    with atomic_file(path) as handle:
        for chunk in chunks:
            handle.write(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)


@contextlib.contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """A binary file to write ``path`` through (a temp file renamed over it when the block ends well).

    For writers that want a real, seekable file (``np.savez``), instead of the bytes in memory first.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=path.parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a report should read like any file the user writes
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
