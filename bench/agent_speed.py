"""Time `nextdrop ask` in a new process, cold and warm, against `status` and `search` in the same run.

    nice -n 10 python -m bench.agent_speed --workspace nextdrop-demo [--runs 5]

Each figure is the wall time of a whole command (interpreter start, imports, the answer), one new process
per run. "cold" clears the workspace's caches first (the router's exemplar vectors and the store
forecasts); "no static" also hides the distilled static model, so the router loads all-MiniLM-L6-v2
through torch, as on a machine that never distilled it. The references: `nextdrop status` (the
cheapest command) and `nextdrop search` (which loads the transformer to embed its query).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

QUESTIONS = ["what should I launch next week?", "what is in my store?", "forecast the candles category",
             "how many will C100 sell?", "which of my mugs are duplicates?"]


def _run(args: list[str], env: dict[str, str]) -> float:
    exe = Path(sys.executable).with_name("nextdrop")
    start = time.perf_counter()
    subprocess.run([str(exe), *args], check=True, capture_output=True, env=env)
    return time.perf_counter() - start


def _clear(ws: Path) -> None:
    cache = ws / ".nextdrop" / "cache"
    for path in [*cache.glob("router-*.npz"), cache / "forecasts.pkl"]:
        path.unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    ws = args.workspace.resolve()
    env = os.environ | {"HF_HUB_OFFLINE": "1"}
    no_static = env | {"NEXTDROP_CACHE": tempfile.mkdtemp(prefix="nextdrop-empty-cache-")}
    w = ["-w", str(ws)]
    rows: list[tuple[str, list[float]]] = []

    def measure(label: str, command: list[str], environ: dict[str, str], cold: bool = False) -> None:
        times = []
        for _ in range(args.runs):
            if cold:
                _clear(ws)
            times.append(_run(command, environ))
        rows.append((label, times))
        print(f"{label:<70} median {statistics.median(times):6.2f} s  (min {min(times):.2f}, max {max(times):.2f})",
              flush=True)

    measure("reference: nextdrop status", ["status", *w], env)
    measure("reference: nextdrop search \"enamel mug\"", ["search", "enamel mug", *w], env)
    launch = QUESTIONS[0]
    measure(f"ask \"{launch}\", cold (workspace caches cleared)", ["ask", launch, *w], env, cold=True)
    measure(f"ask \"{launch}\", cold, no static model (MiniLM via torch)", ["ask", launch, *w], no_static,
            cold=True)
    for question in QUESTIONS:
        _run(["ask", question, *w], env)  # warm the caches
        measure(f"ask \"{question}\", warm", ["ask", question, *w], env)
    shutil.rmtree(no_static["NEXTDROP_CACHE"], ignore_errors=True)


if __name__ == "__main__":
    main()
