"""Embeddings cached by text hash, so re-indexing embeds only new or changed texts.

The cache lives beside the index of one model fingerprint; it is itself an ``Embedder``
(wrapping the real one), so every caller gets caching for free.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nextdrop.index.embedder import Embedder, Progress
from nextdrop.store.files import atomic_file


def text_hash(text: str) -> bytes:
    """16-byte digest of a text (the cache key)."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


class CachedEmbedder:
    """An embedder that remembers every vector it has computed, keyed by text hash."""

    def __init__(self, inner: Embedder, path: Path | None = None) -> None:
        self.inner = inner
        self.fingerprint = inner.fingerprint
        self.dim = inner.dim
        self.path = path
        self._rows: dict[bytes, int] = {}
        self._vectors = np.zeros((0, inner.dim), dtype=np.float32)
        self.misses = 0
        self._saved_misses = 0
        if path is not None and path.exists():
            with np.load(path) as data:
                keys, self._vectors = data["keys"], data["vectors"].astype(np.float32)
            # NumPy's fixed-width bytes drop trailing NULs: one digest in 256 ends in one, so pad it back
            self._rows = {bytes(k).ljust(16, b"\0"): i for i, k in enumerate(keys)}

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """Vectors for ``texts``; only texts never seen before reach the model."""
        hashes = [text_hash(t) for t in texts]
        missing: dict[bytes, str] = {}
        for h, t in zip(hashes, texts, strict=True):
            if h not in self._rows and h not in missing:
                missing[h] = t
        if missing:
            fresh = self.inner.encode(list(missing.values()), progress=progress)
            start = len(self._vectors)
            self._vectors = np.vstack([self._vectors, fresh]) if start else fresh  # no copy of a first run's
            self._rows.update({h: start + i for i, h in enumerate(missing)})
            self.misses += len(missing)
        elif progress:
            progress(len(texts), len(texts))
        return self._vectors[[self._rows[h] for h in hashes]] if hashes else self._vectors[:0]

    def save(self) -> None:
        """Persist atomically, if anything was embedded since the last save (no-op for an in-memory cache).

        Written straight to the file: a million titles' vectors are 1 GB, which a copy in
        memory first would double.
        """
        if self.path is None or self.misses == self._saved_misses:
            return
        keys = np.array(list(self._rows), dtype="S16")  # row n's key: rows are numbered as they are added
        with atomic_file(self.path) as handle:
            np.savez(handle, keys=keys, vectors=self._vectors)
        self._saved_misses = self.misses
