"""End-to-end dedup speed and memory, nextdrop against SemHash with the same encoder, in one run.

Run: HF_HUB_OFFLINE=1 nice -n 10 .venv/bin/python bench/dedup_speed.py [--sizes 200000 1000000]

Each job runs in its own process (so peak memory and CPU time are its own; on a shared
machine CPU seconds compare fairly where wall seconds do not) and times what its tool
does once the titles are read and the tool's modules imported: load the model (each tool
its own way), embed, index, mine, group and write a JSON report. Datasets: the distinct Online Retail descriptions, and
synthetic product titles (a template catalog with reworded copies). Also measured here:
HNSW recall@10 against exact search, and duplicate precision/recall of both tools on
the demo store's planted duplicates. Results: bench/out/dedup_speed.json.

The nearest-neighbour step alone, per index kind (build, 11 neighbours for every vector,
recall@10 against exact search, CPU seconds, peak memory), one job at a time:
``--job neighbours --data synthetic --size 1000000 --model static:all-MiniLM-L6-v2 --kind ivf``
(results: bench/out/neighbours_*.json).
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from match_data import DATA, prf

# Only what every job needs is imported here; a timed job imports its own tool first (import_tool).
from nextdrop.index.embedder import DEFAULT_MODEL, load_embedder, static_model_path
from nextdrop.store.files import atomic_write

OUT = Path(__file__).resolve().parent / "out"
STATIC = f"static:{DEFAULT_MODEL}"
SEMHASH_THRESHOLD = 0.9  # SemHash's default
JOB_TIMEOUT = 2400


def online_retail_titles() -> list[str]:
    path = DATA / "online_retail" / "online_retail_combined_2009-12_to_2011-12.csv.gz"
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        frame = pd.read_csv(handle, usecols=["Description"], dtype=str)
    return sorted(frame["Description"].dropna().str.strip().loc[lambda s: s != ""].unique())


def synthetic_titles(n: int, seed: int = 3) -> list[str]:
    """A template catalog (brand style material colour type size code) with 5% reworded copies."""
    rng = np.random.default_rng(seed)
    parts = [
        [f"Brand{i}" for i in range(400)],
        ["vintage", "retro", "modern", "rustic", "classic", "scandi", "boho", "minimalist", "luxury", "deluxe"],
        ["cotton", "linen", "wool", "leather", "ceramic", "glass", "steel", "oak", "bamboo", "silk", "velvet", "jute"],
        ["red", "blue", "green", "black", "white", "grey", "pink", "yellow", "navy", "ivory"],
        [
            f"{a} {b}"
            for a in ["table", "desk", "wall", "garden", "kitchen", "travel", "kids"]
            for b in [
                "lamp",
                "mug",
                "bag",
                "clock",
                "chair",
                "cushion",
                "rug",
                "vase",
                "shelf",
                "mirror",
                "towel",
                "bottle",
            ]
        ],
        ["small", "medium", "large", "xl", "500ml", "1l", "2-pack", "4-pack"],
    ]
    picks = [rng.integers(0, len(p), n) for p in parts]
    codes = rng.integers(1000, 99999, n)
    titles = [
        f"{parts[0][a]} {parts[1][b].title()} {parts[2][c]} {parts[4][e]} {parts[3][d]} {parts[5][f]} - M{g}"
        for a, b, c, d, e, f, g in zip(*picks, codes, strict=True)
    ]
    for i in rng.choice(n, n // 20, replace=False):
        j = int(rng.integers(0, n))
        titles[j] = titles[i].upper() if rng.random() < 0.5 else "New " + titles[i]
    return titles


def peak_mib(field: str = "VmHWM") -> float:
    """Peak resident memory of this process (``field="VmRSS"``: the current one)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def job_nextdrop(texts: list[str], model: str, kind: str = "auto") -> dict:
    """Load the model, embed, index, mine, group and write the JSON report; seconds per stage."""
    done = StageClock()
    from nextdrop.index.axes import variant_words
    from nextdrop.index.dedup import DedupResult
    from nextdrop.index.mining import Records, mine_within
    from nextdrop.index.vectors import VectorIndex, choose_kind
    from nextdrop.tools.dedup.report import write_report
    from nextdrop.tools.dedup.workspace import DedupReport

    embedder = load_embedder(model)
    done("load")

    ids = [str(i) for i in range(len(texts))]
    vectors = embedder.encode(texts)
    done("embed")
    index = VectorIndex(embedder.dim, choose_kind(kind, len(texts)))
    index.add(ids, vectors)
    done("index")
    axes = variant_words(texts)  # as ``tools.dedup.workspace.run_dedup`` does
    mined = mine_within(Records(ids, texts, vectors), index, threshold=0.6, axes=axes)
    done("mine")
    index_kind = index.kind
    del vectors, index  # grouping and the report need neither (a million titles: 1.3 GB)
    result = DedupResult.build("catalog", len(ids), mined, 0.6)
    report = DedupReport(result, dict(zip(ids, texts, strict=True)), {}, {}, {"model": model})
    write_report(report, OUT / "speed-nextdrop.json")
    done("group+report")
    return {
        **done.figures(),
        "index_kind": index_kind,
        "pairs": len(result.pairs),
        "duplicate_ratio": round(result.duplicate_ratio, 4),
        "groups": len(result.groups),
        "variant_pairs": result.count("variant"),
    }


