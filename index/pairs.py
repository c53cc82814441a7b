"""Mined pairs as columns: millions of pairs in numpy arrays instead of Python objects.

A pair keeps what classifying it at any threshold needs (its similarity before and
after conflict penalties, and ``scoring`` flags) and its reason, rendered once by the
worker that measured it and stored as packed UTF-8. A million-title catalog mines
millions of pairs; as ``Evidence`` objects they took most of the memory of a dedup run.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from nextdrop.index.scoring import Evidence, classify


class PairChunk(NamedTuple):
    """Some measured pairs: rows into the two sides' id lists, scores, flags and packed reasons."""

    a: np.ndarray
    b: np.ndarray
    base: np.ndarray
    score: np.ndarray
    flags: np.ndarray
    reasons: bytes
    reason_lengths: np.ndarray  # bytes of each reason in ``reasons``

    @classmethod
    def measured(cls, a: Sequence[int], b: Sequence[int], found: Sequence[Evidence]) -> PairChunk:
        encoded = [ev.reason().encode("utf-8") for ev in found]
        return cls(
            np.asarray(a, dtype=np.int64),
            np.asarray(b, dtype=np.int64),
            np.fromiter((ev.base for ev in found), dtype=np.float64, count=len(found)),
            np.fromiter((ev.score for ev in found), dtype=np.float64, count=len(found)),
            np.fromiter((ev.flags for ev in found), dtype=np.uint8, count=len(found)),
            b"".join(encoded),
            np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)),
        )


class MinedPair(NamedTuple):
    """One row of ``MinedPairs``, by id."""

    a: str
    b: str
    base: float
    score: float
    flags: int
    reason: str


@dataclass(frozen=True, eq=False)
class MinedPairs:
    """Every mined pair of one run: ``a`` rows into ``left_ids``, ``b`` rows into ``right_ids``."""

    left_ids: Sequence[str]
    right_ids: Sequence[str]
    a: np.ndarray
    b: np.ndarray
    base: np.ndarray  # similarity before conflict penalties
    score: np.ndarray  # 1.0 for the same text, else base minus penalties
    flags: np.ndarray  # scoring.SAME_TEXT | CONFLICTED | EXTRA | COMPETING
    reason_bytes: np.ndarray  # uint8: every reason's UTF-8, one after another
    reason_starts: np.ndarray  # where each pair's reason starts and ends in ``reason_bytes``
    reason_ends: np.ndarray

    @classmethod
    def join(cls, left_ids: Sequence[str], right_ids: Sequence[str], chunks: list[PairChunk]) -> MinedPairs:
        """One table in ``(a, b)`` order from chunks measured apart; empties ``chunks``.

        The order makes results independent of how the work was split. Columns are built one
        at a time, each freeing its parts, so a large run never holds two copies of them all.
        """
        parts = {name: [getattr(chunk, name) for chunk in chunks] for name in PairChunk._fields}
        chunks.clear()

        def column(name: str, dtype: type) -> np.ndarray:
            pieces = parts.pop(name)
            return np.concatenate(pieces) if pieces else np.zeros(0, dtype=dtype)

        lengths = column("reason_lengths", np.int64)
        ends = np.cumsum(lengths)
        packed = np.empty(int(ends[-1]) if len(ends) else 0, dtype=np.uint8)
        start = 0
        for piece in parts.pop("reasons"):
            packed[start : start + len(piece)] = np.frombuffer(piece, dtype=np.uint8)
            start += len(piece)
        a, b = column("a", np.int64), column("b", np.int64)
        order = np.lexsort((b, a))
        return cls(
            left_ids,
            right_ids,
            a[order],
            b[order],
            column("base", np.float64)[order],
            column("score", np.float64)[order],
            column("flags", np.uint8)[order],
            packed,
            (ends - lengths)[order],
            ends[order],
        )

    def __len__(self) -> int:
        return len(self.a)

    def __iter__(self) -> Iterator[MinedPair]:
        for n in range(len(self)):
            yield self.pair(n)

    def pair(self, n: int) -> MinedPair:
        return MinedPair(
            self.left_ids[self.a[n]],
            self.right_ids[self.b[n]],
            float(self.base[n]),
            float(self.score[n]),
            int(self.flags[n]),
            self.reason(n),
        )

    def reason(self, n: int) -> str:
        return self.reason_bytes[self.reason_starts[n] : self.reason_ends[n]].tobytes().decode("utf-8")

    def kinds(self, threshold: float, same_source: bool) -> np.ndarray:
        """Each pair's kind code at ``threshold`` (see ``scoring.classify``)."""
        return classify(self.base, self.flags, threshold, same_source)
