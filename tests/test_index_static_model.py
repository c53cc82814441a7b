"""The static-embedding path: nextdrop's reader against model2vec's own, on a small model written here."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from nextdrop.errors import SettingsError
from nextdrop.index import distill
from nextdrop.index.embedder import load_embedder, resolve_model_path
from nextdrop.index.static_model import StaticModel
from nextdrop.index.token_ids import TokenIds

# Titles as merchants write them, and what breaks tokenizers: nothing, emoji (unknown to
# the vocabulary), other scripts, accents, markup, a title longer than the truncation.
TEXTS = [
    "WHITE HANGING HEART T-LIGHT HOLDER",
    "Brand12 Vintage cotton table lamp red 500ml - M4521",
    "",
    "   ",
    "😀🎁",
    "mug 😀 blue",
    "日本語のタイトル 商品 マグカップ",
    "Café crème brûlée set",
    "<p>Body &amp; soul</p>",
    "[CLS] mug [mask]\tblue",  # special tokens are matched before normalising
    "x" * 5000,
    " ".join(["word"] * 900),  # cut at 512 tokens
    " ".join(["international", "committee", "wonderful"] * 150),  # cut at 512 tokens' worth of characters
]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model2vec folder over MiniLM's tokenizer with random 16-dimensional token vectors."""
    tokenizer = resolve_model_path("all-MiniLM-L6-v2") / "tokenizer.json"
    vectors = np.random.default_rng(0).normal(size=(30522, 16)).astype(np.float32)
    return distill.write_static(tmp_path_factory.mktemp("static") / "tiny", vectors, tokenizer, base_model="test")


def test_vectors_equal_model2vec_bit_for_bit(folder: Path) -> None:
    model2vec = pytest.importorskip("model2vec")
    reference, mine = model2vec.StaticModel.from_pretrained(str(folder)), StaticModel(folder)
    assert mine.encode(TEXTS).dtype == reference.encode(TEXTS).dtype and mine.dim == 16
    assert np.array_equal(mine.encode(TEXTS), reference.encode(TEXTS))
    many = [f"{text} {n}" for n in range(1500) for text in TEXTS[:2]]  # many batches, on threads, back in order
    assert np.array_equal(mine.encode(many), reference.encode(many))


def test_static_setting_loads_a_folder_and_gives_unit_rows(folder: Path) -> None:
    embedder = load_embedder(f"static:{folder}")
    out = embedder.encode(TEXTS[:3])
    assert out.shape == (3, 16) and embedder.dim == 16
    assert np.allclose(np.linalg.norm(out[:2], axis=1), 1.0, atol=1e-6)
    assert not out[2].any()  # an empty title has no token: a zero row, not NaN
    assert embedder.fingerprint.startswith("static-")
    assert embedder.model.token_ids.pieces == {}  # the words of a run are not kept after it


def test_quantized_vocabulary_is_a_settings_error(tmp_path: Path, folder: Path) -> None:
    from safetensors.numpy import save_file

    quantized = tmp_path / "quantized"
    quantized.mkdir()
    for name in ("config.json", "tokenizer.json"):
        (quantized / name).write_bytes((folder / name).read_bytes())
    save_file(
        {"embeddings": np.zeros((8, 4), dtype=np.float32), "mapping": np.zeros(30522, dtype=np.int64)},
        str(quantized / "model.safetensors"),
    )
    with pytest.raises(SettingsError, match="not a plain model2vec model"):
        load_embedder(f"static:{quantized}")


def test_interrupted_write_leaves_no_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(distill.shutil, "copyfile", fail)
    tokenizer = resolve_model_path("all-MiniLM-L6-v2") / "tokenizer.json"
    with pytest.raises(KeyboardInterrupt):
        distill.write_static(tmp_path / "model", np.zeros((4, 2), dtype=np.float32), tokenizer, base_model="test")
    assert list(tmp_path.iterdir()) == []


def test_cached_word_pieces_agree_with_the_tokenizer() -> None:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(resolve_model_path("all-MiniLM-L6-v2") / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(64)
    rng = random.Random(0)
    printable = [chr(c) for c in range(32, 127)]
    texts = [
        "".join(rng.choice(printable if rng.random() < 0.3 else "abcXYZ 019-") for _ in range(rng.randint(0, 120)))
        for _ in range(3000)
    ]
    texts += ["x" * 99, "y" * 101, "a " * 100, "[SEP]", "a[MASK]b", "[Cls] z", "tab\tsep", "café", "日本", *TEXTS]
    token_ids = TokenIds(tokenizer, 64)
    assert token_ids.cached  # MiniLM's pipeline is the one the cache mirrors
    expected = [encoding.ids for encoding in tokenizer.encode_batch_fast(texts, add_special_tokens=False)]
    assert token_ids.ids(texts) == expected
    assert len(token_ids.pieces) > 100
    assert token_ids.ids(texts) == expected  # and again from the filled cache


def test_other_tokenizers_go_to_the_tokenizer_itself() -> None:
    from tokenizers import Tokenizer
    from tokenizers.normalizers import BertNormalizer

    tokenizer = Tokenizer.from_file(str(resolve_model_path("all-MiniLM-L6-v2") / "tokenizer.json"))
    tokenizer.normalizer = BertNormalizer(lowercase=False)  # cased: the word cache's lowercasing would be wrong
    token_ids = TokenIds(tokenizer, None)
    assert not token_ids.cached
    expected = [encoding.ids for encoding in tokenizer.encode_batch_fast(TEXTS, add_special_tokens=False)]
    assert token_ids.ids(TEXTS) == expected and token_ids.pieces == {}