class PeakTreeMemory:
    """Peak proportional set size of this process and its children, sampled twice a second.

    With forked workers, peak RSS counts shared pages once per process; PSS shares them out,
    so the sum over the tree is the memory the job really holds.
    """

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(0.5):
            self.peak = max(self.peak, tree_pss_kib())

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return round(max(self.peak, tree_pss_kib()) / 1024)


def tree_pss_kib() -> int:
    me = os.getpid()
    children = Path(f"/proc/{me}/task/{me}/children").read_text().split()
    total = 0
    for pid in [me, *map(int, children)]:
        try:
            total += next(
                int(line.split()[1])
                for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
                if line.startswith("Pss:")
            )
        except (OSError, StopIteration):
            continue  # a worker that just exited
    return total


class StageClock:
    """Wall and CPU seconds of each stage since the previous one, printed as they end."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self._last = (time.perf_counter(), cpu_seconds())

    def __call__(self, stage: str) -> None:
        now = (time.perf_counter(), cpu_seconds())
        self.wall[stage], self.cpu[stage] = round(now[0] - self._last[0], 2), round(now[1] - self._last[1], 2)
        self._last = now
        wall, cpu = self.wall[stage], self.cpu[stage]
        print(f"{stage}: {wall} s wall, {cpu} s CPU, peak {peak_mib():.0f} MiB", file=sys.stderr)

    def figures(self) -> dict[str, dict[str, float]]:
        return {"stages": self.wall, "stages_cpu": self.cpu}


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (nextdrop's forked scoring workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class _SemHashEncoder:
    """Our embedder behind SemHash's ``encode(inputs, **kwargs)``."""

    def __init__(self, model: str) -> None:
        self.inner = load_embedder(model)

    def encode(self, inputs: list[str], **_: object) -> np.ndarray:
        return self.inner.encode(list(inputs))


def job_semhash(texts: list[str], model: str) -> dict:
    """SemHash as its users run it: the static model through model2vec (the same vectors, bit for bit)."""
    done = StageClock()
    from semhash import SemHash

    if model.startswith("static:"):
        from model2vec import StaticModel

        encoder = StaticModel.from_pretrained(str(static_model_path(model)))
    else:
        encoder = _SemHashEncoder(model)
    done("load")
    semhash = SemHash.from_records(records=texts, model=encoder)
    result = semhash.self_deduplicate(threshold=SEMHASH_THRESHOLD)
    atomic_write(OUT / "speed-semhash.json", json.dumps([d.record for d in result.filtered]))
    done("dedup+write")
    return {**done.figures(), "duplicate_ratio": round(result.duplicate_ratio, 4)}


