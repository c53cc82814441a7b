"""Distil a sentence-transformers model into model2vec static token embeddings, offline.

The recipe is model2vec's (each vocabulary token through the transformer, mean-pooled,
PCA, Zipf/SIF weighting); it is re-implemented here because ``model2vec[distill]``
pins an older ``transformers`` than the rest of nextdrop needs. The folder it writes is
model2vec's layout: ``index.static_model`` reads it (and so does ``model2vec.StaticModel``),
and it encodes hundreds of times faster than the transformer.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

from nextdrop.index.static_model import DEFAULT_MAX_LENGTH

PCA_DIMS = 256
SIF_COEFFICIENT = 1e-4
BATCH = 512


def _token_vectors(model_path: Path) -> tuple[np.ndarray, Path]:
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_path), device="cpu")
    transformer = model[0].auto_model.eval()
    tokenizer = model.tokenizer
    cls_id, sep_id = tokenizer.cls_token_id, tokenizer.sep_token_id
    ids = torch.arange(len(tokenizer.get_vocab()), dtype=torch.long)
    out = []
    with torch.inference_mode():
        for start in range(0, len(ids), BATCH):
            part = ids[start : start + BATCH, None]
            batch = torch.cat([torch.full_like(part, cls_id), part, torch.full_like(part, sep_id)], dim=1)
            hidden = transformer(input_ids=batch, attention_mask=torch.ones_like(batch)).last_hidden_state
            out.append(hidden.mean(dim=1).float().numpy())
    return np.concatenate(out), model_path / "tokenizer.json"


def distill_static(model_path: Path, target: Path) -> Path:
    """Write a model2vec model distilled from ``model_path`` into ``target``."""
    vectors, tokenizer_file = _token_vectors(model_path)
    centred = vectors - vectors.mean(axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    reduced = centred @ components[: min(PCA_DIMS, vectors.shape[1])].T
    inv_rank = 1.0 / np.arange(2, len(reduced) + 2)
    proba = inv_rank / inv_rank.sum()
    reduced *= (SIF_COEFFICIENT / (SIF_COEFFICIENT + proba))[:, None]
    return write_static(target, reduced.astype(np.float32), tokenizer_file, base_model=str(model_path))


def write_static(target: Path, vectors: np.ndarray, tokenizer_file: Path, base_model: str) -> Path:
    """A model2vec folder (vectors, tokenizer, config), written whole or not at all.

    It goes to a temporary folder beside ``target`` and is renamed into place: an
    interrupted distillation leaves no half-written model that would look finished.
    """
    from safetensors.numpy import save_file

    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        save_file({"embeddings": vectors}, str(staging / "model.safetensors"))
        shutil.copyfile(tokenizer_file, staging / "tokenizer.json")
        config = {
            "model_type": "model2vec",
            "architectures": ["StaticModel"],
            "normalize": True,
            "max_length": DEFAULT_MAX_LENGTH,
            "embedding_dtype": str(vectors.dtype),
            "base_model": base_model,
        }
        (staging / "config.json").write_text(json.dumps(config, indent=2))
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target
