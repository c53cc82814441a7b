"""Score given pairs of titles with a catalog's settings: "are these two the same product?".

The same decision ``nextdrop dedup`` makes, for pairs a merchant (or a benchmark) names:
embeddings for the meaning, ``index.scoring`` for the evidence, and the catalog's own
variant words (``index.axes``) when given. ``workspace.match_in_workspace`` reads those
words, the model and the threshold from a workspace.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from nextdrop.index.embedder import Embedder
from nextdrop.index.scoring import evidence
from nextdrop.index.text import TextFeatures, has_title

UNRELATED = "different"  # the kind of a pair below the "similar" band


@dataclass(frozen=True)
class PairMatch:
    """One scored pair, with the evidence a merchant can check against the two titles."""

    left: str
    right: str
    score: float
    kind: str  # exact, near_duplicate, variant, similar, different, or no_title
    reason: str

    @property
    def is_duplicate(self) -> bool:
        return self.kind in ("exact", "near_duplicate")

    def to_json(self) -> dict[str, object]:
        return {"left": self.left, "right": self.right, "score": self.score, "kind": self.kind, "reason": self.reason}


def match_pairs(
    pairs: Sequence[tuple[str, str]],
    embedder: Embedder,
    threshold: float,
    axes: Collection[str] = frozenset(),
    same_source: bool = True,
) -> list[PairMatch]:
    """Each pair's score, kind and reason, in order. ``same_source``: both titles in one merchant's style."""
    texts = sorted({t for pair in pairs for t in pair})
    vectors = embedder.encode(texts) if texts else np.zeros((0, 1), dtype=np.float32)
    row = {t: n for n, t in enumerate(texts)}
    features = {t: TextFeatures(t) for t in texts}
    found = []
    for left, right in pairs:
        if not (has_title(left) and has_title(right)):
            found.append(PairMatch(left, right, 0.0, "no_title", "a title is empty or only codes and numbers"))
            continue
        cosine = float(vectors[row[left]] @ vectors[row[right]])
        ev = evidence(features[left], features[right], cosine, axes=axes)
        kind = ev.kind(threshold, same_source) or UNRELATED
        found.append(PairMatch(left, right, round(ev.score, 4), kind, ev.reason()))
    return found