def job_hnsw_recall(n: int, model: str, queries: int = 2000) -> dict:
    """Recall@10 of HNSW against exact search on the same vectors."""
    from nextdrop.index.vectors import VectorIndex

    embedder = load_embedder(model)
    vectors = embedder.encode(synthetic_titles(n))
    ids = [str(i) for i in range(n)]
    exact, approx = VectorIndex(embedder.dim, "flat"), VectorIndex(embedder.dim, "hnsw")
    start = time.perf_counter()
    approx.add(ids, vectors)
    build = time.perf_counter() - start
    exact.add(ids, vectors)
    sample = np.random.default_rng(0).choice(n, queries, replace=False)
    _, truth = exact.search(vectors[sample], 10)
    start = time.perf_counter()
    _, found = approx.search(vectors[sample], 10)
    per_query_ms = (time.perf_counter() - start) / queries * 1000
    recall = np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)])
    return {
        "recall_at_10": round(float(recall), 4),
        "hnsw_build_s": round(build, 1),
        "query_ms": round(per_query_ms, 3),
    }


def job_neighbours(n: int, model: str, kind: str = "auto", queries: int = 2000) -> dict:
    """The part of dedup before pair scoring at scale: embed, build the index, 11 neighbours for every title.

    The neighbours come from ``neighbour_rows`` as in ``mine_within`` (the whole catalog as queries);
    recall@10 is against exact search for a sample of them. Wall and CPU seconds per stage.
    """
    import faiss

    from nextdrop.index.vectors import VectorIndex, choose_kind

    embedder = load_embedder(model)
    ids = [str(i) for i in range(n)]
    done = StageClock()

    vectors = embedder.encode(synthetic_titles(n))
    done("embed")
    before_index_mib = peak_mib("VmRSS")
    index = VectorIndex(embedder.dim, choose_kind(kind, n))
    index.add(ids, vectors)
    done("index")
    found = index.neighbour_rows(vectors, 11, ids)
    done("neighbours")
    sample = np.random.default_rng(0).choice(n, queries, replace=False)
    _, truth = faiss.knn(vectors[sample], vectors, 10, metric=faiss.METRIC_INNER_PRODUCT)  # exact, no second copy
    recall = np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found[sample, :10], strict=True)])
    return {
        **done.figures(),
        "records": n,
        "index_kind": index.kind,
        "recall_at_10": round(float(recall), 4),
        # resident memory added by the index and the search (results and allocator leftovers included)
        "rss_growth_mib": round(peak_mib("VmRSS") - before_index_mib),
    }


def job_demo_quality(tool: str, model: str) -> dict:
    """Planted-duplicate precision/recall on the demo store (pairs in one group = predicted duplicates)."""
    from nextdrop.index.axes import variant_words
    from nextdrop.index.dedup import DedupResult
    from nextdrop.index.mining import Records, mine_within
    from nextdrop.index.vectors import VectorIndex
    from nextdrop.store.demo import generate_demo

    demo = generate_demo()
    ids, texts = list(demo.products["product_id"]), list(demo.products["title"])
    if tool == "semhash":
        from semhash import SemHash

        records = [{"id": i, "text": t} for i, t in zip(ids, texts, strict=True)]
        result = SemHash.from_records(records=records, columns=["text"], model=_SemHashEncoder(model))
        dedup = result.self_deduplicate(threshold=SEMHASH_THRESHOLD)
        groups = [[d.record["id"], *[r["id"] for r, _ in d.duplicates]] for d in dedup.filtered]
    else:
        embedder = load_embedder(model)
        records = Records(ids, texts, embedder.encode(texts))
        index = VectorIndex(embedder.dim)
        index.add(ids, records.vectors)
        axes = variant_words(texts)  # as ``tools.dedup.workspace.run_dedup`` does
        result = DedupResult.build("catalog", len(ids), mine_within(records, index, threshold=0.6, axes=axes), 0.6)
        groups = [list(g.ids) for g in result.groups]
    predicted = {frozenset(p) for g in groups for p in itertools.combinations(g, 2)}
    truth = demo.truth_pairs[demo.truth_pairs["a"].isin(set(ids))]
    dups = {frozenset(p) for p in truth[truth["kind"] != "variant"][["a", "b"]].itertuples(index=False)}
    variants = {frozenset(p) for p in truth[truth["kind"] == "variant"][["a", "b"]].itertuples(index=False)}
    return {**prf(predicted, dups), "variant_called_duplicate": round(len(predicted & variants) / len(variants), 4)}


