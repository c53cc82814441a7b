"""Token ids for static embeddings, with plain-ASCII titles tokenized a word at a time from a cache.

The Rust tokenizer spends about 20 µs a title (single-threaded), mostly building an
``Encoding`` (offsets, masks, type ids) that a static embedding never reads. For the
lowercasing BERT normaliser and pre-tokeniser of MiniLM and its kin, and printable
ASCII text, its output is simply the WordPiece pieces of each run of letters and digits
and of each other character, in order. Titles repeat their words, so each word's pieces
are worked out once. Other text (other scripts, tabs, a literal special token such as
"[CLS]", which the tokenizer matches before normalising) goes to the tokenizer itself.
Tests check the two agree.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

WORDS = re.compile(r"[a-z0-9]+|[^a-z0-9 ]")  # BERT's pre-tokeniser on lowercased printable ASCII
CACHE_LIMIT = 200_000  # distinct words remembered (about 150 bytes each; a million titles have 100,000)


class TokenIds:
    """``ids(texts)``: what ``tokenizer.encode_batch_fast(texts, add_special_tokens=False)`` gives, as id lists."""

    def __init__(self, tokenizer: Any, max_length: int | None) -> None:
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.cached = _is_lowercase_wordpiece(tokenizer)
        specials = [token.content for token in tokenizer.get_added_tokens_decoder().values()]
        self.special = re.compile("|".join(map(re.escape, specials)), re.IGNORECASE) if specials else None
        self.pieces: dict[str, list[int]] = {}

    def forget(self) -> None:
        """Drop the remembered words (a million titles' take 15 MB), once a run has encoded its texts."""
        self.pieces.clear()

    def ids(self, texts: Sequence[str]) -> list[list[int]]:
        if not self.cached:
            return self._tokenized(texts)
        found = [self._cached_ids(text) for text in texts]
        rest = [n for n, ids in enumerate(found) if ids is None]
        for n, ids in zip(rest, self._tokenized([texts[n] for n in rest]), strict=True):
            found[n] = ids
        return found  # type: ignore[return-value]  # every None was filled

    def _tokenized(self, texts: Sequence[str]) -> list[list[int]]:
        return [encoding.ids for encoding in self.tokenizer.encode_batch_fast(list(texts), add_special_tokens=False)]

    def _cached_ids(self, text: str) -> list[int] | None:
        """The ids of a printable-ASCII text without special tokens; None for any other text."""
        if not (text.isascii() and text.isprintable()) or (self.special and self.special.search(text)):
            return None
        if len(self.pieces) > CACHE_LIMIT:
            self.pieces.clear()
        ids: list[int] = []
        for word in WORDS.findall(text.lower()):
            pieces = self.pieces.get(word)
            if pieces is None:
                pieces = self.pieces[word] = [token.id for token in self.tokenizer.model.tokenize(word)]
            ids += pieces
        return ids if self.max_length is None else ids[: self.max_length]


def _is_lowercase_wordpiece(tokenizer: Any) -> bool:
    """BERT's lowercasing normaliser, its pre-tokeniser and a WordPiece model: the pipeline ``WORDS`` mirrors."""
    from tokenizers.models import WordPiece
    from tokenizers.normalizers import BertNormalizer
    from tokenizers.pre_tokenizers import BertPreTokenizer

    normalizer = tokenizer.normalizer
    return (
        isinstance(normalizer, BertNormalizer)
        and normalizer.lowercase
        and isinstance(tokenizer.pre_tokenizer, BertPreTokenizer)
        and isinstance(tokenizer.model, WordPiece)
    )
