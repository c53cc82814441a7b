"""Duplicate results that carry their evidence and regroup at any threshold without re-embedding.

``DedupResult.build`` turns mined evidence into classified pairs and merge groups;
``rethreshold`` does it again from the same evidence. Modes:
- ``catalog``: pairs inside one catalog;
- ``candidates``: candidate (a) against catalog product (b); several candidates may
  duplicate one product;
- ``file``: a feed record (a) against a catalog product (b), matched one-to-one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, overload

import numpy as np

from nextdrop.index.assign import one_to_one
from nextdrop.index.groups import group_pairs
from nextdrop.index.pairs import MinedPairs
from nextdrop.index.scoring import KINDS, UNRELATED

DUPLICATE_KINDS = ("exact", "near_duplicate")
MODES = ("catalog", "candidates", "file")
_EXACT, _NEAR, _VARIANT, _SIMILAR = (KINDS.index(k) for k in ("exact", "near_duplicate", "variant", "similar"))


def _duplicate(kind: np.ndarray) -> np.ndarray:
    """Which kind codes are duplicates (``DUPLICATE_KINDS``)."""
    return (kind == _EXACT) | (kind == _NEAR)


class Pair(NamedTuple):
    """Two records, how alike they are, what kind of pair they make and why.

    A named tuple: reports build one per pair, and a frozen dataclass costs three times as much.
    """

    a: str
    b: str
    score: float
    kind: str
    reason: str
    group: int | None

    @property
    def is_duplicate(self) -> bool:
        return self.kind in DUPLICATE_KINDS


@dataclass(frozen=True, slots=True)
class Group:
    """Records a merchant would merge into one product (numbered from 1)."""

    group: int
    ids: tuple[str, ...]
    kind: str  # "exact" when every link is the same text, else "near_duplicate"
    score: float  # the weakest link that holds the group together


class PairList(Sequence[Pair]):
    """A result's related pairs in report order, each built when read (there may be millions)."""

    def __init__(self, result: DedupResult) -> None:
        self._result = result

    def __len__(self) -> int:
        return len(self._result.order)

    @overload
    def __getitem__(self, n: int) -> Pair: ...
    @overload
    def __getitem__(self, n: slice) -> list[Pair]: ...
    def __getitem__(self, n: int | slice) -> Pair | list[Pair]:
        if isinstance(n, slice):
            return self._result.pairs_at(self._result.order[n])
        return self._result.pairs_at(self._result.order[[n]])[0]

    def __iter__(self) -> Iterator[Pair]:
        order = self._result.order
        for start in range(0, len(order), 10_000):
            yield from self._result.pairs_at(order[start : start + 10_000])


