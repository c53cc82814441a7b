"""Top-k search of many queries over a FAISS IVF index (L2, vectors stored as they are), list by list.

FAISS scans the probed lists query by query. When a whole catalog is the query set,
every list is probed by thousands of queries, so grouping the queries by the lists
they probe turns the scan into one BLAS matrix product per list. Picking each query's
top-k out of those products costs more than the products, so the nearest list is
searched first (a partial sort) and its k-th best becomes the query's bar: from the other
lists only the few scores above the bar are kept and merged in batches. Lists are scored
on several threads (numpy releases the GIL in the products and selections). Same probes
and neighbours as ``ivf.search``.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import faiss
import numpy as np

from nextdrop.index.cores import cores

MERGE_EVERY = 1_000_000  # candidates above the bars held before they are merged (and the bars raised)


def search_by_list(ivf: faiss.IndexIVF, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``ivf.search(queries, k)`` for many queries: (squared L2 distances, ids) best first, id -1 where fewer exist."""
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    _, probes = ivf.quantizer.search(queries, min(ivf.nprobe, ivf.nlist))
    # [q, 1] . [x, -|x|^2 / 2] = -|q - x|^2 / 2 + |q|^2 / 2: higher is nearer, from one matrix product
    half_norms = 0.5 * np.einsum("ij,ij->i", queries, queries)
    queries = np.hstack([queries, np.ones((len(queries), 1), dtype=np.float32)])
    top = _TopK(len(queries), k)
    with ThreadPoolExecutor(cores()) as pool:  # numpy releases the GIL in the products and selections
        nearest = pool.map(lambda item: _best_in_list(ivf, queries, *item, k), _rows_by_list(probes[:, :1], ivf.nlist))
        for found in nearest:
            top.offer(*found)
        top.merge()
        others = pool.map(lambda item: _above_bar(ivf, queries, *item, top), _rows_by_list(probes[:, 1:], ivf.nlist))
        for found in others:
            top.offer(*found)  # bars only rise as merges happen: a list scored against an older bar keeps a few more
    top.merge()
    scores, ids = top.ranked()
    return 2 * (half_norms[:, None] - scores), ids


def _best_in_list(
    ivf: faiss.IndexIVF, queries: np.ndarray, lst: int, rows: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The top ``k`` of list ``lst`` for each query row that probes it first."""
    list_ids, vectors = list_contents(ivf, lst)
    scores = queries[rows] @ vectors.T
    best = np.argpartition(-scores, k - 1, axis=1)[:, :k] if scores.shape[1] > k else np.indices(scores.shape)[1]
    best_scores = np.take_along_axis(scores, best, axis=1).ravel()
    return np.repeat(rows, best.shape[1]), best_scores, list_ids[best.ravel()]


def _above_bar(
    ivf: faiss.IndexIVF, queries: np.ndarray, lst: int, rows: np.ndarray, top: _TopK
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores from list ``lst`` above each probing query's bar (most rows have none)."""
    list_ids, vectors = list_contents(ivf, lst)
    scores = queries[rows] @ vectors.T
    bar = top.bar[rows]
    hit = np.nonzero(scores.max(axis=1) > bar)[0]
    above = np.nonzero(scores[hit] > bar[hit, None])
    return rows[hit[above[0]]], scores[hit][above], list_ids[above[1]]


def list_contents(ivf: faiss.IndexIVF, lst: int) -> tuple[np.ndarray, np.ndarray]:
    """Ids and ``[x, -|x|^2 / 2]`` rows of inverted list ``lst`` (fp16 codes, not residuals: ``vectors._new_ivf``)."""
    size = ivf.invlists.list_size(lst)
    list_ids = faiss.rev_swig_ptr(ivf.invlists.get_ids(lst), size).copy()
    codes = faiss.rev_swig_ptr(ivf.invlists.get_codes(lst), size * ivf.code_size)
    vectors = codes.view(np.float16).reshape(size, ivf.d).astype(np.float32)
    return list_ids, np.hstack([vectors, -0.5 * np.einsum("ij,ij->i", vectors, vectors)[:, None]])


def _rows_by_list(probes: np.ndarray, nlist: int) -> Iterator[tuple[int, np.ndarray]]:
    """Each list with the query rows that probe it (``probes``: list numbers per query row, -1 none)."""
    flat = probes.astype(np.int32).ravel()
    by_list = np.argsort(flat, kind="stable")
    bounds = np.searchsorted(flat[by_list], np.arange(nlist + 1))
    for lst in range(nlist):
        if bounds[lst + 1] > bounds[lst]:
            yield lst, by_list[bounds[lst] : bounds[lst + 1]] // probes.shape[1]


class _TopK:
    """The ``k`` highest scores per query so far, and the bar (k-th best) a new candidate must pass."""

    def __init__(self, queries: int, k: int) -> None:
        self.k = k
        self.scores = np.full((queries, k), -np.inf, dtype=np.float32)
        self.ids = np.full((queries, k), -1, dtype=np.int64)
        self.bar = np.full(queries, -np.inf, dtype=np.float32)
        self._pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._held = 0

    def offer(self, rows: np.ndarray, scores: np.ndarray, ids: np.ndarray) -> None:
        """Candidates as aligned (query row, score, id) arrays; merged when enough are held."""
        self._pending.append((rows, scores, ids))
        self._held += len(rows)
        if self._held > MERGE_EVERY:
            self.merge()

    def merge(self) -> None:
        """Fold the held candidates into the top-k of their queries and raise those queries' bars."""
        if not self._pending:
            return
        rows = np.unique(np.concatenate([r for r, _, _ in self._pending]))
        cand_rows = np.concatenate([np.repeat(rows, self.k), *[r for r, _, _ in self._pending]])
        cand_scores = np.concatenate([self.scores[rows].ravel(), *[s for _, s, _ in self._pending]])
        cand_ids = np.concatenate([self.ids[rows].ravel(), *[i for _, _, i in self._pending]])
        self._pending, self._held = [], 0
        order = np.lexsort((-cand_scores, cand_rows))
        cand_rows, cand_scores, cand_ids = cand_rows[order], cand_scores[order], cand_ids[order]
        starts = np.searchsorted(cand_rows, rows)
        rank = np.arange(len(cand_rows)) - np.repeat(starts, np.diff(np.append(starts, len(cand_rows))))
        keep = rank < self.k
        self.scores[cand_rows[keep], rank[keep]] = cand_scores[keep]
        self.ids[cand_rows[keep], rank[keep]] = cand_ids[keep]
        self.bar[rows] = self.scores[rows, -1]

    def ranked(self) -> tuple[np.ndarray, np.ndarray]:
        """Scores and ids per query, best first (merge keeps each row sorted)."""
        return self.scores, self.ids
