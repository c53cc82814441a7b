"""A model2vec static model read and run with ``tokenizers``, ``safetensors`` and numpy alone.

A static embedding is a token-vector lookup and a mean. Loading one through
``model2vec`` imports its Hugging Face Hub client and model-card code first, 0.6 s of a
2.5 s dedup of five thousand titles; this reads the same three files (``config.json``,
``model.safetensors``, ``tokenizer.json``) and gives the same vectors as
``model2vec.StaticModel.encode``: the same truncation, the unknown token dropped, the
mean in the embeddings' dtype, the same normalisation.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from nextdrop.index.cores import cores
from nextdrop.index.token_ids import TokenIds

DEFAULT_MAX_LENGTH = 512  # model2vec's, for configs that name none
BATCH = 1024  # texts encoded together: their token vectors are a temporary of ~10 MB


class StaticModel:
    """Token vectors and their tokenizer, from a model2vec folder."""

    def __init__(self, folder: Path) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        # Batches run on a thread per core; the tokenizer's own thread pool on top of them
        # oversubscribes the cores (200,000 titles: 13.0 s against 9.6 s without it).
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

        config = json.loads((folder / "config.json").read_text())
        tensors = load_file(str(folder / "model.safetensors"))
        if "embeddings" not in tensors or {"weights", "mapping"} & tensors.keys():
            raise ValueError(
                f"{folder} is not a plain model2vec model (token vectors under 'embeddings', no vocabulary "
                "quantization): point index.model at a model2vec folder saved without quantization"
            )
        self.embedding: np.ndarray = tensors["embeddings"]
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.max_length: int | None = config.get("max_length", DEFAULT_MAX_LENGTH)
        if self.max_length is None:
            self.tokenizer.no_truncation()
        else:
            self.tokenizer.enable_truncation(self.max_length)
        self.normalize = bool(config.get("normalize", False))
        self.token_ids = TokenIds(self.tokenizer, self.max_length)
        self.unknown = _unknown_token_id(self.tokenizer)
        # texts are cut to this many characters before tokenizing, as model2vec does
        median = int(np.median([len(token) for token in self.tokenizer.get_vocab()]))
        self.max_chars = None if self.max_length is None else self.max_length * median

    @property
    def dim(self) -> int:
        return int(self.embedding.shape[1])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text: the mean of its tokens' vectors (zeros for a text with no known token).

        Batches go to a thread per core: the tokenizer releases the GIL while it works on
        the texts ``TokenIds`` leaves to it (50,000 of them: 2.0 s against 3.9 s in one call).
        """
        batches = [texts[start : start + BATCH] for start in range(0, len(texts), BATCH)]
        if len(batches) < 2:
            return self._encode_batch(texts)
        with ThreadPoolExecutor(cores()) as pool:
            return np.concatenate(list(pool.map(self._encode_batch, batches)))

    def _encode_batch(self, texts: Sequence[str]) -> np.ndarray:
        if self.max_chars is not None:
            texts = [text[: self.max_chars] for text in texts]
        ids = self.token_ids.ids(texts)
        if self.unknown is not None:
            ids = [[token for token in row if token != self.unknown] for row in ids]
        dtype = np.float32 if self.embedding.dtype == np.int8 else self.embedding.dtype
        out = np.zeros((len(ids), self.dim), dtype=dtype)
        by_length: dict[int, list[int]] = defaultdict(list)  # texts of one length averaged in one array
        for row, tokens in enumerate(ids):
            if tokens:
                by_length[len(tokens)].append(row)
        for rows in by_length.values():
            out[rows] = self.embedding[np.array([ids[row] for row in rows], dtype=np.int64)].mean(axis=1)
        if not self.normalize:
            return out
        out32 = out.astype(np.float32)
        return (out32 / (np.linalg.norm(out32, axis=1, keepdims=True) + 1e-32)).astype(out.dtype)


def _unknown_token_id(tokenizer: object) -> int | None:
    """The id of the tokenizer's unknown token, which carries no meaning and is left out of the mean."""
    model = tokenizer.model  # type: ignore[attr-defined]
    if hasattr(model, "unk_token"):  # WordPiece, BPE, WordLevel
        return None if model.unk_token is None else tokenizer.token_to_id(model.unk_token)  # type: ignore[attr-defined]
    return json.loads(tokenizer.to_str())["model"].get("unk_id")  # type: ignore[attr-defined]  # Unigram