@dataclass(frozen=True, eq=False)
class DedupResult:
    """All pairs and groups of one dedup run, at one threshold (per mined pair: kind and group as columns)."""

    mode: str
    threshold: float
    records: int  # records checked: the catalog, the candidates, or the file's rows
    groups: tuple[Group, ...]
    mined: MinedPairs = field(repr=False)
    kind: np.ndarray = field(repr=False)  # kind code per mined pair (``UNRELATED`` at this threshold)
    group: np.ndarray = field(repr=False)  # merge group per mined pair, 0 when not merged
    order: np.ndarray = field(repr=False)  # the related pairs (rows of ``mined``) in report order
    notes: dict[int, str] = field(repr=False)  # what grouping added to a pair's reason (a better one-to-one match)
    ruled_apart: Mapping[int, str] = field(repr=False, default_factory=dict)  # see ``build``

    @classmethod
    def build(
        cls, mode: str, records: int, mined: MinedPairs, threshold: float, ruled_apart: Mapping[int, str] | None = None
    ) -> DedupResult:
        """Classify every mined pair at ``threshold`` and group the duplicates.

        ``ruled_apart``: mined rows that evidence beyond the titles shows to be two items
        (bought in one order), with the reason; they are variants, never merged.
        """
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        kind = mined.kinds(threshold, same_source=mode != "file")
        ids_a, ids_b = mined.left_ids, mined.right_ids
        notes = _one_to_one(mined, kind) if mode == "file" else {}
        for n, why in (ruled_apart or {}).items():
            if _duplicate(kind[n : n + 1])[0]:
                kind[n] = _VARIANT
                notes[n] = f"; {why}"
        dup = np.flatnonzero(_duplicate(kind))
        a_rows, b_rows, scores = mined.a[dup].tolist(), mined.b[dup].tolist(), mined.score[dup].tolist()
        duplicates = [(ids_a[a], ids_b[b], s) for a, b, s in zip(a_rows, b_rows, scores, strict=True)]
        members = group_pairs(duplicates, _apart(mined, kind, threshold, {x for a, b, _ in duplicates for x in (a, b)}))
        group_of = {pid: n for n, ids in enumerate(members, start=1) for pid in ids}
        group = np.zeros(len(mined), dtype=np.int32)
        weakest: dict[int, float] = {}
        all_exact: dict[int, bool] = {}
        for n, (a, b, score) in zip(dup.tolist(), duplicates, strict=True):
            g = group_of.get(a)
            if g is not None and g == group_of.get(b):
                group[n] = g
                weakest[g] = min(weakest.get(g, 1.0), score)
                all_exact[g] = all_exact.get(g, True) and kind[n] == _EXACT
        groups = tuple(
            Group(n, tuple(ids), "exact" if all_exact.get(n) else "near_duplicate", round(weakest.get(n, 1.0), 4))
            for n, ids in enumerate(members, start=1)
        )
        order = _report_order(mined, kind, group)
        return cls(mode, threshold, records, groups, mined, kind, group, order, notes, dict(ruled_apart or {}))

    def pairs_at(self, rows: np.ndarray) -> list[Pair]:
        """Mined pairs ``rows`` as read in a report (columns converted a block at a time)."""
        mined = self.mined
        reasons = mined.reasons.read_many(mined.reason_starts[rows].tolist(), mined.reason_ends[rows].tolist())
        columns = zip(
            mined.a[rows].tolist(),
            mined.b[rows].tolist(),
            _round4(mined.score[rows]).tolist(),
            self.kind[rows].tolist(),
            reasons,
            self.group[rows].tolist(),
            rows.tolist(),
            strict=True,
        )
        return [
            Pair(
                mined.left_ids[a],
                mined.right_ids[b],
                score,
                KINDS[kind],
                reason + self.notes.get(n, "") if self.notes else reason,
                group or None,
            )
            for a, b, score, kind, reason, group, n in columns
        ]

    @property
    def pairs(self) -> PairList:
        return PairList(self)

    def rethreshold(self, threshold: float) -> DedupResult:
        """The same evidence classified and grouped at another threshold (no re-embedding)."""
        return DedupResult.build(self.mode, self.records, self.mined, threshold, self.ruled_apart)

    @property
    def duplicates(self) -> tuple[Pair, ...]:
        return tuple(self.pairs_of(*DUPLICATE_KINDS))

    def pairs_of(self, *kinds: str, ungrouped: bool = False, limit: int | None = None) -> list[Pair]:
        """The related pairs of these kinds (``ungrouped``: only those in no merge group), in report order."""
        return self.pairs_at(self._rows_of(kinds, ungrouped)[:limit])

    def id_pairs_of(self, *kinds: str) -> Iterator[tuple[str, str]]:
        """The two ids of each pair of these kinds, in report order: no reasons read, no ``Pair`` built.

        A million-title catalog has twelve million variant pairs; built as ``Pair`` objects
        they took 4 GB.
        """
        rows, mined = self._rows_of(kinds, False), self.mined
        for start in range(0, len(rows), 100_000):
            block = rows[start : start + 100_000]
            left, right = mined.a[block].tolist(), mined.b[block].tolist()
            yield from ((mined.left_ids[a], mined.right_ids[b]) for a, b in zip(left, right, strict=True))

    def _rows_of(self, kinds: Sequence[str], ungrouped: bool) -> np.ndarray:
        order = self.order
        keep = np.isin(self.kind[order], [KINDS.index(k) for k in kinds])
        if ungrouped:
            keep &= self.group[order] == 0
        return order[keep]

    def count(self, kind: str) -> int:
        return int(np.count_nonzero(self.kind == KINDS.index(kind)))

    @property
    def duplicate_ratio(self) -> float:
        """Catalog: share of records a merge would remove. Candidates/file: share that duplicate the catalog."""
        if self.records == 0:
            return 0.0
        if self.mode == "catalog":
            return sum(len(g.ids) - 1 for g in self.groups) / self.records
        return len(np.unique(self.mined.a[_duplicate(self.kind)])) / self.records


