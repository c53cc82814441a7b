"""Duplicate / variant decisions against the labelled Online Retail pairs, beside plain cosine.

The pairs and labels are in ``bench/labels/`` (rule: ``bench/labels/RULE.md``). nextdrop's
decision runs through the product (``nextdrop match --pairs FILE --json`` on an Online
Retail workspace); plain cosine >= 0.9 of the same embeddings is the reference, in the same
run. Ablations of the catalog-learned variant words follow, through ``tools.dedup.match``.

    nextdrop init /tmp/or
    nextdrop ingest sales ../shared/data/online_retail/online_retail_combined_2009-12_to_2011-12.csv.gz -w /tmp/or
    python bench/dedup_labelled.py /tmp/or
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from nextdrop.index.axes import variant_words
from nextdrop.index.catalog import catalog_texts, open_embedder
from nextdrop.index.text import has_title
from nextdrop.store.workspace import Workspace
from nextdrop.tools.dedup.match import match_pairs

LABELS = Path(__file__).parent / "labels"
MERGE = ("exact", "near_duplicate")


class Everything(frozenset):
    """Every word an axis value: one-sided words always make variants (an ablation)."""

    def __contains__(self, word: object) -> bool:
        return True

    def __bool__(self) -> bool:
        return True


def load() -> list[dict[str, str]]:
    labels = {r["pair"]: r for r in csv.DictReader((LABELS / "online_retail_labels.csv").open(encoding="utf-8"))}
    rows = list(csv.DictReader((LABELS / "online_retail_pairs.csv").open(encoding="utf-8")))
    return [{**r, "label": labels[r["pair"]]["label"]} for r in rows]


def precision_recall(predicted: list[bool], actual: list[bool]) -> tuple[float, float, int]:
    tp = sum(p and a for p, a in zip(predicted, actual, strict=True))
    flagged, real = sum(predicted), sum(actual)
    return (tp / flagged if flagged else 1.0), (tp / real if real else 1.0), flagged


def line(name: str, predicted: list[bool], actual: list[bool]) -> str:
    p, r, n = precision_recall(predicted, actual)
    return f"{name:<44} precision {p:.3f}  recall {r:.3f}  ({n} flagged)"


def main(workspace: Path) -> None:
    rows = load()
    duplicate = [r["label"] == "duplicate" for r in rows]
    variant = [r["label"] == "variant" for r in rows]
    with tempfile.NamedTemporaryFile("w", suffix=".csv", newline="", encoding="utf-8", delete=False) as f:
        out = csv.writer(f)
        out.writerow(["left", "right"])
        out.writerows((r["a"], r["b"]) for r in rows)  # product ids: their titles and their sales
    command = [sys.executable, "-m", "nextdrop.cli", "match", "--pairs", f.name, "--json", "-w", str(workspace)]
    found = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)["pairs"]
    kinds = [p["kind"] for p in found]
    labels = ("duplicate", "variant", "no_title", "different")
    counts = {label: sum(r["label"] == label for r in rows) for label in labels}
    print(f"{len(rows)} labelled pairs: " + ", ".join(f"{n} {label}" for label, n in counts.items()))
    print("command: " + " ".join(command[2:]))
    print(line("nextdrop merge kinds (exact + near_duplicate)", [k in MERGE for k in kinds], duplicate))
    print(line("nextdrop variant", [k == "variant" for k in kinds], variant))

    ws = Workspace.find(workspace)
    embedder = open_embedder(ws)
    texts = sorted({t for r in rows for t in (r["title_a"], r["title_b"])})
    vectors = dict(zip(texts, embedder.encode(texts), strict=True))
    cosine = [float(np.dot(vectors[r["title_a"]], vectors[r["title_b"]])) for r in rows]
    for floor in (0.95, 0.9):
        print(line(f"reference: plain cosine >= {floor}", [c >= floor for c in cosine], duplicate))

    titles = catalog_texts(ws)[1]
    titled = [t for t in titles if has_title(t)]
    threshold = ws.settings.index.threshold
    pairs = [(r["title_a"], r["title_b"]) for r in rows]
    print("ablation: which one-sided words make a variant")
    for name, axes in [
        ("none (before this change)", frozenset()),
        ("words >= 2 titles use (shipped)", variant_words(titled, 2)),
        ("words >= 3 titles use", variant_words(titled, 3)),
        ("words >= 10 titles use", variant_words(titled, 10)),
        ("every word", Everything()),
    ]:
        kinds = [m.kind for m in match_pairs(pairs, embedder, threshold, axes)]
        print("  " + line(name, [k in MERGE for k in kinds], duplicate))
    errors = [(r, k) for r, k in zip(rows, [p["kind"] for p in found], strict=True)
              if (k in MERGE) != (r["label"] == "duplicate")]
    print(f"\n{len(errors)} merge decisions against the labels:")
    for r, k in errors:
        print(f"  [{r['label']} / {k}] {r['title_a']}  |  {r['title_b']}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
