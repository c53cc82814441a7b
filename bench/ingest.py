"""Ingest benchmark: the full UCI Online Retail file and the bread basket, each into a fresh workspace.

Each ingest runs in its own process so its peak memory is its own. The reference
in the same run is a bare ``pandas.read_csv`` of the same file (no validation,
no store), so the ratio shows what validation, quarantine and DuckDB cost.

    .venv/bin/python bench/ingest.py [--data ../shared/data] [--scale 6]

``--scale N`` adds a run on N copies of Online Retail (each copy's invoices renamed, so every line is
new): a file of N x 1.04M lines, which takes the streaming path.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from nextdrop.store.readers import CHUNK_ROWS, FAST_PATH_CHUNKS

HERE = Path(__file__).resolve().parent
CHILD = """
import json, sys, time
from pathlib import Path
from nextdrop.store.ingest import ingest_file
from nextdrop.store.workspace import Workspace
kind, path, mapping, root, chunk_rows = sys.argv[1:6]
ws = Workspace.init(Path(root))
start = time.perf_counter()
r = ingest_file(ws, kind, Path(path), Path(mapping) if mapping else None, chunk_rows=int(chunk_rows))
print(json.dumps({"seconds": time.perf_counter() - start, "read": r.rows_read, "accepted": r.accepted,
                  "already_present": r.already_present, "quarantined": dict(r.quarantined),
                  "non_product": dict(r.non_product), "derived_products": r.derived_products,
                  "balanced": r.balanced, "duplicate_lines": r.duplicate_lines, "date_formats": r.date_formats,
                  "adjustment_units": r.adjustment_units, "adjustment_notes": len(r.adjustments)}))
"""
REFERENCE = """
import sys, time, pandas as pd
start = time.perf_counter()
frame = pd.read_csv(sys.argv[1], dtype=str, keep_default_na=False, encoding="utf-8")
print(time.perf_counter() - start)
"""


def run_child(code: str, *args: str) -> tuple[str, float, float]:
    """Run ``code`` in a fresh interpreter; return its stdout, wall seconds and its own peak RSS in MiB."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out:
        child = subprocess.Popen([sys.executable, "-c", code, *args], stdout=out)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode:
            raise SystemExit(f"benchmark child failed with exit code {child.returncode}")
        out.seek(0)
        text = out.read()
    return text.strip().splitlines()[-1], time.perf_counter() - start, usage.ru_maxrss / 1024


def bench(name: str, kind: str, path: Path, mapping: Path | None, chunk_rows: int = CHUNK_ROWS) -> dict:
    with tempfile.TemporaryDirectory() as root:
        out, wall, peak = run_child(CHILD, kind, str(path), str(mapping or ""), root, str(chunk_rows))
    result = json.loads(out)
    reference, _, _ = run_child(REFERENCE, str(path))
    quarantined = sum(result["quarantined"].values())
    non_product = sum(result["non_product"].values())
    print(f"\n## {name}: {path.name}")
    print(f"wall time (process, incl. start-up) {wall:.1f} s; ingest {result['seconds']:.1f} s; "
          f"peak memory {peak:,.0f} MiB")
    print(f"reference pandas.read_csv only: {float(reference):.1f} s  (ingest / read_csv = "
          f"{result['seconds'] / float(reference):.1f}x)")
    print(f"lines read {result['read']:,} = accepted {result['accepted']:,} + quarantined {quarantined:,} "
          f"+ non-product {non_product:,}  -> exact: {result['balanced'] and result['already_present'] == 0}")
    print(f"products derived from sales: {result['derived_products']:,}")
    print(f"exact duplicate lines (kept): {result['duplicate_lines']:,}; dates: {result['date_formats']}")
    print(f"stock adjustments: {result['non_product'].get('stock adjustment', 0):,} lines, "
          f"{result['adjustment_units']:,.0f} units in or out, {result['adjustment_notes']:,} distinct notes")
    for reason, count in sorted(result["quarantined"].items(), key=lambda kv: -kv[1]):
        print(f"  quarantined  {count:>7,}  {reason}")
    for reason, count in sorted(result["non_product"].items(), key=lambda kv: -kv[1]):
        print(f"  non-product  {count:>7,}  {reason}")
    return {"wall": wall, "peak_mib": peak, **result}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=HERE.parent.parent / "shared" / "data")
    parser.add_argument("--scale", type=int, default=0, help="also ingest N copies of Online Retail as one file")
    args = parser.parse_args()
    retail = args.data / "online_retail" / "online_retail_combined_2009-12_to_2011-12.csv.gz"
    online_retail = bench("UCI Online Retail", "sales", retail, None)
    bench("UCI Online Retail, streamed in 250,000-row chunks (the path for files over "
          f"{FAST_PATH_CHUNKS * CHUNK_ROWS:,} lines)", "sales", retail, None, chunk_rows=250_000)
    bench("Bread basket", "sales", args.data / "bread_basket" / "BreadBasket_DMS.csv",
          HERE / "mappings" / "bread_basket.toml")
    if args.scale:
        with tempfile.TemporaryDirectory() as folder:
            big = Path(folder) / f"online_retail_x{args.scale}.csv.gz"
            frame = pd.read_csv(retail, dtype=str, keep_default_na=False)
            pd.concat([frame.assign(Invoice=frame["Invoice"].radd(f"R{k}-")) for k in range(args.scale)]).to_csv(
                big, index=False)
            bench(f"Online Retail x {args.scale}", "sales", big, None)
    ok = online_retail["wall"] <= 60 and online_retail["peak_mib"] <= 2048 and online_retail["balanced"]
    print(f"\nOnline Retail target (<= 60 s, <= 2 GiB, exact accounting): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