def _one_to_one(mined: MinedPairs, kind: np.ndarray) -> dict[int, str]:
    """Feed matching: each record is one product, so only the best consistent matches stay duplicates.

    The others become similar (``kind`` is changed in place) with a note naming the better match.
    """
    dup = np.flatnonzero(_duplicate(kind)).tolist()
    found = [(mined.left_ids[mined.a[n]], mined.right_ids[mined.b[n]], float(mined.score[n])) for n in dup]
    kept = one_to_one(found)
    best = {a: b for a, b in kept} | {b: a for a, b in kept}
    notes = {}
    for n, (a, b, _) in zip(dup, found, strict=True):
        if (a, b) not in kept:
            other = best.get(a) or best.get(b)
            notes[n] = f"; one-to-one: better match {other}" if other else ""
            kind[n] = _SIMILAR
    return notes


def _apart(mined: MinedPairs, kind: np.ndarray, threshold: float, linked: set[str]) -> list[tuple[str, str]]:
    """Known-different pairs among records that have a duplicate edge (no other record can join a group).

    Variants, and pairs as close as duplicates that were ruled apart (competing products,
    a feed record matched elsewhere), must never end up in one group.
    """
    in_a = np.fromiter((pid in linked for pid in mined.left_ids), dtype=bool, count=len(mined.left_ids))
    in_b = in_a if mined.right_ids is mined.left_ids else np.fromiter(
        (pid in linked for pid in mined.right_ids), dtype=bool, count=len(mined.right_ids)
    )
    ruled_apart = (kind == _VARIANT) | ((kind == _SIMILAR) & (mined.base >= threshold))
    rows = np.flatnonzero(ruled_apart & in_a[mined.a] & in_b[mined.b]).tolist()
    return [(mined.left_ids[mined.a[n]], mined.right_ids[mined.b[n]]) for n in rows]


def _report_order(mined: MinedPairs, kind: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Related pairs: grouped ones by group, then the rest; inside, best score first, then by ids."""
    related = np.flatnonzero(kind != UNRELATED)
    if not len(related):
        return related
    scores = _round4(mined.score[related])
    rank_a = _ranks(mined.left_ids)
    rank_b = rank_a if mined.right_ids is mined.left_ids else _ranks(mined.right_ids)
    g = group[related]
    order = np.lexsort((rank_b[mined.b[related]], rank_a[mined.a[related]], -scores, g, g == 0))
    return related[order]


def _round4(values: np.ndarray) -> np.ndarray:
    """``round(value, 4)`` of every value, in bulk and to the same float.

    ``rint(x * 1e4) / 1e4`` is that float (the division is correctly rounded) except
    where ``x * 1e4`` lies so near a half that its own rounding may have crossed it;
    those few go through ``round``.
    """
    scaled = values * 1e4
    rounded = np.rint(scaled) / 1e4
    near_half = np.flatnonzero(np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6)
    rounded[near_half] = [round(x, 4) for x in values[near_half].tolist()]
    return rounded


def _ranks(ids: Sequence[str]) -> np.ndarray:
    """Each id's position in sorted order (ids sort as strings)."""
    ranks = np.empty(len(ids), dtype=np.int64)
    ranks[sorted(range(len(ids)), key=ids.__getitem__)] = np.arange(len(ids))
    return ranks
