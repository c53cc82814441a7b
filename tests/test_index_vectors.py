"""The FAISS index: exact, HNSW and IVF, add/remove in place, persistence, and the auto choice."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nextdrop.errors import SettingsError
from nextdrop.index import batched_search
from nextdrop.index.embedder import normalise_rows
from nextdrop.index.vectors import APPROXIMATE_FROM, VectorIndex, choose_kind


def vectors(n: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    return normalise_rows(np.random.default_rng(seed).normal(size=(n, dim)))


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf"])
def test_search_add_remove_and_reload(kind: str, tmp_path: Path) -> None:
    data = vectors(300)
    ids = [f"p{i}" for i in range(300)]
    index = VectorIndex(16, kind)
    index.add(ids, data)
    scores, found = index.search(data[:5], 3)
    assert [f[0] for f in found] == ids[:5]
    assert scores[0, 0] == pytest.approx(1.0, abs=1e-5)

    index.remove(["p0", "p1", "missing"])
    _, found = index.search(data[:2], 3)
    assert not {"p0", "p1"} & {pid for row in found for pid in row}
    assert len(index) == 298

    index.add(["p2"], data[100:101])  # replace a vector in place
    _, found = index.search(data[100:101], 2)
    assert set(found[0]) == {"p2", "p100"}

    index.save(tmp_path)
    loaded = VectorIndex.load(tmp_path)
    assert len(loaded) == 298 and loaded.kind == kind
    assert loaded.search(data[3:4], 1)[1] == [["p3"]]


def test_hnsw_compacts_after_many_removals() -> None:
    data = vectors(200)
    index = VectorIndex(16, "hnsw")
    index.add([str(i) for i in range(200)], data)
    index.remove([str(i) for i in range(50)])
    assert index.index.ntotal == 150  # rebuilt without the removed vectors
    assert index.search(data[60:61], 1)[1] == [["60"]]


def test_ivf_keeps_only_the_used_dimensions_and_finds_the_exact_neighbours() -> None:
    basis = np.linalg.qr(np.random.default_rng(1).normal(size=(32, 8)))[0]  # an 8-dim subspace of 32
    data = normalise_rows(vectors(3000, 8) @ basis.T)
    ids = [str(i) for i in range(3000)]
    exact, ivf = VectorIndex(32, "flat"), VectorIndex(32, "ivf")
    exact.add(ids, data)
    ivf.add(ids, data)
    assert ivf.index.chain.at(0).d_out == 8
    truth, found = exact.neighbour_rows(data[:300], 10, ids), ivf.neighbour_rows(data[:300], 10, ids)
    assert np.mean([len(set(t) & set(f)) for t, f in zip(truth, found, strict=True)]) / 10 >= 0.95
    scores, _ = ivf.search(data[:3], 2)
    np.testing.assert_allclose(scores, exact.search(data[:3], 2)[0], atol=1e-3)  # cosine, not L2


@pytest.mark.parametrize("merge_every", [batched_search.MERGE_EVERY, 50])
def test_batched_ivf_search_is_faiss_ivf_search(merge_every: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batched_search, "MERGE_EVERY", merge_every)  # 50: many merges, bars raised on the way
    data = vectors(2000)
    index = VectorIndex(16, "ivf")
    index.add([str(i) for i in range(2000)], data)
    index._ivf().nprobe = 5  # of 89 lists: neighbours missed by both alike
    distances, fids = index.index.search(data[:300], 10)  # FAISS scanning list by list, query by query
    scores, found = index.search(data[:300], 10)
    assert [[int(pid) for pid in row] for row in found] == fids.tolist()
    np.testing.assert_allclose(scores, 1 - distances / 2, atol=1e-5)


def test_ivf_retrains_its_lists_when_the_catalog_grows() -> None:
    data = vectors(2000)
    index = VectorIndex(16, "ivf")
    index.add([str(i) for i in range(20)], data[:20])
    assert index._ivf().nlist == 9
    index.add([str(i) for i in range(20, 2000)], data[20:])
    assert index._ivf().nlist == 89 and index.index.ntotal == 2000
    assert index.search(data[1500:1501], 1)[1] == [["1500"]]


def test_empty_index_and_tiny_index() -> None:
    index = VectorIndex(16)
    assert index.search(vectors(2), 5)[1] == [[], []]
    index.add(["only"], vectors(1))
    assert index.search(vectors(1), 10)[1] == [["only"]]


def test_auto_kind_and_bad_setting() -> None:
    assert choose_kind("auto", 10) == "flat"
    assert choose_kind("auto", APPROXIMATE_FROM - 1) == "flat"
    assert choose_kind("auto", APPROXIMATE_FROM) == "ivf"
    assert choose_kind("ivf", 10) == "ivf"
    with pytest.raises(SettingsError, match="index_kind"):
        choose_kind("annoy", 10)


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf"])
def test_neighbour_rows_are_search_as_positions(kind: str) -> None:
    data = vectors(120)
    ids = [f"p{i}" for i in range(120)]
    index = VectorIndex(16, kind)
    index.add(ids, data)
    index.remove(["p3", "p7"])  # HNSW keeps them marked as removed: they must be skipped, not counted
    order = ids[::-1][:100]  # an id outside ``order`` is a neighbour that maps to -1
    rows = index.neighbour_rows(data[:20], 5, order)
    _, found = index.search(data[:20], 5)
    expected = [[order.index(pid) if pid in order else -1 for pid in row] for row in found]
    assert rows.tolist() == [row + [-1] * (5 - len(row)) for row in expected]
    assert VectorIndex(16).neighbour_rows(data[:2], 3, ids).tolist() == [[-1] * 3] * 2
