"""Reading a workspace's sales into a forecasting panel: summed in DuckDB against line by line in pandas.

The workspace holds Online Retail's sales ``--copies`` times over (each copy's products renamed, so
every copy is a product of its own), copied inside DuckDB rather than re-ingested. Each read runs in
its own process so its peak memory is its own. The reference, in the same run, is the line-by-line
path nextdrop took before session 9 (and the benches still take): every line into pandas, then
``build_panel``. Both must give the same panel.

    .venv/bin/python -m bench.forecast_read [--copies 20]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1] / "shared" / "data" / "online_retail" / "online_retail_combined_2009-12_to_2011-12.csv.gz"
CHILD = """
import hashlib, json, sys, time
from pathlib import Path
from nextdrop.store.workspace import Workspace
from nextdrop.tools.forecasting.workspace import read_panel
from nextdrop.tools.forecasting.series import build_panel
ws = Workspace(Path(sys.argv[2]))
start = time.perf_counter()
if sys.argv[1] == "duckdb":
    panel = read_panel(ws)
else:
    with ws.read() as con:
        lines = con.execute("SELECT date, product_id, quantity FROM sales").df()
    panel = build_panel(lines, ws.settings.forecast.bucket)
seconds = time.perf_counter() - start
digest = hashlib.sha256()
for part in (panel.ids.astype(str), panel.values, panel.first, panel.lines, panel.squares):
    digest.update(part.tobytes())
peak = next(int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmHWM"))
print(json.dumps({"seconds": seconds, "peak_mib": peak / 1024, "shape": list(panel.values.shape),
                  "digest": digest.hexdigest()[:16]}))
"""


def make_workspace(root: Path, copies: int) -> int:
    """Online Retail ingested once, then copied inside DuckDB; returns the number of sales lines."""
    from nextdrop.store.ingest import ingest_file
    from nextdrop.store.workspace import Workspace

    ws = Workspace.init(root)
    ingest_file(ws, "sales", DATA)
    with ws.write() as con:
        con.execute("CREATE TEMP TABLE one AS SELECT * FROM sales")
        con.execute(f"INSERT INTO sales SELECT one.* REPLACE (product_id || '_' || k AS product_id) "
                    f"FROM one, range(1, {copies}) AS copies(k)")
        return con.execute("SELECT count(*) FROM sales").fetchone()[0]


def run(job: str, root: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, job, str(root)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=20)
    args = parser.parse_args()
    root = HERE / "out" / f"read_ws_{args.copies}"
    if not (root / ".nextdrop").exists():
        print(f"{make_workspace(root, args.copies):,} sales lines in {root}", flush=True)
    results = {job: run(job, root) for job in ("lines", "duckdb")}
    for job, r in results.items():
        print(f"{job:7s} {r['seconds']:7.1f} s  peak {r['peak_mib']:7,.0f} MiB  panel {r['shape']}  {r['digest']}")
    same = results["lines"]["digest"] == results["duckdb"]["digest"]
    print(f"same panel: {same}; DuckDB / lines: {results['duckdb']['seconds'] / results['lines']['seconds']:.2f}x "
          f"time, {results['duckdb']['peak_mib'] / results['lines']['peak_mib']:.2f}x peak memory")
    (HERE / "out" / f"forecast_read_{args.copies}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
