"""Draw the Online Retail pairs to label: nextdrop's flagged pairs and plain-cosine neighbours, across bands.

Run once to make ``bench/labels/online_retail_pairs.csv`` (the pairs, blind: no kind or score
shown to the labeller); the labels live beside it and ``bench/dedup_labelled.py`` scores
nextdrop and plain cosine against them. The draw is seeded, so it can be made again.

    python bench/dedup_label_sample.py WORKSPACE DEDUP_JSON
"""

from __future__ import annotations

import csv
import json
import random
import sys
from pathlib import Path

import numpy as np

from nextdrop.index.catalog import catalog_records, open_embedder
from nextdrop.store.workspace import Workspace

OUT = Path(__file__).parent / "labels" / "online_retail_pairs.csv"
FLAGGED = {"exact": 30, "near_duplicate": 150, "variant": 60}
COSINE_BANDS = [(0.95, 1.01, 50), (0.90, 0.95, 50), (0.85, 0.90, 40), (0.80, 0.85, 30)]


def main(workspace: Path, dedup_json: Path) -> None:
    rng = random.Random(19)
    ws = Workspace.find(workspace)
    records = catalog_records(ws, open_embedder(ws))
    titles = dict(zip(records.ids, records.texts, strict=True))
    flagged = json.loads(dedup_json.read_text())["pairs"]
    chosen: dict[tuple[str, str], str] = {}
    for kind, count in FLAGGED.items():
        pool = [tuple(sorted((p["a"], p["b"]))) for p in flagged if p["kind"] == kind]
        for pair in rng.sample(pool, min(count, len(pool))):
            chosen.setdefault(pair, f"flagged:{kind}")
    sims = records.vectors @ records.vectors.T
    np.fill_diagonal(sims, -1.0)
    best = np.argsort(-sims, axis=1)[:, :5]
    neighbours = {
        tuple(sorted((records.ids[i], records.ids[j]))): float(sims[i, j]) for i in range(len(best)) for j in best[i]
    }
    for low, high, count in COSINE_BANDS:
        pool = sorted(p for p, s in neighbours.items() if low <= s < high and p not in chosen)
        for pair in rng.sample(pool, min(count, len(pool))):
            chosen[pair] = f"cosine:{low:.2f}"
    context = _context(ws)
    rows = list(chosen.items())
    rng.shuffle(rows)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["pair", "a", "b", "title_a", "title_b", "drawn_from", "sales_a", "sales_b"])
        for n, ((a, b), source) in enumerate(rows, 1):
            out.writerow([n, a, b, titles[a], titles[b], source, context.get(a, ""), context.get(b, "")])
    print(f"{len(rows)} pairs written to {OUT}")


def _context(ws: Workspace) -> dict[str, str]:
    """Each product's price and selling period: a labeller's evidence beside the title."""
    query = """
        SELECT product_id, median(unit_price), min(date)::DATE, max(date)::DATE, sum(quantity)
        FROM sales WHERE NOT is_return GROUP BY product_id
    """
    with ws.read() as con:
        found = con.execute(query).fetchall()
    return {
        pid: f"price {price:.2f}, sold {first}..{last}, {units:,.0f} units" for pid, price, first, last, units in found
    }


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
