"""Read a file of title pairs (columns ``left,right``) for ``nextdrop match --pairs``."""

from __future__ import annotations

from pathlib import Path

from nextdrop.errors import InputError
from nextdrop.store.readers import read_table


def read_pairs(path: Path) -> list[tuple[str, str]]:
    """Every row's ``(left, right)`` in file order; a missing column or an empty cell names the file and row."""
    frame = read_table(path).frame
    columns = {str(c).strip().lower(): c for c in frame.columns}
    missing = [name for name in ("left", "right") if name not in columns]
    if missing:
        raise InputError(f"{path}: no column {' or '.join(missing)} (found: {', '.join(map(str, frame.columns))})")
    found = []
    for n, (left, right) in enumerate(zip(frame[columns["left"]], frame[columns["right"]], strict=True), start=2):
        for name, value in (("left", left), ("right", right)):
            if not isinstance(value, str) or not value.strip():
                raise InputError(f"{path}, row {n}, column {name}: empty; every row needs two titles")
        found.append((left, right))
    return found
