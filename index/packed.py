"""A catalog's text features, worked out once and packed into flat UTF-8 buffers.

Scoring workers keep only a bounded number of ``TextFeatures`` objects, and a record
falls out of that cache and comes back several times on a large catalog. Rebuilding
its features from the title costs regular expressions (codes, attributes, words);
restoring them from these buffers costs a few string splits. The buffers hold no
Python objects per record, so forked workers share their pages instead of copying them
(reading a shared ``str`` bumps its reference count, which writes to its page).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from nextdrop.index.text import AttributeKey, TextFeatures

# What is packed per record; each is text without whitespace inside its parts, so parts join with spaces.
_FIELDS = ("text", "norm", "key", "ranked", "token_text", "content_words")

MapSlices = Callable[[Callable[[Any, int, int], Any], Any, list[tuple[int, int]]], Iterator[tuple[int, Any]]]


class _Column:
    """Strings as one UTF-8 buffer and the end offset of each, decoded on read."""

    def __init__(self, parts: Sequence[tuple[bytes, np.ndarray]]) -> None:
        self._buffer = b"".join(blob for blob, _ in parts)
        lengths = [length for _, length in parts]
        self._ends = np.cumsum(np.concatenate(lengths) if lengths else np.zeros(0, dtype=np.int64))

    def __getitem__(self, row: int) -> str:
        start = int(self._ends[row - 1]) if row else 0
        return self._buffer[start : int(self._ends[row])].decode("utf-8")


class PackedFeatures:
    """``TextFeatures`` of many records: exact-text keys and model codes by row, and whole features restored."""

    def __init__(self, texts: Sequence[str], map_slices: MapSlices, slice_size: int) -> None:
        """Work out every record's features on slices of ``slice_size`` (``map_slices`` may run them on every core)."""
        bounds = [(start, min(start + slice_size, len(texts))) for start in range(0, len(texts), slice_size)]
        parts = dict(map_slices(_pack_slice, texts, bounds))
        ordered = [parts.pop(n) for n in range(len(bounds))]
        self._columns = {name: _Column([part[0][name] for part in ordered]) for name in _FIELDS}
        position: dict[AttributeKey, int] = {}  # distinct attribute sets (one object each); records point into them
        ids = [np.zeros(0, dtype=np.int32)]
        for _, keys, local in ordered:
            ids.append(np.array([position.setdefault(key, len(position)) for key in keys], dtype=np.int32)[local])
        self._attribute_keys = list(position)
        self._attribute_ids = np.concatenate(ids)

    def __len__(self) -> int:
        return len(self._attribute_ids)

    def key(self, row: int) -> str:
        return self._columns["key"][row]

    def codes(self, row: int) -> frozenset[str]:
        return frozenset(self._columns["ranked"][row].split())

    def features(self, row: int) -> TextFeatures:
        """Record ``row``'s features as computed from its text, restored from the buffers."""
        column = self._columns
        ranked = tuple(column["ranked"][row].split())
        token_text = column["token_text"][row]
        ordered = tuple(token_text.split())
        return TextFeatures.known(
            column["text"][row],
            norm=column["norm"][row],
            key=column["key"][row],
            ranked=ranked,
            codes=frozenset(ranked),
            token_text=token_text,
            ordered=ordered,
            tokens=frozenset(ordered),
            content_words=frozenset(column["content_words"][row].split()),
            attr_key=self._attribute_keys[self._attribute_ids[row]],
        )


def _pack_slice(
    texts: Sequence[str], start: int, stop: int
) -> tuple[dict[str, tuple[bytes, np.ndarray]], list[AttributeKey], np.ndarray]:
    """Records ``start:stop`` packed: each field's buffer and lengths, distinct attribute sets and each record's."""
    values: dict[str, list[bytes]] = {name: [] for name in _FIELDS}
    keys: dict[AttributeKey, int] = {}
    local = []
    for text in texts[start:stop]:
        found = TextFeatures(text)
        for name, value in (
            ("text", text),
            ("norm", found.norm),
            ("key", found.key),
            ("ranked", " ".join(found.ranked)),
            ("token_text", found.token_text),
            ("content_words", " ".join(found.content_words)),
        ):
            values[name].append(value.encode("utf-8"))
        local.append(keys.setdefault(found.attr_key, len(keys)))
    packed = {
        name: (b"".join(blobs), np.fromiter(map(len, blobs), dtype=np.int64, count=len(blobs)))
        for name, blobs in values.items()
    }
    return packed, list(keys), np.array(local, dtype=np.int64)
