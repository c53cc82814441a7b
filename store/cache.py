"""Derived results kept between commands (forecasts, launch forecasts), each under the key of what it was made from.

A cache is only ever a shortcut: a file that is missing, was made from other data, or was written by
another version of nextdrop (a class moved or changed, so pickle cannot load it) reads as a miss, and
the caller computes afresh and writes it again.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from nextdrop.store.files import atomic_write

# what loading a pickle made by other code can raise: moved modules, renamed classes, changed layouts
_STALE = (pickle.UnpicklingError, ImportError, AttributeError, EOFError, TypeError, ValueError)


def read_cached(path: Path, key: str) -> dict[str, Any] | None:
    """The cached entries when the file was written under ``key``, else None."""
    if not path.exists():
        return None
    try:
        with path.open("rb") as handle:
            cached = pickle.load(handle)
    except _STALE:
        return None
    return cached if isinstance(cached, dict) and cached.get("key") == key else None


def write_cached(path: Path, key: str, **entries: Any) -> None:
    """Keep ``entries`` under ``key``, atomically."""
    atomic_write(path, pickle.dumps({"key": key, **entries}))
