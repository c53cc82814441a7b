"""Candidate pairs for duplicate detection, measured into ``MinedPairs`` columns.

Candidates come from three cheap channels pooled together: the nearest neighbours in
embedding space, records with the same normalised text, and records sharing a model
code. Only pairs that some channel proposes are scored, so mining stays near-linear.
A record is never paired with itself.

Every record's text features are worked out once, on every core, and packed
(``index.packed``). Scoring runs over slices of the candidates (ordered so that linked
records come together) on every core. A slice measures the cheap part of the score in
bulk (cosine, character 3-gram Jaccard, token-set ratio) and the full per-pair evidence
(codes, attributes, distinct words) only where the base similarity can still reach
``KEEP_BASE``. Each worker restores the features of the records its slices touch and
keeps a bounded number of them, so memory does not grow with the catalog; results come
back as packed columns.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import itertools
import multiprocessing as mp
import queue
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process

from nextdrop.index.cores import cores
from nextdrop.index.packed import Blocks, PackedFeatures
from nextdrop.index.pairs import MinedPairs, PairChunk
from nextdrop.index.scoring import CODE_BONUS, COSINE_WEIGHT, JACCARD_WEIGHT, TOKEN_SET_WEIGHT, measured
from nextdrop.index.text import TextFeatures
from nextdrop.index.vectors import VectorIndex

NEIGHBOURS = 10
COSINE_FLOOR = 0.5  # embedding-only candidates below this are not worth scoring
KEEP_BASE = 0.45  # evidence kept for re-thresholding down to about KEEP_BASE + SIMILAR_MARGIN
CODE_BLOCK_LIMIT = 20  # a code shared by more records than this is a series name, not a model
SLICE = 20_000  # candidate pairs measured together
RUN = 5 * SLICE  # consecutive pairs whose results travel back to the parent together
# Jobs worth forking worker processes for: about 0.2 s of work on one core, where forking
# costs about 0.05 s (working out a title's features takes ~50 µs, scoring a pair ~20 µs).
PARALLEL_TEXTS = 4_000
PARALLEL_PAIRS = 10_000
FEATURE_CACHE = 16_000  # text features a worker keeps (about 4 KB each; restoring one costs ~9 µs)

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

    def __len__(self) -> int:
        return len(self.ids)


class _Features:
    """Text features by row, restored on first use; the ``FEATURE_CACHE`` most recently used are kept."""

    def __init__(self, packed: PackedFeatures) -> None:
        self.packed = packed
        self.cache: dict[int, TextFeatures] = {}

    def __call__(self, row: int) -> TextFeatures:
        found = self.cache.pop(row, None)
        if found is None:
            found = self.packed.features(row)
            if len(self.cache) >= FEATURE_CACHE:
                for old in list(itertools.islice(self.cache, FEATURE_CACHE // 2)):
                    del self.cache[old]
        self.cache[row] = found  # (re)inserted last: dict order is least recently used first
        return found


def mine_within(
    records: Records,
    index: VectorIndex,
    *,
    threshold: float,
    k: int = NEIGHBOURS,
    step: Step | None = None,
    axes: frozenset[str] = frozenset(),
) -> MinedPairs:
    """Scored candidate pairs inside one catalog (``index`` holds the same records).

    The pairs classify exactly at ``threshold`` and any higher one (``DedupResult.rethreshold``).
    ``axes``: the catalog's variant words (``index.axes``).
    """
    _release_free_heap()  # what embedding and indexing freed: resident until handed back
    packed = _pack(records.texts, step)
    rows_a, rows_b = _candidates_within(records, packed, index, k, step)
    if step:
        step("scoring pairs")
    features = _Features(packed)  # one cache: both sides are the same records
    return _score(records, records, features, features, rows_a, rows_b, threshold, axes)


def mine_across(
    queries: Records,
    catalog: Records,
    index: VectorIndex,
    *,
    threshold: float,
    k: int = NEIGHBOURS,
    step: Step | None = None,
    axes: frozenset[str] = frozenset(),
) -> MinedPairs:
    """Scored pairs (query record, catalog record); ``index`` holds the catalog. The rest as in ``mine_within``."""
    _release_free_heap()  # what embedding and indexing freed: resident until handed back
    packed_queries, packed_catalog = _pack(queries.texts, step), _pack(catalog.texts, None)
    rows_a, rows_b = _candidates_across(queries, catalog, packed_queries, packed_catalog, index, k, step)
    if step:
        step("scoring pairs")
    features = _Features(packed_queries), _Features(packed_catalog)
    return _score(queries, catalog, *features, rows_a, rows_b, threshold, axes)


def _pack(texts: Sequence[str], step: Step | None) -> PackedFeatures:
    """Every record's text features, worked out on every core for a large catalog."""
    if step:
        step("text features")
    parallel = len(texts) >= PARALLEL_TEXTS
    size = _task_size(len(texts), SLICE)
    return PackedFeatures(texts, lambda work, shared, bounds: _fork_map(work, shared, bounds, parallel), size)


