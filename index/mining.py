"""Candidate pairs for duplicate detection, each measured into ``Evidence``.

Candidates come from three cheap channels pooled together: the nearest neighbours in
embedding space, records with the same normalised text, and records sharing a model
code. Only pairs that some channel proposes are scored, so mining stays near-linear.
A record is never paired with itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from nextdrop.index.scoring import Evidence, evidence
from nextdrop.index.text import TextFeatures
from nextdrop.index.vectors import VectorIndex

NEIGHBOURS = 10
COSINE_FLOOR = 0.5  # embedding-only candidates below this are not worth scoring
KEEP_BASE = 0.45  # evidence kept for re-thresholding down to about KEEP_BASE + SIMILAR_MARGIN
CODE_BLOCK_LIMIT = 20  # a code shared by more records than this is a series name, not a model

Mined = tuple[str, str, Evidence]
Step = Callable[[str], None]


@dataclass
class Records:
    """Ids, titles and their (normalised) embedding rows, in one order."""

    ids: list[str]
    texts: list[str]
    vectors: np.ndarray

    def __post_init__(self) -> None:
        if not (len(self.ids) == len(self.texts) == len(self.vectors)):
            raise ValueError("ids, texts and vectors must have the same length")
        self._features: dict[int, TextFeatures] = {}

    def __len__(self) -> int:
        return len(self.ids)

    def forget_features(self) -> None:
        """Free the per-record features once mining is done (they are most of its memory)."""
        self._features.clear()

    def features(self, row: int) -> TextFeatures:
        if row not in self._features:
            self._features[row] = TextFeatures(self.texts[row])
        return self._features[row]


def _blocks(records: Records) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """Rows by exact-text key and by model code (codes of over-common series dropped)."""
    by_key: dict[str, list[int]] = defaultdict(list)
    by_code: dict[str, list[int]] = defaultdict(list)
    for row in range(len(records)):
        feats = records.features(row)
        if feats.key:
            by_key[feats.key].append(row)
        for code in feats.codes:
            by_code[code].append(row)
    return by_key, {c: rows for c, rows in by_code.items() if len(rows) <= CODE_BLOCK_LIMIT}


def _neighbours(
    index: VectorIndex, queries: np.ndarray, positions: dict[str, int], k: int
) -> Iterable[tuple[int, int]]:
    for start in range(0, len(queries), 4096):
        _, ids = index.search(queries[start : start + 4096], k)
        for offset, found in enumerate(ids):
            for pid in found:
                if pid in positions:
                    yield start + offset, positions[pid]


def mine_within(records: Records, index: VectorIndex, k: int = NEIGHBOURS, step: Step | None = None) -> list[Mined]:
    """Scored candidate pairs inside one catalog (``index`` holds the same records)."""
    positions = {pid: row for row, pid in enumerate(records.ids)}
    pairs: set[tuple[int, int]] = set()
    if step:
        step("nearest neighbours")
    for i, j in _neighbours(index, records.vectors, positions, k + 1):
        if i != j:
            pairs.add((min(i, j), max(i, j)))
    if step:
        step("same text and shared codes")
    by_key, by_code = _blocks(records)
    for rows in by_key.values():  # a star per key is enough to group identical titles
        pairs.update((rows[0], other) for other in rows[1:])
    for rows in by_code.values():
        pairs.update((a, b) for n, a in enumerate(rows) for b in rows[n + 1 :])
    if step:
        step("scoring pairs")
    try:
        return _score(records, records, pairs)
    finally:
        records.forget_features()


def mine_across(
    queries: Records, catalog: Records, index: VectorIndex, k: int = NEIGHBOURS, step: Step | None = None
) -> list[Mined]:
    """Scored pairs (query record, catalog record); ``index`` holds the catalog."""
    positions = {pid: row for row, pid in enumerate(catalog.ids)}
    if step:
        step("nearest neighbours")
    pairs = set(_neighbours(index, queries.vectors, positions, k))
    if step:
        step("same text and shared codes")
    by_key, by_code = _blocks(catalog)
    for row in range(len(queries)):
        feats = queries.features(row)
        pairs.update((row, other) for other in by_key.get(feats.key, ()))
        for code in feats.codes:
            pairs.update((row, other) for other in by_code.get(code, ()))
    if step:
        step("scoring pairs")
    try:
        return _score(queries, catalog, pairs)
    finally:
        queries.forget_features()
        catalog.forget_features()


def _score(left: Records, right: Records, pairs: set[tuple[int, int]]) -> list[Mined]:
    if not pairs:
        return []
    rows = np.array(sorted(pairs), dtype=np.int64)
    cosines = np.einsum("ij,ij->i", left.vectors[rows[:, 0]], right.vectors[rows[:, 1]])
    mined: list[Mined] = []
    for (i, j), cosine in zip(rows.tolist(), cosines.tolist(), strict=True):
        a, b = left.ids[i], right.ids[j]
        if a == b:
            continue
        fa, fb = left.features(i), right.features(j)
        if cosine < COSINE_FLOOR and fa.key != fb.key and not (fa.codes & fb.codes):
            continue
        ev = evidence(fa, fb, cosine, floor=KEEP_BASE)
        if ev.same_text or ev.base >= KEEP_BASE:
            mined.append((a, b, ev))
    return mined
