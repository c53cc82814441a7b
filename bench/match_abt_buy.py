"""Abt-Buy: every Buy record matched against the Abt catalog with the default configuration.

Run: HF_HUB_OFFLINE=1 .venv/bin/python bench/match_abt_buy.py [--model static:all-MiniLM-L6-v2]
Prints precision / recall / F1 against the perfect mapping, plus the candidate recall
(share of true pairs that mining proposed at all) and the best-candidate baseline.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from match_data import abt_buy, prf, quality_main

from nextdrop.index.dedup import DUPLICATE_KINDS, DedupResult
from nextdrop.index.embedder import DEFAULT_MODEL, load_embedder
from nextdrop.index.mining import Records, mine_across
from nextdrop.index.scoring import KINDS, UNRELATED
from nextdrop.index.vectors import VectorIndex
from nextdrop.settings import IndexSettings


def run(model: str = DEFAULT_MODEL, threshold: float | None = None) -> dict:
    """Match Buy against Abt; return the figures."""
    threshold = IndexSettings().threshold if threshold is None else threshold
    abt, buy, truth = abt_buy()
    embedder = load_embedder(model)
    started = time.perf_counter()
    catalog = Records(list(abt["id"]), list(abt["name"]), embedder.encode(list(abt["name"])))
    feed = Records(list(buy["id"]), list(buy["name"]), embedder.encode(list(buy["name"])))
    index = VectorIndex(embedder.dim)
    index.add(catalog.ids, catalog.vectors)
    mined = mine_across(feed, catalog, index, threshold=threshold)
    result = DedupResult.build("file", len(feed), mined, threshold)
    seconds = time.perf_counter() - started
    predicted = {(p.a, p.b) for p in result.duplicates}
    proposed = {(p.a, p.b) for p in mined}
    best: dict[str, tuple[float, str]] = {}
    for p, kind in zip(mined, mined.kinds(threshold, same_source=False), strict=True):
        if kind != UNRELATED and KINDS[kind] in DUPLICATE_KINDS and p.score > best.get(p.a, (-1.0, ""))[0]:
            best[p.a] = (p.score, p.b)
    return {
        "model": model,
        "threshold": threshold,
        "one_to_one": prf(predicted, truth),
        "best_candidate": prf({(a, b) for a, (_, b) in best.items()}, truth),
        "candidate_recall": len(proposed & truth) / len(truth),
        "candidates_per_record": len(proposed) / len(feed),
        "seconds": round(seconds, 1),
    }


if __name__ == "__main__":
    quality_main(run, __doc__)
