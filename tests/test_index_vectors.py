"""The FAISS index: exact and HNSW, add/remove in place, persistence, and the auto choice."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nextdrop.errors import SettingsError
from nextdrop.index.embedder import normalise_rows
from nextdrop.index.vectors import HNSW_FROM, VectorIndex, choose_kind


def vectors(n: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    return normalise_rows(np.random.default_rng(seed).normal(size=(n, dim)))


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
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


def test_empty_index_and_tiny_index() -> None:
    index = VectorIndex(16)
    assert index.search(vectors(2), 5)[1] == [[], []]
    index.add(["only"], vectors(1))
    assert index.search(vectors(1), 10)[1] == [["only"]]


def test_auto_kind_and_bad_setting() -> None:
    assert choose_kind("auto", 10) == "flat"
    assert choose_kind("auto", HNSW_FROM) == "hnsw"
    assert choose_kind("hnsw", 10) == "hnsw"
    with pytest.raises(SettingsError, match="index_kind"):
        choose_kind("ivf", 10)


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
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
