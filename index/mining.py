"""Candidate pairs for duplicate detection, each measured into ``Evidence``.

Candidates come from three cheap channels pooled together: the nearest neighbours in
embedding space, records with the same normalised text, and records sharing a model
code. Only pairs that some channel proposes are scored, so mining stays near-linear.
A record is never paired with itself.
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
import os
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from rapidfuzz import fuzz, process

from nextdrop.index.scoring import (
    CODE_BONUS,
    COSINE_WEIGHT,
    JACCARD_WEIGHT,
    TOKEN_SET_WEIGHT,
    Evidence,
    measured,
)
from nextdrop.index.text import TextFeatures, gram_codes
from nextdrop.index.vectors import VectorIndex

NEIGHBOURS = 10
COSINE_FLOOR = 0.5  # embedding-only candidates below this are not worth scoring
KEEP_BASE = 0.45  # evidence kept for re-thresholding down to about KEEP_BASE + SIMILAR_MARGIN
CODE_BLOCK_LIMIT = 20  # a code shared by more records than this is a series name, not a model
PAIR_CHUNK = 200_000  # candidate pairs measured in bulk at a time (bounds the gathered vectors and grams)
PARALLEL_FROM = 50_000  # pairs needing full evidence before it pays to fork worker processes

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


def _extend(left: list[np.ndarray], right: list[np.ndarray], pairs: list[tuple[int, int]]) -> None:
    """Append ``pairs`` to the candidate columns."""
    if pairs:
        left.append(np.array([a for a, _ in pairs], dtype=np.int64))
        right.append(np.array([b for _, b in pairs], dtype=np.int64))


def _unique_pairs(left: np.ndarray, right: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct ``(left, right)`` row pairs in sorted order (``width`` = number of right rows)."""
    flat = np.unique(left.astype(np.int64) * width + right.astype(np.int64))
    return flat // width, flat % width


def mine_within(records: Records, index: VectorIndex, k: int = NEIGHBOURS, step: Step | None = None) -> list[Mined]:
    """Scored candidate pairs inside one catalog (``index`` holds the same records)."""
    if step:
        step("nearest neighbours")
    found = index.neighbour_rows(records.vectors, k + 1, records.ids)
    query = np.repeat(np.arange(len(records), dtype=np.int64), found.shape[1])
    found = found.ravel()
    linked = (found >= 0) & (found != query)
    left, right = [np.minimum(query, found)[linked]], [np.maximum(query, found)[linked]]
    if step:
        step("same text and shared codes")
    by_key, by_code = _blocks(records)
    star = [(rows[0], other) for rows in by_key.values() for other in rows[1:]]  # a star per key groups a text
    clique = [(a, b) for rows in by_code.values() for n, a in enumerate(rows) for b in rows[n + 1 :]]
    for block in (star, clique):
        _extend(left, right, block)
    if step:
        step("scoring pairs")
    try:
        return _score(records, records, *_unique_pairs(np.concatenate(left), np.concatenate(right), len(records)))
    finally:
        records.forget_features()


def mine_across(
    queries: Records, catalog: Records, index: VectorIndex, k: int = NEIGHBOURS, step: Step | None = None
) -> list[Mined]:
    """Scored pairs (query record, catalog record); ``index`` holds the catalog."""
    if step:
        step("nearest neighbours")
    found = index.neighbour_rows(queries.vectors, k, catalog.ids)
    query = np.repeat(np.arange(len(queries), dtype=np.int64), found.shape[1])
    found = found.ravel()
    left, right = [query[found >= 0]], [found[found >= 0]]
    if step:
        step("same text and shared codes")
    by_key, by_code = _blocks(catalog)
    block = []
    for row in range(len(queries)):
        feats = queries.features(row)
        block.extend((row, other) for other in by_key.get(feats.key, ()))
        for code in feats.codes:
            block.extend((row, other) for other in by_code.get(code, ()))
    _extend(left, right, block)
    if step:
        step("scoring pairs")
    try:
        return _score(queries, catalog, *_unique_pairs(np.concatenate(left), np.concatenate(right), len(catalog)))
    finally:
        queries.forget_features()
        catalog.forget_features()


def _gram_sets(left: Records, right: Records) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Each side's character 3-grams as binary sparse rows over one shared gram vocabulary."""
    sides = [left] if left is right else [left, right]
    built = [gram_codes([records.features(row).norm for row in range(len(records))]) for records in sides]
    vocabulary, columns = np.unique(np.concatenate([codes for _, codes in built]), return_inverse=True)
    matrices, offset = [], 0
    for indptr, codes in built:
        cols = columns[offset : offset + len(codes)].astype(np.int32)
        offset += len(codes)
        matrix = sp.csr_matrix(
            (np.ones(len(cols), dtype=np.int8), cols, indptr), shape=(len(indptr) - 1, len(vocabulary))
        )
        matrix.has_canonical_format = True  # rows are sorted and unique by construction
        matrices.append(matrix)
    return matrices[0], matrices[-1]


