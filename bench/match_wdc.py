"""WDC computers: pairwise F1 on the labelled test pairs at the default threshold.

Run: HF_HUB_OFFLINE=1 .venv/bin/python bench/match_wdc.py [--model static:all-MiniLM-L6-v2]

Pairs come from different shops, so they are scored as a feed against a catalog (no
same-source rules, the shipped learned decision of ``index.decision``; the hand-set rule
is printed beside it as the reference). Also prints F1 across thresholds on the validation split: that
sweep is where the default threshold was picked (never on Abt-Buy, never on test).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from match_data import quality_main, wdc

from nextdrop.index.decision import load
from nextdrop.index.dedup import DUPLICATE_KINDS
from nextdrop.index.embedder import DEFAULT_MODEL, load_embedder
from nextdrop.index.scoring import KINDS, classify, evidence
from nextdrop.index.text import TextFeatures
from nextdrop.settings import IndexSettings


def _f1(predicted: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    hits = int((predicted & labels).sum())
    precision = hits / max(int(predicted.sum()), 1)
    recall = hits / max(int(labels.sum()), 1)
    return {"precision": precision, "recall": recall, "f1": 2 * precision * recall / max(precision + recall, 1e-9)}


def _evidence(split: str, embedder) -> tuple[list, np.ndarray]:
    pairs = wdc(split)
    left, right = embedder.encode(list(pairs["left"])), embedder.encode(list(pairs["right"]))
    cosines = (left * right).sum(axis=1)
    found = [
        evidence(TextFeatures(a), TextFeatures(b), c)
        for a, b, c in zip(pairs["left"], pairs["right"], cosines, strict=True)
    ]
    return found, pairs["label"].to_numpy() == 1


def run(model: str = DEFAULT_MODEL, threshold: float | None = None) -> dict:
    threshold = IndexSettings().threshold if threshold is None else threshold
    embedder = load_embedder(model)
    test, labels = _evidence("test", embedder)
    valid, valid_labels = _evidence("valid", embedder)
    sweep = {f"{t:.2f}": round(_f1(_predict(valid, t), valid_labels)["f1"], 3) for t in np.arange(0.4, 0.81, 0.05)}
    test_f1 = _f1(_predict(test, threshold), labels)
    hand_set = classify(np.array([e.base for e in test]), np.array([e.flags for e in test], dtype=np.uint8), threshold,
                        same_source=False)  # the reference: the hand-set rule, no learned decision
    merge = np.isin(hand_set, [KINDS.index(k) for k in DUPLICATE_KINDS])
    return {"model": model, "threshold": threshold, "decision": "learned" if load() else "hand-set", "test": test_f1,
            "test_hand_set": _f1(merge, labels), "valid_sweep": sweep}


def _predict(found: list, threshold: float) -> np.ndarray:
    return np.array([e.kind(threshold) in DUPLICATE_KINDS for e in found])


if __name__ == "__main__":
    quality_main(run, __doc__)