def import_tool(job: str) -> None:
    """Import a timed job's tool before its clock starts.

    Imports are start-up, the same for any catalog, and not part of deduplicating one
    (nextdrop's take about 0.5 s, SemHash's 0.1 s); loading the model is, and is timed.
    """
    if job == "semhash":
        import model2vec  # noqa: F401
        import semhash  # noqa: F401
    else:
        import nextdrop.index.mining
        import nextdrop.tools.dedup.report  # noqa: F401


def run_job(args: argparse.Namespace) -> None:
    if args.job == "hnsw":
        out = job_hnsw_recall(args.size, args.model)
    elif args.job == "neighbours":
        out = job_neighbours(args.size, args.model, args.kind)
    elif args.job.startswith("quality-"):
        out = job_demo_quality(args.job.removeprefix("quality-"), args.model)
    else:
        texts = online_retail_titles() if args.data == "online_retail" else synthetic_titles(args.size)
        import_tool(args.job)
        start = time.perf_counter()
        tree = PeakTreeMemory()
        out = job_nextdrop(texts, args.model, args.kind) if args.job == "nextdrop" else job_semhash(texts, args.model)
        out["peak_tree_pss_mib"] = tree.stop()
        seconds = time.perf_counter() - start
        out |= {"records": len(texts), "seconds": round(seconds, 1), "records_per_s": round(len(texts) / seconds)}
    out |= {
        "job": args.job,
        "data": args.data,
        "model": args.model,
        "peak_mib": round(peak_mib()),
        # the largest forked worker's peak RSS, counting the pages it shares with the parent
        "worker_peak_mib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
        "cpu_s": round(cpu_seconds(), 1),
    }
    print(json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--job")
    parser.add_argument("--data", default="online_retail")
    parser.add_argument("--size", type=int, default=0)
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--kind", default="auto", help="index kind for the neighbours and nextdrop jobs")
    parser.add_argument("--sizes", type=int, nargs="*", default=[200_000, 1_000_000])
    args = parser.parse_args()
    if args.job:
        run_job(args)
        return
    plan = [
        ("quality-nextdrop", "demo", 0, DEFAULT_MODEL),
        ("quality-semhash", "demo", 0, DEFAULT_MODEL),
        ("quality-nextdrop", "demo", 0, STATIC),
        ("quality-semhash", "demo", 0, STATIC),
        ("nextdrop", "online_retail", 0, DEFAULT_MODEL),
        ("semhash", "online_retail", 0, DEFAULT_MODEL),
        ("nextdrop", "online_retail", 0, STATIC),
        ("semhash", "online_retail", 0, STATIC),
        ("hnsw", "synthetic", 200_000, STATIC),
    ]
    for size in args.sizes:
        plan += [("nextdrop", "synthetic", size, STATIC), ("semhash", "synthetic", size, STATIC)]
    OUT.mkdir(exist_ok=True)
    results = []
    for job, data, size, model in plan:
        command = [sys.executable, __file__, "--job", job, "--data", data, "--size", str(size), "--model", model]
        try:
            done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=JOB_TIMEOUT)
            ok = done.returncode == 0 and done.stdout.strip()
            row = json.loads(done.stdout.strip().splitlines()[-1]) if ok else {"error": done.stderr.strip()[-300:]}
        except subprocess.TimeoutExpired:
            row = {"error": f"did not finish within {JOB_TIMEOUT} s"}
        row = {"job": job, "data": data, "size": size, "model": model} | row
        results.append(row)
        print(json.dumps(row), flush=True)
        atomic_write(OUT / "dedup_speed.json", json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
