"""Distil a sentence-transformers model into model2vec static token embeddings, offline.

The recipe is model2vec's (each vocabulary token through the transformer, mean-pooled,
PCA, Zipf/SIF weighting); it is re-implemented here because ``model2vec[distill]``
pins an older ``transformers`` than the rest of nextdrop needs. The result loads with
``model2vec.StaticModel`` and encodes hundreds of times faster than the transformer.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

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
    from model2vec import StaticModel
    from tokenizers import Tokenizer

    vectors, tokenizer_file = _token_vectors(model_path)
    centred = vectors - vectors.mean(axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    reduced = centred @ components[: min(PCA_DIMS, vectors.shape[1])].T
    inv_rank = 1.0 / np.arange(2, len(reduced) + 2)
    proba = inv_rank / inv_rank.sum()
    reduced *= (SIF_COEFFICIENT / (SIF_COEFFICIENT + proba))[:, None]
    static = StaticModel(
        vectors=reduced.astype(np.float32),
        tokenizer=Tokenizer.from_file(str(tokenizer_file)),
        normalize=True,
        base_model_name=str(model_path),
    )
    static.save_pretrained(str(target))
    return target
