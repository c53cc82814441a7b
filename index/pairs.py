"""Mined pairs as columns: millions of pairs in numpy arrays instead of Python objects.

A pair keeps what classifying it at any threshold needs (its similarity before and
after conflict penalties, and ``scoring`` flags) and its reason, rendered once by the
worker that measured it. Reasons are most of a run's bytes and are read only when a
report is written, so they wait in an unnamed temporary file (gone when the run is),
read back one pair at a time: a million-title catalog mines millions of pairs.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, NamedTuple

import numpy as np

from nextdrop.index.decision import match_probability
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
    match: np.ndarray  # learned cross-source match probability (``index.decision``); empty where not worked out

    @classmethod
    def measured(
        cls, a: Sequence[int], b: Sequence[int], found: Sequence[Evidence], across: bool = False
    ) -> PairChunk:
        """``across``: the two sides are two sources, so the learned decision's probability is worked out."""
        encoded = [ev.reason().encode("utf-8") for ev in found]
        match = match_probability(found) if across and found else None
        return cls(
            np.asarray(a, dtype=np.int32),
            np.asarray(b, dtype=np.int32),
            np.fromiter((ev.base for ev in found), dtype=np.float64, count=len(found)),
            np.fromiter((ev.score for ev in found), dtype=np.float64, count=len(found)),
            np.fromiter((ev.flags for ev in found), dtype=np.uint8, count=len(found)),
            b"".join(encoded),
            np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)),
            np.zeros(0, dtype=np.float32) if match is None else match.astype(np.float32),  # none inside a catalog
        )


class MinedPair(NamedTuple):
    """One row of ``MinedPairs``, by id."""

    a: str
    b: str
    base: float
    score: float
    flags: int
    reason: str


class ReasonFile:
    """Reasons appended as UTF-8 to an unnamed temporary file and read back by byte range."""

    def __init__(self) -> None:
        self._file: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - open as long as the pairs live

    def append(self, packed: bytes) -> None:
        self._file.write(packed)

    def finish(self) -> None:
        self._file.flush()

    def read(self, start: int, end: int) -> str:
        return os.pread(self._file.fileno(), end - start, start).decode("utf-8")

    def read_many(self, starts: Sequence[int], ends: Sequence[int]) -> list[str]:
        """Several reasons: with one read of the span they lie in when it is mostly theirs, else one read each."""
        if not starts:
            return []
        low, high = min(starts), max(ends)
        wanted = sum(ends) - sum(starts)
        if high - low > 4 * wanted + (1 << 16):  # the span is mostly other pairs' reasons
            return [self.read(start, end) for start, end in zip(starts, ends, strict=True)]
        span = os.pread(self._file.fileno(), high - low, low)
        return [span[start - low : end - low].decode("utf-8") for start, end in zip(starts, ends, strict=True)]


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
    reasons: ReasonFile
    reason_starts: np.ndarray  # where each pair's reason starts and ends in ``reasons``
    reason_ends: np.ndarray
    match: np.ndarray | None = None  # learned cross-source match probability; None when not worked out

    @classmethod
    def collect(cls, left_ids: Sequence[str], right_ids: Sequence[str], chunks: Iterable[PairChunk]) -> MinedPairs:
        """One table in ``(a, b)`` order from chunks measured apart, their reasons sent to disk as they come.

        The order makes results independent of how the work was split.
        """
        reasons = ReasonFile()
        parts: dict[str, list[np.ndarray]] = {name: [] for name in PairChunk._fields if name != "reasons"}
        for chunk in chunks:
            reasons.append(chunk.reasons)
            for name, values in parts.items():
                values.append(getattr(chunk, name))
        reasons.finish()

        def column(name: str, dtype: type) -> np.ndarray:
            pieces = parts.pop(name)
            return np.concatenate(pieces) if pieces else np.zeros(0, dtype=dtype)

        lengths = column("reason_lengths", np.int64)
        ends = np.cumsum(lengths)
        a, b, match = column("a", np.int32), column("b", np.int32), column("match", np.float32)
        order = np.lexsort((b, a))
        return cls(
            left_ids,
            right_ids,
            a[order],
            b[order],
            column("base", np.float64)[order],
            column("score", np.float64)[order],
            column("flags", np.uint8)[order],
            reasons,
            (ends - lengths)[order],
            ends[order],
            match[order] if len(match) == len(a) and len(a) else None,  # no column inside a catalog: no memory
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
        return self.reasons.read(int(self.reason_starts[n]), int(self.reason_ends[n]))

    def kinds(self, threshold: float, same_source: bool) -> np.ndarray:
        """Each pair's kind code at ``threshold`` (see ``scoring.classify``)."""
        return classify(self.base, self.flags, threshold, same_source, self.match)
