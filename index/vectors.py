"""A FAISS index over normalised vectors (inner product = cosine), keyed by product id.

Exact search (``IndexFlatIP``) while the catalog is small; above ``APPROXIMATE_FROM``
vectors, where exact all-pairs search gets slow, ``auto`` picks IVF: PCA drops the
directions that carry almost no variance (the static embeddings span about 130 of their
256 dimensions), k-means lists hold the projected vectors in fp16, and a whole
catalog's neighbours are found a list at a time with BLAS (``batched_search``). On unit
vectors the L2 ranking is the cosine ranking, and L2 survives PCA's centring where inner
products do not. Against HNSW (the ``hnsw`` kind) it builds ten times faster in a
quarter of the memory with higher recall, and a catalog's build and all-neighbours
search together cost about 40% fewer CPU cycles at 200k titles (BENCHMARKS.md). Products
are added and removed in place: flat and IVF delete directly, HNSW marks removed ids and
skips them, and compacts once they pass a tenth of the index.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import faiss
import numpy as np

from nextdrop.errors import SettingsError
from nextdrop.index.batched_search import search_by_list
from nextdrop.store.files import atomic_write

APPROXIMATE_FROM = 50_000
HNSW_M = 16  # with efConstruction 64 and efSearch 32: recall@10 0.975 on 200k titles (BENCHMARKS.md)
HNSW_EF_CONSTRUCTION = 64
HNSW_EF_SEARCH = 32
KINDS = ("auto", "flat", "hnsw", "ivf")
IVF_ENERGY = 0.9999  # share of the variance PCA keeps: 131 of 256 dims for the static model
IVF_PROBES = (48, 64)  # fewest and most lists a query scans, of about 2 * sqrt(n)
IVF_SCAN = 24_000  # vectors a query should compare with (recall@10 at 200k: 64 lists 0.975; at 1M: 48 lists 0.972)
IVF_PCA_SAMPLE = 50_000
IVF_TRAIN_PER_LIST = 32  # k-means sample per list
IVF_REBUILD_GROWTH = 2  # rebuild once the right number of lists is this many times the trained one
QUERY_BATCH = 262_144  # queries per pass; the IVF search reads every list once a pass (65,536: 1.5x its CPU at 1M)


def choose_kind(setting: str, size: int) -> str:
    """``flat``, ``hnsw`` or ``ivf`` for a catalog of ``size`` under the ``index.index_kind`` setting."""
    if setting not in KINDS:
        raise SettingsError(f"index.index_kind = {setting!r}; use one of {', '.join(KINDS)}")
    if setting == "auto":
        return "ivf" if size >= APPROXIMATE_FROM else "flat"
    return setting


def _new_faiss(kind: str, dim: int) -> faiss.Index:
    if kind == "ivf":  # an untrained stand-in: the first add picks PCA dims and lists from its vectors
        return faiss.IndexPreTransform(faiss.PCAMatrix(dim, dim), faiss.IndexIVFFlat(faiss.IndexFlatL2(dim), dim, 1))
    if kind == "flat":
        inner = faiss.IndexFlatIP(dim)
    else:
        inner = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        inner.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        inner.hnsw.efSearch = HNSW_EF_SEARCH
    return faiss.IndexIDMap2(inner)


def _lists_for(size: int) -> int:
    """About ``2 * sqrt(size)`` lists: balances assigning vectors to lists against scanning them."""
    return max(1, round(2 * size**0.5))


def _probes(size: int, nlist: int) -> int:
    """Lists to scan: about ``IVF_SCAN`` vectors' worth, within ``IVF_PROBES``.

    Lists grow with the catalog, so a large one needs fewer of them for the same recall
    (at 1M titles 48 lists reach about what 64 reach at 200k), and the whole-catalog
    search costs about in proportion to the lists it scans.
    """
    return int(np.clip(round(IVF_SCAN * nlist / max(size, 1)), *IVF_PROBES))


def _new_ivf(vectors: np.ndarray) -> faiss.IndexPreTransform:
    """PCA + IVF (fp16, L2), trained on a sample of ``vectors``; it takes ids as given."""
    rng = np.random.default_rng(0)
    dim, nlist = vectors.shape[1], _lists_for(len(vectors))
    pca_sample = vectors[np.sort(rng.choice(len(vectors), min(len(vectors), IVF_PCA_SAMPLE), replace=False))]
    pca = faiss.PCAMatrix(dim, _kept_dims(pca_sample))
    pca.train(pca_sample)
    projected_dim = pca.d_out
    ivf = faiss.IndexIVFScalarQuantizer(
        faiss.IndexFlatL2(projected_dim), projected_dim, nlist, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_L2
    )
    ivf.by_residual = False  # the batched search reads the stored vectors as they are
    ivf.cp.min_points_per_centroid = 1  # a small catalog gets few points per list; not worth a warning
    ivf.nprobe = _probes(len(vectors), nlist)
    train = vectors[np.sort(rng.choice(len(vectors), min(len(vectors), IVF_TRAIN_PER_LIST * nlist), replace=False))]
    ivf.train(pca.apply(np.ascontiguousarray(train, dtype=np.float32)))
    ivf.set_direct_map_type(faiss.DirectMap.Hashtable)  # reconstruct and remove by id
    index = faiss.IndexPreTransform(pca, ivf)
    index.is_trained = True
    return index


def _kept_dims(sample: np.ndarray) -> int:
    """Principal components holding ``IVF_ENERGY`` of the variance, rounded up to a multiple of 8.

    All of them for a sample too small to tell which directions later vectors will use.
    """
    if len(sample) < 10 * sample.shape[1]:
        return sample.shape[1]
    variances = np.linalg.eigvalsh(np.cov(sample, rowvar=False))[::-1].clip(min=0)
    kept = int(np.searchsorted(np.cumsum(variances) / max(variances.sum(), 1e-12), IVF_ENERGY)) + 1
    return min(sample.shape[1], -(-kept // 8) * 8)


class VectorIndex:
    """Vectors by string id; search returns ids and cosine scores."""

    def __init__(self, dim: int, kind: str = "flat") -> None:
        self.dim = dim
        self.kind = kind
        self.index = _new_faiss(kind, dim)
        self._ids: dict[int, str] = {}  # faiss id -> product id
        self._rows: dict[str, int] = {}  # product id -> faiss id
        self._removed: set[int] = set()
        self._next = 0

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, item: str) -> bool:
        return item in self._rows

    @property
    def ids(self) -> list[str]:
        return list(self._rows)

    def add(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Add (or replace) vectors for ``ids``."""
        if len(ids) == 0:
            return
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate ids in one add() call")
        self.remove([i for i in ids if i in self._rows])
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if not self.index.is_trained:
            self.index = _new_ivf(vectors)
        faiss_ids = np.arange(self._next, self._next + len(ids), dtype=np.int64)
        self.index.add_with_ids(vectors, faiss_ids)
        for fid, pid in zip(faiss_ids.tolist(), ids, strict=True):
            self._ids[fid] = pid
            self._rows[pid] = fid
        self._next += len(ids)
        if self.kind == "ivf" and _lists_for(len(self)) > IVF_REBUILD_GROWTH * self._ivf().nlist:
            self._compact()  # lists trained on a much smaller catalog would be too long to scan

    def remove(self, ids: Sequence[str]) -> None:
        """Drop ``ids`` (unknown ids are ignored)."""
        gone = [self._rows.pop(i) for i in ids if i in self._rows]
        for fid in gone:
            del self._ids[fid]
        if not gone:
            return
        if self.kind != "hnsw":
            self.index.remove_ids(np.array(gone, dtype=np.int64))
            return
        self._removed.update(gone)
        if len(self._removed) > 0.1 * max(1, self.index.ntotal):
            self._compact()

    def vectors(self, ids: Sequence[str]) -> np.ndarray:
        """Stored vectors of ``ids``, in that order (``ivf``: back from PCA and fp16, close to the added ones)."""
        out = np.zeros((len(ids), self.dim), dtype=np.float32)
        for row, pid in enumerate(ids):
            out[row] = self.index.reconstruct(self._rows[pid])
        return out

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, list[list[str]]]:
        """Top-``k`` (score, id) per query row, best first; fewer when the index is small."""
        if len(self) == 0 or len(queries) == 0:
            return np.zeros((len(queries), 0), dtype=np.float32), [[] for _ in range(len(queries))]
        fetch = min(k + len(self._removed), self.index.ntotal)
        scores, fids = self._search(queries, fetch)
        out_scores = np.full((len(queries), min(k, len(self))), -1.0, dtype=np.float32)
        out_ids: list[list[str]] = []
        for row in range(len(queries)):
            kept = [(s, self._ids[f]) for s, f in zip(scores[row], fids[row], strict=True) if f in self._ids]
            kept = kept[:k]
            out_scores[row, : len(kept)] = [s for s, _ in kept]
            out_ids.append([pid for _, pid in kept])
        return out_scores, out_ids

    def neighbour_rows(self, queries: np.ndarray, k: int, order: Sequence[str]) -> np.ndarray:
        """``search``'s top-``k`` as positions in ``order`` (-1 for an id not in it), for many queries.

        Same neighbours as ``search`` but numpy end to end: no Python list per query row,
        which matters at a million queries.
        """
        out = np.full((len(queries), k), -1, dtype=np.int64)
        if len(self) == 0 or len(queries) == 0:
            return out
        lookup = np.full(self._next, -1, dtype=np.int64)  # faiss id -> position; -2: not live
        lookup[np.fromiter(self._removed, dtype=np.int64, count=len(self._removed))] = -2
        for position, pid in enumerate(order):
            fid = self._rows.get(pid)
            if fid is not None:
                lookup[fid] = position
        fetch = min(k + len(self._removed), self.index.ntotal)
        for start in range(0, len(queries), QUERY_BATCH):
            _, fids = self._search(queries[start : start + QUERY_BATCH], fetch)
            found = np.where(fids >= 0, lookup[np.maximum(fids, 0)], -2)
            live = found != -2
            rank = np.cumsum(live, axis=1)  # live hits so far, the removed ones skipped as in ``search``
            keep = live & (rank <= k)
            rows, cols = np.nonzero(keep)
            out[start + rows, rank[rows, cols] - 1] = found[rows, cols]
        return out

    def _search(self, queries: np.ndarray, fetch: int) -> tuple[np.ndarray, np.ndarray]:
        """Cosine scores and faiss ids of the ``fetch`` nearest, best first (id -1: none)."""
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if self.kind != "ivf":
            return self.index.search(queries, fetch)
        projection = faiss.downcast_VectorTransform(self.index.chain.at(0))
        distances, fids = search_by_list(self._ivf(), projection.apply(queries), fetch)
        return 1 - distances / 2, fids  # squared L2 between unit vectors -> cosine

    def _ivf(self) -> faiss.IndexIVF:
        return faiss.downcast_index(faiss.extract_index_ivf(self.index))

    def _compact(self) -> None:
        """Rebuild without the removed vectors (HNSW cannot delete in place), or with IVF lists for the size."""
        ids = list(self._rows)
        vectors = self.vectors(ids)
        self.index = _new_faiss(self.kind, self.dim)
        self._ids, self._rows, self._removed, self._next = {}, {}, set(), 0
        self.add(ids, vectors)

    def save(self, folder: Path) -> None:
        """Write ``vectors.faiss`` and ``ids.json`` atomically into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(folder / "vectors.faiss", faiss.serialize_index(self.index).tobytes())
        state = {
            "kind": self.kind,
            "dim": self.dim,
            "next": self._next,
            "removed": sorted(self._removed),
            "ids": [[fid, pid] for fid, pid in self._ids.items()],
        }
        atomic_write(folder / "ids.json", json.dumps(state))

    @classmethod
    def load(cls, folder: Path) -> VectorIndex:
        state = json.loads((folder / "ids.json").read_text(encoding="utf-8"))
        index = cls(state["dim"], state["kind"])
        index.index = faiss.deserialize_index(np.fromfile(folder / "vectors.faiss", dtype=np.uint8))
        if state["kind"] == "hnsw":
            faiss.downcast_index(index.index.index).hnsw.efSearch = HNSW_EF_SEARCH
        elif state["kind"] == "ivf" and index.index.is_trained:
            index._ivf().nprobe = _probes(index._ivf().ntotal, index._ivf().nlist)
        index._ids = {int(fid): pid for fid, pid in state["ids"]}
        index._rows = {pid: fid for fid, pid in index._ids.items()}
        index._removed = set(state["removed"])
        index._next = state["next"]
        return index
