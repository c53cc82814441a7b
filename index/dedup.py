"""Duplicate results that carry their evidence and regroup at any threshold without re-embedding.

``DedupResult.build`` turns mined evidence into classified pairs and merge groups;
``rethreshold`` does it again from the same evidence. Modes:
- ``catalog``: pairs inside one catalog;
- ``candidates``: candidate (a) against catalog product (b); several candidates may
  duplicate one product;
- ``file``: a feed record (a) against a catalog product (b), matched one-to-one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from nextdrop.index.assign import one_to_one
from nextdrop.index.groups import group_pairs
from nextdrop.index.mining import Mined
from nextdrop.index.scoring import Evidence

DUPLICATE_KINDS = ("exact", "near_duplicate")
MODES = ("catalog", "candidates", "file")


@dataclass(frozen=True, slots=True)
class Pair:
    """Two records, how alike they are, what kind of pair they make and why."""

    a: str
    b: str
    score: float
    kind: str
    note: str  # what grouping added to the evidence's reason (a better one-to-one match), usually ""
    group: int | None
    evidence: Evidence = field(repr=False, compare=False)

    @property
    def reason(self) -> str:
        """Written when read: millions of pairs need not hold their sentence until the report does."""
        return self.evidence.reason() + self.note

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


@dataclass(frozen=True)
class DedupResult:
    """All pairs and groups of one dedup run, at one threshold."""

    mode: str
    threshold: float
    records: int  # records checked: the catalog, the candidates, or the file's rows
    pairs: tuple[Pair, ...]
    groups: tuple[Group, ...]
    mined: tuple[Mined, ...] = field(repr=False)

    @classmethod
    def build(cls, mode: str, records: int, mined: Sequence[Mined], threshold: float) -> DedupResult:
        """Classify every mined pair at ``threshold`` and group the duplicates."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        same_source = mode != "file"
        kinds = [ev.kind(threshold, same_source) for _, _, ev in mined]
        notes: dict[int, str] = {}
        if mode == "file":
            dupes = [(a, b, ev.score) for (a, b, ev), kind in zip(mined, kinds, strict=True) if kind in DUPLICATE_KINDS]
            kept = one_to_one(dupes)
            best = {a: b for a, b in kept} | {b: a for a, b in kept}
            for n, ((a, b, _), kind) in enumerate(zip(mined, kinds, strict=True)):
                if kind in DUPLICATE_KINDS and (a, b) not in kept:
                    other = best.get(a) or best.get(b)
                    notes[n] = f"; one-to-one: better match {other}" if other else ""
                    kinds[n] = "similar"
        classified = [(n, kind) for n, kind in enumerate(kinds) if kind is not None]
        duplicates = [(*mined[n][:2], mined[n][2].score) for n, kind in classified if kind in DUPLICATE_KINDS]
        # Known-different pairs must never end up in one group: variants, and pairs as close as
        # duplicates that were ruled apart (competing products, a feed record matched elsewhere).
        apart = [
            mined[n][:2]
            for n, kind in classified
            if kind == "variant" or (kind == "similar" and mined[n][2].base >= threshold)
        ]
        members = group_pairs(duplicates, apart)
        group_of = {pid: n for n, ids in enumerate(members, start=1) for pid in ids}
        weakest: dict[int, float] = {}
        all_exact: dict[int, bool] = {}
        pairs = []
        for n, kind in classified:
            a, b, ev = mined[n]
            group = group_of.get(a) if kind in DUPLICATE_KINDS and group_of.get(a) == group_of.get(b) else None
            if group is not None:
                weakest[group] = min(weakest.get(group, 1.0), ev.score)
                all_exact[group] = all_exact.get(group, True) and kind == "exact"
            pairs.append(Pair(a, b, round(ev.score, 4), kind, notes.get(n, ""), group, ev))
        pairs.sort(key=lambda p: (p.group is None, p.group or 0, -p.score, p.a, p.b))
        groups = tuple(
            Group(n, tuple(ids), "exact" if all_exact.get(n) else "near_duplicate", round(weakest.get(n, 1.0), 4))
            for n, ids in enumerate(members, start=1)
        )
        return cls(mode, threshold, records, tuple(pairs), groups, tuple(mined))

    def rethreshold(self, threshold: float) -> DedupResult:
        """The same evidence classified and grouped at another threshold (no re-embedding)."""
        return DedupResult.build(self.mode, self.records, self.mined, threshold)

    @property
    def duplicates(self) -> tuple[Pair, ...]:
        return tuple(p for p in self.pairs if p.is_duplicate)

    def count(self, kind: str) -> int:
        return sum(p.kind == kind for p in self.pairs)

    @property
    def duplicate_ratio(self) -> float:
        """Catalog: share of records a merge would remove. Candidates/file: share that duplicate the catalog."""
        if self.records == 0:
            return 0.0
        if self.mode == "catalog":
            return sum(len(g.ids) - 1 for g in self.groups) / self.records
        return len({p.a for p in self.duplicates}) / self.records
