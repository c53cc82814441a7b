"""A catalog's text features, worked out once and packed into flat UTF-8 buffers.

Scoring workers keep only a bounded number of ``TextFeatures`` objects, and a record
falls out of that cache and comes back several times on a large catalog. Rebuilding
its features from the title costs regular expressions (codes, attributes, words);
restoring them from these buffers costs a few string splits. The buffers hold no
Python objects per record, so forked workers share their pages instead of copying them
(reading a shared ``str`` bumps its reference count, which writes to its page).

Each record's character 3-grams are packed too, as columns of one gram vocabulary, so
scoring measures the overlap of thousands of pairs at once in numpy, without working
the grams out again every time a record comes back.
"""

from __future__ import annotations

import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from nextdrop.index.text import AttributeKey, TextFeatures, gram_codes

# What is packed per record; each is text without whitespace inside its parts, so parts join with spaces.
# (No normalised text: scoring reads the grams instead, and a restored record works it out if asked.)
_FIELDS = ("text", "key", "ranked", "token_text", "content_words")

MapSlices = Callable[[Callable[[Any, int, int], Any], Any, list[tuple[int, int]]], Iterator[tuple[int, Any]]]


class _Column:
    """Strings as one UTF-8 buffer and the end offset of each, decoded on read."""

    def __init__(self, parts: Sequence[tuple[bytes, np.ndarray]]) -> None:
        self._buffer = b"".join(blob for blob, _ in parts)
        lengths = [length for _, length in parts]
        self._ends = _int_array(np.cumsum(np.concatenate(lengths) if lengths else np.zeros(0, dtype=np.int64)))

    def __getitem__(self, row: int) -> str:
        start = self._ends[row - 1] if row else 0
        return self._buffer[start : self._ends[row]].decode("utf-8")


def _int_array(values: np.ndarray) -> array.array[int]:
    """``values`` as a flat ``array``: as compact as numpy, and reading one element is ten times cheaper."""
    found = array.array("q")
    found.frombytes(values.astype(np.int64).tobytes())
    return found


@dataclass(frozen=True)
class Blocks:
    """Rows grouped by a string (an exact-text key, a model code), sorted by its hash and then by row.

    Hashes rather than strings keep a million records' blocks in flat arrays. Two strings
    with one 64-bit hash would only put one more candidate pair before scoring, which
    judges it like any other.
    """

    hashes: np.ndarray  # int64
    rows: np.ndarray  # int32

    @classmethod
    def of(cls, rows: np.ndarray, hashes: np.ndarray) -> Blocks:
        order = np.lexsort((rows, hashes))
        return cls(hashes[order], rows[order].astype(np.int32))

    def groups(self) -> tuple[np.ndarray, np.ndarray]:
        """Where each group of equal hashes starts in ``rows``, and its size."""
        if not len(self.hashes):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        starts = np.flatnonzero(np.r_[True, self.hashes[1:] != self.hashes[:-1]])
        return starts, np.diff(np.r_[starts, len(self.rows)])