def _score(left: Records, right: Records, rows_a: np.ndarray, rows_b: np.ndarray) -> list[Mined]:
    """Evidence for the candidate pairs worth keeping.

    The cheap part of the score (cosine, 3-gram Jaccard, token-set ratio) is computed in
    bulk for every candidate; the per-pair work (codes, attributes, distinct words) runs
    only where the base similarity can still reach ``KEEP_BASE``, on every core. Same
    evidence as ``scoring.evidence`` pair by pair (tested), at a fraction of the time.
    """
    if not len(rows_a):
        return []
    grams_a, grams_b = _gram_sets(left, right)
    sizes_a, sizes_b = np.diff(grams_a.indptr), np.diff(grams_b.indptr)
    tokens_a = [left.features(row).token_text for row in range(len(left))]
    tokens_b = tokens_a if right is left else [right.features(row).token_text for row in range(len(right))]
    keys: dict[str, int] = {}
    key_a = np.array([keys.setdefault(left.features(r).key, len(keys)) for r in range(len(left))], dtype=np.int64)
    key_b = np.array([keys.setdefault(right.features(r).key, len(keys)) for r in range(len(right))], dtype=np.int64)
    no_key = keys.get("", -1)
    kept: list[tuple[np.ndarray, ...]] = []
    for start in range(0, len(rows_a), PAIR_CHUNK):
        i, j = rows_a[start : start + PAIR_CHUNK], rows_b[start : start + PAIR_CHUNK]
        cosines = np.einsum("ij,ij->i", left.vectors[i], right.vectors[j])
        shared = np.diff(grams_a[i].multiply(grams_b[j]).indptr)
        jaccard = shared / (sizes_a[i] + sizes_b[j] - shared)
        token_set = process.cpdist(
            [tokens_a[r] for r in i.tolist()],
            [tokens_b[r] for r in j.tolist()],
            scorer=fuzz.token_set_ratio,
            dtype=np.float64,
            workers=-1,
        ) / 100.0
        blend = COSINE_WEIGHT * cosines.astype(np.float64) + JACCARD_WEIGHT * jaccard + TOKEN_SET_WEIGHT * token_set
        same_text = (key_a[i] == key_b[j]) & (key_a[i] != no_key)
        hope = same_text | (blend + CODE_BONUS >= KEEP_BASE)
        kept.append((i[hope], j[hope], cosines[hope], jaccard[hope], token_set[hope]))
    pairs = tuple(np.concatenate(column) for column in zip(*kept, strict=True))
    return _measure_all(left, right, pairs)


_Pairs = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # rows a, rows b, cosine, jaccard, token set
_SHARED: tuple[Records, Records, _Pairs] | None = None  # what forked workers read (inherited, never pickled)


def _measure_all(left: Records, right: Records, pairs: _Pairs) -> list[Mined]:
    """``_measure`` over all pairs, split across processes when there are enough to pay for them."""
    global _SHARED
    workers = min(os.cpu_count() or 1, 8)
    if len(pairs[0]) < PARALLEL_FROM or workers < 2 or "fork" not in mp.get_all_start_methods():
        found = _measure(left, right, pairs, 0, len(pairs[0]))
    else:
        _SHARED = (left, right, pairs)
        bounds = np.linspace(0, len(pairs[0]), 4 * workers + 1).astype(int).tolist()
        try:
            with mp.get_context("fork").Pool(workers) as pool:
                found = [hit for part in pool.starmap(_measure_slice, itertools.pairwise(bounds)) for hit in part]
        finally:
            _SHARED = None
    return [(left.ids[pairs[0][n]], right.ids[pairs[1][n]], ev) for n, ev in found]


def _measure_slice(start: int, stop: int) -> list[tuple[int, Evidence]]:
    assert _SHARED is not None
    return _measure(*_SHARED, start, stop)


def _measure(left: Records, right: Records, pairs: _Pairs, start: int, stop: int) -> list[tuple[int, Evidence]]:
    """Full evidence for pairs ``start:stop`` (by position), keeping those that reach ``KEEP_BASE``."""
    rows_a, rows_b, cosines, jaccard, token_set = (column[start:stop].tolist() for column in pairs)
    found = []
    for n, (i, j, cosine, jac, tset) in enumerate(zip(rows_a, rows_b, cosines, jaccard, token_set, strict=True)):
        if left.ids[i] == right.ids[j]:
            continue
        fa, fb = left.features(i), right.features(j)
        if cosine < COSINE_FLOOR and fa.key != fb.key and not (fa.codes & fb.codes):
            continue
        ev = measured(fa, fb, cosine, jac, tset, floor=KEEP_BASE)
        if ev.same_text or ev.base >= KEEP_BASE:
            found.append((start + n, ev))
    return found
