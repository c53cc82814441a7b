"""Embedders: the packaged MiniLM offline, fingerprints, the text-hash cache."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from nextdrop.errors import SettingsError
from nextdrop.index.cache import CachedEmbedder
from nextdrop.index.embedder import HashingEmbedder, load_embedder, resolve_model_path


@pytest.fixture(scope="module")
def minilm():
    return load_embedder("all-MiniLM-L6-v2")


def test_default_model_resolves_to_the_packaged_weights() -> None:
    path = resolve_model_path("all-MiniLM-L6-v2")
    assert (path / "model.safetensors").exists()


def test_minilm_encodes_normalised_and_meaningful(minilm) -> None:
    out = minilm.encode(["blue ceramic coffee mug", "blue stoneware mug", "garden trowel", ""])
    assert out.shape == (4, 384) and out.dtype == np.float32
    assert np.allclose(np.linalg.norm(out[:3], axis=1), 1.0, atol=1e-5)
    assert out[0] @ out[1] > out[0] @ out[2]
    assert minilm.fingerprint.startswith("all-MiniLM-L6-v2-")


def test_unknown_model_is_a_settings_error_not_a_download() -> None:
    with pytest.raises(SettingsError, match="never downloads"):
        load_embedder("sentence-transformers/some-model-we-do-not-have")


class Counting(HashingEmbedder):
    """The hashing embedder, counting what reaches it."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def encode(self, texts: Sequence[str], progress=None) -> np.ndarray:
        self.seen.extend(texts)
        return super().encode(texts, progress)


def test_cache_embeds_each_text_once_and_persists(tmp_path: Path) -> None:
    inner = Counting()
    cache = CachedEmbedder(inner, tmp_path / "cache.npz")
    first = cache.encode(["a mug", "a pot", "a mug"])
    assert inner.seen == ["a mug", "a pot"]
    cache.save()
    again = CachedEmbedder(inner, tmp_path / "cache.npz")
    second = again.encode(["a pot", "a mug", "a lamp"])
    assert inner.seen == ["a mug", "a pot", "a lamp"]
    assert np.allclose(second[:2], first[[1, 0]])
    assert again.encode([]).shape == (0, inner.dim)
    unchanged = (tmp_path / "cache.npz").stat().st_mtime_ns
    again.encode(["a pot"])
    cache.save()
    assert (tmp_path / "cache.npz").stat().st_mtime_ns == unchanged, "nothing new: nothing written"
    again.save()  # a cache that grew after loading: each key still finds its own vector
    third = CachedEmbedder(inner, tmp_path / "cache.npz").encode(["a lamp", "a mug", "a pot"])
    assert inner.seen == ["a mug", "a pot", "a lamp"]
    assert np.array_equal(third, second[[2, 1, 0]])


def test_cache_finds_a_text_whose_digest_ends_in_a_nul_byte(tmp_path: Path) -> None:
    """NumPy stores keys as fixed-width bytes and strips trailing NULs: about 1 title in 256 was re-embedded."""
    from nextdrop.index.cache import text_hash

    texts = [f"title {i}" for i in range(2000)]
    nul = [t for t in texts if text_hash(t).endswith(b"\0")]
    assert nul, "2,000 titles hold several such digests"
    inner = Counting()
    cache = CachedEmbedder(inner, tmp_path / "cache.npz")
    cache.encode(texts)
    cache.save()
    inner.seen.clear()
    CachedEmbedder(inner, tmp_path / "cache.npz").encode(texts)
    assert inner.seen == []