class PackedFeatures:
    """``TextFeatures`` of many records restored by row, and the records' blocks by exact-text key and by code."""

    def __init__(self, texts: Sequence[str], map_slices: MapSlices, slice_size: int) -> None:
        """Work out every record's features on slices of ``slice_size`` (``map_slices`` may run them on every core)."""
        bounds = [(start, min(start + slice_size, len(texts))) for start in range(0, len(texts), slice_size)]
        done = dict(map_slices(_pack_slice, texts, bounds))
        slices: list[_Slice] = [done.pop(n) for n in range(len(bounds))]
        self._columns = {name: _Column([part.fields[name] for part in slices]) for name in _FIELDS}
        position: dict[AttributeKey, int] = {}  # distinct attribute sets (one object each); records point into them
        ids = [np.zeros(0, dtype=np.int32)]
        for part in slices:
            renumber = [position.setdefault(key, len(position)) for key in part.attribute_keys]
            ids.append(np.array(renumber, dtype=np.int32)[part.attribute_ids])
        self._attribute_keys = list(position)
        self._attribute_ids = _int_array(np.concatenate(ids))
        self.keys = self._blocks([part.keys for part in slices], bounds)
        self.codes = self._blocks([part.codes for part in slices], bounds)
        self._has_key = np.zeros(len(self), dtype=bool)
        self._has_key[self.keys.rows] = True
        self._key_hash = np.zeros(len(self), dtype=np.int64)
        self._key_hash[self.keys.rows] = self.keys.hashes
        self._pack_grams([part.grams for part in slices])

    def _pack_grams(self, parts: list[_Grams]) -> None:
        """One vocabulary (sorted gram codes) for the slices' own, and every record's grams as its columns.

        Columns are as narrow as the vocabulary allows (two bytes up to 65,536 grams): a
        million titles have about fifty grams each.
        """
        empty = np.zeros(0, dtype=np.int64)
        self.gram_vocabulary = np.unique(np.concatenate([*(vocabulary for vocabulary, _, _ in parts), empty]))
        dtype = np.uint16 if len(self.gram_vocabulary) <= 1 << 16 else np.int32
        columns = [np.searchsorted(self.gram_vocabulary, vocabulary).astype(dtype)[ids] for vocabulary, _, ids in parts]
        self._gram_columns = np.concatenate([*columns, np.zeros(0, dtype=dtype)])
        self._gram_indptr = np.zeros(len(self) + 1, dtype=np.int64)
        np.cumsum(np.concatenate([*(counts for _, counts, _ in parts), empty]), out=self._gram_indptr[1:])

    @staticmethod
    def _blocks(parts: list[_Membership], bounds: list[tuple[int, int]]) -> Blocks:
        """One ``Blocks`` from each slice's (local rows, hashes)."""
        rows = [local + start for (local, _), (start, _) in zip(parts, bounds, strict=True)]
        hashes = [found for _, found in parts]
        empty = [np.zeros(0, dtype=np.int64)]
        return Blocks.of(np.concatenate(rows + empty), np.concatenate(hashes + empty))

    def __len__(self) -> int:
        return len(self._attribute_ids)

    def same_key(self, rows: np.ndarray, other: PackedFeatures, other_rows: np.ndarray) -> np.ndarray:
        """Whether each pair ``(rows[n], other_rows[n])`` may have the same exact-text key.

        True for every pair that has; a hash collision can add one more, which scoring
        (comparing the keys themselves) then tells apart.
        """
        equal = self._key_hash[rows] == other._key_hash[other_rows]
        return equal & self._has_key[rows] & other._has_key[other_rows]

    def gram_rows(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The 3-grams of ``rows`` (in that order, repeats allowed) as CSR ``(indptr, columns)``.

        Columns index ``gram_vocabulary``, sorted and unique within a row; every record has
        at least one gram (an empty title has the two-space one, see ``text.gram_codes``).
        """
        starts, stops = self._gram_indptr[rows], self._gram_indptr[rows + 1]
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(stops - starts, out=indptr[1:])
        at = np.arange(indptr[-1], dtype=np.int64) + np.repeat(starts - indptr[:-1], stops - starts)
        return indptr, self._gram_columns[at].astype(np.int32)

    def features(self, row: int) -> TextFeatures:
        """Record ``row``'s features as computed from its text, restored from the buffers."""
        column = self._columns
        ranked = tuple(column["ranked"][row].split())
        token_text = column["token_text"][row]
        ordered = tuple(token_text.split())
        return TextFeatures.known(
            column["text"][row],
            key=column["key"][row],
            ranked=ranked,
            codes=frozenset(ranked),
            token_text=token_text,
            ordered=ordered,
            tokens=frozenset(ordered),
            content_words=frozenset(column["content_words"][row].split()),
            attr_key=self._attribute_keys[self._attribute_ids[row]],
        )


_Membership = tuple[np.ndarray, np.ndarray]  # (rows, hashes): row r belongs to the group of hash h
# (the slice's sorted gram codes, each record's number of grams, their positions in those codes)
_Grams = tuple[np.ndarray, np.ndarray, np.ndarray]


class _Slice(NamedTuple):
    """Some consecutive records packed by one worker; rows count from the slice's start."""

    fields: dict[str, tuple[bytes, np.ndarray]]  # each field's buffer and the byte length of each record's value
    attribute_keys: list[AttributeKey]  # the distinct attribute sets met in the slice
    attribute_ids: np.ndarray  # each record's position in ``attribute_keys``
    keys: _Membership  # rows with an exact-text key, and the key's hash
    codes: _Membership  # (row, hash) for each of a row's model codes
    grams: _Grams


def _pack_slice(texts: Sequence[str], start: int, stop: int) -> _Slice:
    """Records ``start:stop`` packed."""
    values: dict[str, list[bytes]] = {name: [] for name in _FIELDS}
    keys: dict[AttributeKey, int] = {}
    local = []
    norms = []
    key_rows, key_hashes, code_rows, code_hashes = [], [], [], []
    for row, text in enumerate(texts[start:stop]):
        found = TextFeatures(text)
        norms.append(found.norm)
        if found.key:
            key_rows.append(row)
            key_hashes.append(hash(found.key))  # forked workers share the parent's string hashing
        for code in found.codes:
            code_rows.append(row)
            code_hashes.append(hash(code))
        for name, value in (
            ("text", text),
            ("key", found.key),
            ("ranked", " ".join(found.ranked)),
            ("token_text", found.token_text),
            ("content_words", " ".join(found.content_words)),
        ):
            values[name].append(value.encode("utf-8"))
        local.append(keys.setdefault(found.attr_key, len(keys)))
    indptr, codes = gram_codes(norms)
    vocabulary, ids = np.unique(codes, return_inverse=True)
    packed = {
        name: (b"".join(blobs), np.fromiter(map(len, blobs), dtype=np.int64, count=len(blobs)))
        for name, blobs in values.items()
    }
    return _Slice(
        packed,
        list(keys),
        np.array(local, dtype=np.int64),
        (np.array(key_rows, dtype=np.int64), np.array(key_hashes, dtype=np.int64)),
        (np.array(code_rows, dtype=np.int64), np.array(code_hashes, dtype=np.int64)),
        (vocabulary, np.diff(indptr), ids.astype(np.int32)),
    )