def _candidates_within(
    records: Records, packed: PackedFeatures, index: VectorIndex, k: int, step: Step | None
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct candidate pairs ``a < b`` (rows); what built them is freed before scoring forks."""
    if step:
        step("nearest neighbours")
    found = index.neighbour_rows(records.vectors, k + 1, records.ids)
    query = np.repeat(np.arange(len(records), dtype=np.int64), found.shape[1])
    found = found.ravel()
    linked = (found >= 0) & (found != query)
    left, right = [np.minimum(query, found)[linked]], [np.maximum(query, found)[linked]]
    del found, query, linked
    _release_free_heap()  # the search's temporaries
    if step:
        step("same text and shared codes")
    for a, b in (_same_text_pairs(packed.keys), _shared_code_pairs(packed.codes)):
        left.append(a)
        right.append(b)
    return _unique_pairs(np.concatenate(left), np.concatenate(right), len(records))


def _candidates_across(
    queries: Records,
    catalog: Records,
    packed_queries: PackedFeatures,
    packed_catalog: PackedFeatures,
    index: VectorIndex,
    k: int,
    step: Step | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct candidate pairs (query row, catalog row)."""
    if step:
        step("nearest neighbours")
    found = index.neighbour_rows(queries.vectors, k, catalog.ids)
    query = np.repeat(np.arange(len(queries), dtype=np.int64), found.shape[1])
    found = found.ravel()
    left, right = [query[found >= 0]], [found[found >= 0]]
    if step:
        step("same text and shared codes")
    for mine, theirs, limit in (
        (packed_queries.keys, packed_catalog.keys, None),
        (packed_queries.codes, packed_catalog.codes, CODE_BLOCK_LIMIT),
    ):
        a, b = _pairs_across(mine, theirs, limit)
        left.append(a)
        right.append(b)
    return _unique_pairs(np.concatenate(left), np.concatenate(right), len(catalog))


def _same_text_pairs(keys: Blocks) -> tuple[np.ndarray, np.ndarray]:
    """(first row, row) for every later row with the same exact-text key: a star per key groups a text."""
    starts, sizes = keys.groups()
    first = np.repeat(keys.rows[starts], sizes)
    later = np.ones(len(keys.rows), dtype=bool)
    later[starts] = False
    return first[later], keys.rows[later]


def _shared_code_pairs(codes: Blocks) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of rows sharing a code, for codes of at most ``CODE_BLOCK_LIMIT`` rows (longer: a series name)."""
    starts, sizes = codes.groups()
    left, right = [np.zeros(0, dtype=np.int32)], [np.zeros(0, dtype=np.int32)]
    for size in np.unique(sizes[(sizes >= 2) & (sizes <= CODE_BLOCK_LIMIT)]).tolist():
        members = codes.rows[starts[sizes == size][:, None] + np.arange(size)]  # one row per code, rows ascending
        i, j = np.triu_indices(size, 1)
        left.append(members[:, i].ravel())
        right.append(members[:, j].ravel())
    return np.concatenate(left), np.concatenate(right)


def _pairs_across(mine: Blocks, theirs: Blocks, limit: int | None) -> tuple[np.ndarray, np.ndarray]:
    """(my row, their row) for every hash both sides have; groups of theirs over ``limit`` rows are skipped."""
    starts, sizes = theirs.groups()
    if limit is not None:
        starts, sizes = starts[sizes <= limit], sizes[sizes <= limit]
    group_hashes = theirs.hashes[starts]
    at = np.searchsorted(group_hashes, mine.hashes)
    found = at < len(group_hashes)
    found[found] = group_hashes[at[found]] == mine.hashes[found]
    at, rows = at[found], mine.rows[found]
    counts = sizes[at]
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)  # 0.. count-1 per match
    return np.repeat(rows, counts), theirs.rows[np.repeat(starts[at], counts) + offsets]


def _unique_pairs(left: np.ndarray, right: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct ``(left, right)`` row pairs in sorted order (``width`` = number of right rows), as int32 rows."""
    flat = np.unique(left.astype(np.int64) * width + right.astype(np.int64))
    return (flat // width).astype(np.int32), (flat % width).astype(np.int32)


@dataclass
class _Job:
    """What scoring workers read: both sides, their feature caches and the candidates (inherited, never pickled)."""

    left: Records
    right: Records
    features_a: _Features
    features_b: _Features
    rows_a: np.ndarray
    rows_b: np.ndarray
    threshold: float  # distinct words are worked out for pairs that can reach it
    grams: _GramColumns
    axes: frozenset[str]


def _score(
    left: Records,
    right: Records,
    features_a: _Features,
    features_b: _Features,
    rows_a: np.ndarray,
    rows_b: np.ndarray,
    threshold: float,
    axes: frozenset[str],
) -> MinedPairs:
    """Evidence for the candidate pairs worth keeping, in runs of slices on every core.

    Pairs go in an order where the records they touch come and go in a sliding window,
    and each worker takes long runs of consecutive slices, so its bounded feature cache
    serves many pairs per record built.
    """
    if not len(rows_a):
        return MinedPairs.collect(left.ids, right.ids, [])
    order = _locality_order(rows_a, rows_b, len(left), len(right), same_side=right is left)
    rows_a[:], rows_b[:] = rows_a[order], rows_b[order]  # in place: a million-title run has tens of millions
    del order
    grams = _GramColumns(features_a.packed, features_b.packed)
    job = _Job(left, right, features_a, features_b, rows_a, rows_b, threshold, grams, axes)
    parallel = len(rows_a) >= PARALLEL_PAIRS
    runs = _fork_map(_score_run, job, _bounds(len(rows_a), _task_size(len(rows_a), RUN)), parallel)
    mined = MinedPairs.collect(left.ids, right.ids, (chunk for _, chunks in runs for chunk in chunks))
    _release_free_heap()  # what collecting the results freed
    return mined


def _locality_order(rows_a: np.ndarray, rows_b: np.ndarray, size_a: int, size_b: int, same_side: bool) -> np.ndarray:
    """Pairs sorted by their records' positions in a reverse Cuthill-McKee order of the candidate graph.

    That order keeps linked records close together (on 200k titles each record's features
    are built about 2 times instead of 5 with a 60k cache). Where a worker's cache holds
    every record the pairs keep their sorted order, and SciPy is not imported (a third of a
    second, as long as deduplicating a few thousand titles takes).
    """
    if max(size_a, size_b) <= FEATURE_CACHE:
        return np.arange(len(rows_a))
    import scipy.sparse as sp
    from scipy.sparse.csgraph import reverse_cuthill_mckee

    offset = 0 if same_side else size_a
    size = size_a if same_side else size_a + size_b
    ones = np.ones(len(rows_a), dtype=np.int32)
    graph = sp.csr_matrix((ones, (rows_a, rows_b + offset)), shape=(size, size))
    position = np.empty(size, dtype=np.int64)
    position[reverse_cuthill_mckee((graph + graph.T).tocsr(), symmetric_mode=True)] = np.arange(size)
    pa, pb = position[rows_a], position[rows_b + offset]
    return np.lexsort((np.maximum(pa, pb), np.minimum(pa, pb)))


def _score_run(job: _Job, start: int, stop: int) -> list[PairChunk]:
    return [_score_slice(job, *bound) for bound in _bounds(stop - start, SLICE, start)]


def _score_slice(job: _Job, start: int, stop: int) -> PairChunk:
    """Pairs ``start:stop``: the cheap scores in bulk, the full evidence where it can still matter."""
    i, j = job.rows_a[start:stop], job.rows_b[start:stop]
    distinct_a, at_a = np.unique(i, return_inverse=True)  # each record's features looked up once per slice
    distinct_b, at_b = np.unique(j, return_inverse=True)
    features_a = [job.features_a(r) for r in distinct_a.tolist()]
    features_b = [job.features_b(r) for r in distinct_b.tolist()]
    fa = [features_a[n] for n in at_a.tolist()]
    fb = [features_b[n] for n in at_b.tolist()]
    cosines = np.einsum("ij,ij->i", job.left.vectors[i], job.right.vectors[j]).astype(np.float64)
    jaccard = job.grams.jaccard(i, j)
    token_set = process.cpdist(
        [f.token_text for f in fa], [f.token_text for f in fb], scorer=fuzz.token_set_ratio, dtype=np.float64
    ) / 100.0
    blend = COSINE_WEIGHT * cosines + JACCARD_WEIGHT * jaccard + TOKEN_SET_WEIGHT * token_set
    same_key = job.features_a.packed.same_key(i, job.features_b.packed, j)
    hopeful = np.flatnonzero((blend + CODE_BONUS >= KEEP_BASE) | same_key).tolist()
    cosine, jacc, tokens = cosines.tolist(), jaccard.tolist(), token_set.tolist()  # Python floats: cheap to read
    rows_a, rows_b = i.tolist(), j.tolist()
    across = job.right is not job.left
    kept_a, kept_b, found = [], [], []
    for n in hopeful:
        a, b = fa[n], fb[n]
        if across and job.left.ids[rows_a[n]] == job.right.ids[rows_b[n]]:  # inside a catalog a < b
            continue
        if cosine[n] < COSINE_FLOOR and a.key != b.key and not (a.codes & b.codes):
            continue
        ev = measured(a, b, cosine[n], jacc[n], tokens[n], KEEP_BASE, job.threshold, job.axes)
        if ev.same_text or ev.base >= KEEP_BASE:
            kept_a.append(rows_a[n])
            kept_b.append(rows_b[n])
            found.append(ev)
    return PairChunk.measured(kept_a, kept_b, found, across)


class _GramColumns:
    """Both sides' character 3-grams as columns of one vocabulary, for exact Jaccard in bulk.

    One catalog's records share its packed vocabulary; a query file and a catalog have
    their own, so their columns are moved into the union of the two.
    """

    def __init__(self, packed_a: PackedFeatures, packed_b: PackedFeatures) -> None:
        self.a, self.b = packed_a, packed_b
        self.moves: tuple[np.ndarray, np.ndarray] | None = None
        self.width = len(packed_a.gram_vocabulary)
        if packed_a is not packed_b:
            union = np.union1d(packed_a.gram_vocabulary, packed_b.gram_vocabulary)
            moves = [np.searchsorted(union, p.gram_vocabulary).astype(np.int32) for p in (packed_a, packed_b)]
            self.moves, self.width = (moves[0], moves[1]), len(union)

    def jaccard(self, rows_a: np.ndarray, rows_b: np.ndarray) -> np.ndarray:
        """Character 3-gram Jaccard of the pairs ``(rows_a[n], rows_b[n])``: shared grams over all grams.

        Each pair's grams become keys ``n * width + column``, ascending on each side; merging
        the two sides (a stable sort of two sorted runs is one linear merge) puts the
        grams a pair shares next to each other.
        """
        (indptr_a, columns_a), (indptr_b, columns_b) = self.a.gram_rows(rows_a), self.b.gram_rows(rows_b)
        if self.moves is not None:  # order-preserving, so rows stay sorted
            columns_a, columns_b = self.moves[0][columns_a], self.moves[1][columns_b]
        sizes_a, sizes_b = np.diff(indptr_a), np.diff(indptr_b)
        pairs = np.arange(len(rows_a), dtype=np.int64) * self.width
        keys = [np.repeat(pairs, sizes_a) + columns_a, np.repeat(pairs, sizes_b) + columns_b]
        merged = np.sort(np.concatenate(keys), kind="stable")
        both = merged[1:][merged[1:] == merged[:-1]]
        shared = np.bincount(both // self.width, minlength=len(rows_a))
        return shared / (sizes_a + sizes_b - shared)


def _bounds(total: int, size: int, start: int = 0) -> list[tuple[int, int]]:
    """Consecutive ``(start, stop)`` ranges of at most ``size`` covering ``total`` items from ``start``."""
    return list(itertools.pairwise([*range(start, start + total, size), start + total])) if total else []


def _task_size(total: int, size: int) -> int:
    """``size``, or less for a small job, so that every core still gets a few tasks."""
    return max(1, min(size, -(-total // (4 * cores()))))


_SHARED: Any = None  # what forked workers read (inherited, never pickled)
WORKER_POLL = 1.0  # seconds between checks that no worker died without a word


def _fork_map(
    work: Callable[[Any, int, int], Any], shared: Any, bounds: list[tuple[int, int]], parallel: bool
) -> Iterator[tuple[int, Any]]:
    """``(n, work(shared, *bounds[n]))`` for every bound, as each finishes; on forked workers when ``parallel``.

    Workers inherit ``shared`` instead of receiving it pickled, and each keeps its own
    caches in it. Worker ``w`` of ``W`` takes the ``w``-th of ``W`` consecutive stretches of
    bounds: bounds cover equal amounts of work, and pairs in one stretch touch records the
    others mostly do not (Online Retail's scoring: 0.63-0.67 s against 0.70-0.80 s when the
    workers took every ``W``-th bound and each restored nearly every record's features).
    """
    global _SHARED
    workers = min(cores(), len(bounds))
    if not parallel or workers < 2 or "fork" not in mp.get_all_start_methods():
        for n, (start, stop) in enumerate(bounds):
            with _no_cycle_collection():
                found = work(shared, start, stop)
            yield n, found
        return
    _SHARED = (work, shared, bounds)
    # The workers' collector then leaves inherited objects alone: no copy-on-write of them. No
    # collection first: it walks every object (0.1 s in a process with the embedder loaded),
    # and garbage frozen here is collected after ``gc.unfreeze``.
    gc.freeze()
    _release_free_heap()
    context = mp.get_context("fork")
    results = context.Queue(maxsize=2 * workers)  # bounded: a worker waits rather than piling results up
    shares = [range(w * len(bounds) // workers, (w + 1) * len(bounds) // workers) for w in range(workers)]
    processes = [context.Process(target=_run_share, args=(results, share), daemon=True) for share in shares]
    try:
        for process in processes:
            process.start()
        for _ in bounds:
            n, failure, value = _next_result(results, processes)
            if failure:
                raise RuntimeError(f"a worker failed:\n{failure}")
            yield n, value
    finally:
        for process in processes:
            process.kill()
            process.join()
        gc.unfreeze()
        _SHARED = None


def _run_share(results: Any, share: range) -> None:
    """A worker's loop: its bounds in order, each result (or the traceback that stopped it) put on ``results``."""
    work, shared, bounds = _SHARED
    gc.disable()  # see _no_cycle_collection; the worker's memory goes when it exits
    for n in share:
        try:
            results.put((n, "", work(shared, *bounds[n])))
        except BaseException:  # reported to the parent, which raises it
            results.put((n, traceback.format_exc(), None))
            return


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """The cycle collector paused: slices allocate millions of small objects and form no cycles.

    Left on, it keeps walking the feature cache and the results so far: a third of
    scoring's time on 200k titles.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _next_result(results: Any, processes: list[Any]) -> tuple[int, str, Any]:
    while True:
        with contextlib.suppress(queue.Empty):
            return results.get(timeout=WORKER_POLL)
        if any(p.exitcode not in (None, 0) for p in processes):
            raise RuntimeError("a worker was killed (out of memory?); try a smaller catalog or more memory")


def _release_free_heap() -> None:
    """Hand freed heap pages back to the system (glibc keeps them otherwise).

    Called after each stage that frees a lot: a nearest-neighbour search over a million
    titles frees hundreds of MB of temporaries, which would otherwise stay resident in the
    parent through the later stages and while the workers run.
    """
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to hand back
        ctypes.CDLL("libc.so.6").malloc_trim(0)


