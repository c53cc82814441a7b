"""Demo store: precision and recall of the planted duplicates and variants at the default settings.

Run: HF_HUB_OFFLINE=1 .venv/bin/python bench/dedup_demo.py [--model static:all-MiniLM-L6-v2]

Duplicates are scored by group membership (a predicted pair = two records in one merge
group); variants by pair kind; "variant called duplicate" = planted variant pairs that
ended up in one merge group. Candidates: a candidate planted as a duplicate of a catalog
product must come out as an exact or near-duplicate pair with that product.
"""

from __future__ import annotations

import itertools
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from match_data import prf, quality_main

from nextdrop.index.axes import variant_words
from nextdrop.index.cache import CachedEmbedder
from nextdrop.index.dedup import DedupResult
from nextdrop.index.embedder import DEFAULT_MODEL, load_embedder
from nextdrop.index.mining import Records, mine_across, mine_within
from nextdrop.index.vectors import VectorIndex
from nextdrop.settings import IndexSettings
from nextdrop.store.demo import generate_demo

OUT = Path(__file__).resolve().parent / "out"


def run(model: str = DEFAULT_MODEL, threshold: float | None = None) -> dict:
    threshold = IndexSettings().threshold if threshold is None else threshold
    demo = generate_demo()
    embedder = CachedEmbedder(load_embedder(model), OUT / f"demo-{model.replace(':', '_').replace('/', '_')}.npz")
    started = time.perf_counter()
    products = demo.products
    catalog = Records(list(products["product_id"]), list(products["title"]), embedder.encode(list(products["title"])))
    index = VectorIndex(embedder.dim)
    index.add(catalog.ids, catalog.vectors)
    axes = variant_words(catalog.texts)  # as ``tools.dedup.workspace.run_dedup`` does
    within = DedupResult.build(
        "catalog", len(catalog), mine_within(catalog, index, threshold=threshold, axes=axes), threshold
    )
    cands = demo.candidates
    queries = Records(list(cands["candidate_id"]), list(cands["title"]), embedder.encode(list(cands["title"])))
    mined = mine_across(queries, catalog, index, threshold=threshold, axes=axes)
    across = DedupResult.build("candidates", len(queries), mined, threshold)
    seconds = time.perf_counter() - started
    embedder.save()

    truth = demo.truth_pairs
    product_ids = set(catalog.ids)
    in_catalog = truth[truth["a"].isin(product_ids)]
    on_candidates = truth[~truth["a"].isin(product_ids)]
    dup_truth = {frozenset(p) for p in in_catalog[in_catalog["kind"] != "variant"][["a", "b"]].itertuples(index=False)}
    var_truth = {frozenset(p) for p in in_catalog[in_catalog["kind"] == "variant"][["a", "b"]].itertuples(index=False)}
    grouped = {frozenset(p) for g in within.groups for p in itertools.combinations(g.ids, 2)}
    variants = {frozenset((p.a, p.b)) for p in within.pairs if p.kind == "variant"}
    cand_truth = {
        (a, b) for a, b in on_candidates[on_candidates["kind"] != "variant"][["a", "b"]].itertuples(index=False)
    }
    cand_found = {(p.a, p.b) for p in across.duplicates}
    return {
        "model": model,
        "threshold": threshold,
        "catalog": len(catalog),
        "duplicates": prf(grouped, dup_truth),
        "variants": prf(variants, var_truth),
        "variant_called_duplicate": len(var_truth & grouped) / len(var_truth),
        "candidate_duplicates": prf(cand_found, cand_truth),
        "groups": len(within.groups),
        "largest_group": max((len(g.ids) for g in within.groups), default=0),
        "seconds_after_embedding_cache": round(seconds, 1),
    }


if __name__ == "__main__":
    quality_main(run, __doc__)
