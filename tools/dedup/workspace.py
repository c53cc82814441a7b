"""Duplicate detection over a workspace: the catalog, the candidates, a supplier file, or named pairs.

The public entries the CLI and the agent call: ``run_dedup``, which returns a ``DedupReport``
(the mined pairs and groups from ``index`` plus what a merchant needs to prioritise them,
the sales each group splits), and ``match_in_workspace``, the same decision on pairs of
titles a merchant names (``match``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from nextdrop.errors import InputError
from nextdrop.index.axes import variant_words
from nextdrop.index.catalog import IndexUpdate, catalog_records, catalog_texts, open_embedder, update_index
from nextdrop.index.dedup import DUPLICATE_KINDS, DedupResult, Group, Pair
from nextdrop.index.embedder import DEFAULT_MODEL, Embedder, Progress, is_default_model
from nextdrop.index.mining import Records, Step, mine_across, mine_within
from nextdrop.index.pairs import MinedPairs
from nextdrop.index.ranges import Range, find_ranges
from nextdrop.index.scoring import KINDS
from nextdrop.index.text import UNSPACED_SCRIPT, has_title, sibling_ids
from nextdrop.index.vectors import VectorIndex
from nextdrop.store.columns import match_columns
from nextdrop.store.readers import read_table
from nextdrop.store.together import TOGETHER_ORDERS, orders_together
from nextdrop.store.workspace import Workspace
from nextdrop.tools.dedup.match import PairMatch, match_pairs

DUPLICATE_CODES = [KINDS.index(kind) for kind in DUPLICATE_KINDS]


@dataclass(frozen=True)
class GroupImpact:
    """Sales of one group: in total, and what the duplicates take from the best seller."""

    units: float
    revenue: float
    split_units: float  # units sold by every member but the best seller: what a merge consolidates
    keep: str  # the best seller: the listing to keep, the others merged into it


@dataclass(frozen=True)
class DedupReport:
    """A dedup run and the context to read it: titles, sales, settings."""

    result: DedupResult
    titles: dict[str, str]
    units: dict[str, float]
    revenue: dict[str, float]
    settings: dict[str, object]
    index: IndexUpdate | None = None
    untitled: tuple[str, ...] = ()  # records whose title is empty, their id or only codes: never matched on text
    advice: tuple[str, ...] = ()  # what would make the report better on this catalog (``model_advice``)
    impact: dict[int, GroupImpact] = field(default_factory=dict)
    ranges: tuple[Range, ...] = ()  # variants of one family, by the axis that varies

    def __post_init__(self) -> None:
        object.__setattr__(self, "impact", {g.group: self._impact(g) for g in self.result.groups})
        object.__setattr__(self, "ranges", tuple(find_ranges(self.result.id_pairs_of("variant"), self.titles)))

    def _impact(self, group: Group) -> GroupImpact:
        units = [self.units.get(pid, 0.0) for pid in group.ids]
        return GroupImpact(
            units=sum(units),
            revenue=sum(self.revenue.get(pid, 0.0) for pid in group.ids),
            split_units=sum(units) - max(units, default=0.0),
            keep=max(group.ids, key=lambda pid: (self.units.get(pid, 0.0), pid)),
        )

    def range_of(self) -> dict[str, int]:
        """Each product in a range, with its range's number (from 1, as listed in ``ranges``)."""
        return {pid: n for n, found in enumerate(self.ranges, start=1) for pid in found.ids}

    def groups_by_impact(self) -> list[Group]:
        """Groups, the ones splitting the most sales first."""
        return sorted(
            self.result.groups,
            key=lambda g: (-self.impact[g.group].split_units, -self.impact[g.group].units, g.group),
        )

    def flagged(self) -> dict[str, tuple[Pair, ...]]:
        """Each record that duplicates another (for candidates: the catalog products it repeats).

        The planner uses this to flag a candidate before anyone plans to launch it.
        """
        found: dict[str, list[Pair]] = {}
        for pair in self.result.duplicates:
            found.setdefault(pair.a, []).append(pair)
        return {pid: tuple(pairs) for pid, pairs in found.items()}

    def rethreshold(self, threshold: float) -> DedupReport:
        """The same run at another threshold (no re-embedding, no re-mining)."""
        return replace(
            self, result=self.result.rethreshold(threshold), settings={**self.settings, "threshold": threshold}
        )


def run_dedup(
    ws: Workspace,
    *,
    threshold: float | None = None,
    candidates: bool = False,
    against: Path | None = None,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
    step: Step | None = None,
) -> DedupReport:
    """Update the index, mine pairs in the chosen mode and group them."""
    if candidates and against is not None:
        raise InputError("choose either --candidates or --against FILE, not both")
    settings = ws.settings.index
    threshold = settings.threshold if threshold is None else threshold
    cached = open_embedder(ws, settings, embedder)
    fingerprint = cached.fingerprint
    if step:
        step("indexing the catalog")
    update = update_index(ws, cached, settings.index_kind, progress=progress)
    index = VectorIndex.load(update.folder)
    catalog = catalog_records(ws, cached)
    title_ids, title_texts = catalog.ids, catalog.texts  # a dict once pairs are mined: 45 MB at a million
    catalog, untitled = _titled(catalog)
    axes = variant_words(catalog.texts)  # the catalog's house style: candidates are written in it too
    if candidates or against is not None:
        ids, texts = _candidate_texts(ws) if candidates else _file_texts(against)
        if step:
            step(f"embedding {len(ids):,} records")
        queries, untitled = _titled(Records(ids, texts, cached.encode(texts, progress=progress)))
        cached.save()
        del cached
        title_ids, title_texts = [*title_ids, *ids], [*title_texts, *texts]
        mined = mine_across(queries, catalog, index, threshold=threshold, step=step, axes=axes)
        mode, records = ("candidates" if candidates else "file"), len(ids)
    else:
        del cached  # the catalog's vectors are copied out of it: a million titles would hold 1 GB twice
        mined = mine_within(catalog, index, threshold=threshold, step=step, axes=axes)
        mode, records = "catalog", len(title_ids)
    del catalog, index  # the pairs keep the ids; the vectors and the index are not needed to group them
    units, revenue = _sales(ws)
    apart = _ruled_apart(ws, mined, threshold) if mode == "catalog" else {}
    return DedupReport(
        result=DedupResult.build(mode, records, mined, threshold, apart),
        titles=dict(zip(title_ids, title_texts, strict=True)),
        units=units,
        revenue=revenue,
        settings={
            "model": settings.model,
            "fingerprint": fingerprint,
            "threshold": threshold,
            "index_kind": update.kind,
            "mode": mode,
            "against": str(against) if against else None,
        },
        advice=model_advice(settings.model, title_texts),
        index=update,
        untitled=untitled,
    )


def model_advice(model: str, texts: Sequence[str]) -> tuple[str, ...]:
    """A line when most titles are in a script the default English model reads poorly (Chinese, Japanese, Thai).

    Measured on chinese_titles (BENCHMARKS.md): the English model scores unrelated CJK titles at 0.9 and
    above, so such pairs then rest on their text overlap alone.
    """
    if not is_default_model(model) or not texts:
        return ()
    share = sum(bool(UNSPACED_SCRIPT.search(text)) for text in texts) / len(texts)
    if share < 0.5:
        return ()
    return (
        f"{share:.0%} of titles are in Chinese, Japanese or Thai, which the default model ({DEFAULT_MODEL}) "
        "reads poorly, so pairs rest on the words they share: set index.model in nextdrop.toml to a "
        "multilingual sentence-transformers folder on disk (README, 'Duplicates and variants').",
    )


def match_in_workspace(
    ws: Workspace, pairs: Sequence[tuple[str, str]], same_source: bool = True, embedder: Embedder | None = None
) -> list[PairMatch]:
    """``match_pairs`` with the workspace's model, threshold and its catalog's variant words.

    A side that is a catalog product id is read as that product: its title, and its sales
    (two products bought in one order are two items, see ``store.together``).
    """
    settings = ws.settings.index
    ids, titles = catalog_texts(ws)
    title_of = dict(zip(ids, titles, strict=True))
    axes = variant_words(t for t in titles if has_title(t))
    texts = [(title_of.get(left, left), title_of.get(right, right)) for left, right in pairs]
    found = match_pairs(texts, open_embedder(ws, settings, embedder), settings.threshold, axes, same_source)
    products = [n for n, (left, right) in enumerate(pairs) if left in title_of and right in title_of]
    for n, why in zip(products, _two_items(ws, [pairs[n] for n in products]), strict=True):
        m = found[n]
        if why and m.is_duplicate:
            m = replace(m, kind="variant", reason=f"{m.reason}; {why}")
        found[n] = replace(m, left=pairs[n][0], right=pairs[n][1])
    return found


def _ruled_apart(ws: Workspace, mined: MinedPairs, threshold: float) -> dict[int, str]:
    """Merge pairs that evidence beyond their titles shows to be two items (``_two_items``), by mined row."""
    rows = np.flatnonzero(np.isin(mined.kinds(threshold, same_source=True), DUPLICATE_CODES)).tolist()
    pairs = [(mined.left_ids[mined.a[n]], mined.right_ids[mined.b[n]]) for n in rows]
    return {n: why for n, why in zip(rows, _two_items(ws, pairs), strict=True) if why}


def _two_items(ws: Workspace, pairs: Sequence[tuple[str, str]]) -> list[str | None]:
    """Why each pair of catalog products is two items whatever their titles say, or None.

    The merchant's own numbering (``text.sibling_ids``: one stem, another suffix letter) and
    the orders (customers buy both in one order, ``store.together``).
    """
    siblings = [sibling_ids(a, b) for a, b in pairs]
    rest = [pair for pair, sibling in zip(pairs, siblings, strict=True) if not sibling]
    counts = iter(orders_together(ws, rest))
    found: list[str | None] = []
    for (a, b), sibling in zip(pairs, siblings, strict=True):
        if sibling:
            found.append(f"ids {a} / {b}: one stem, another suffix: two items of a range")
            continue
        count = next(counts)
        found.append(f"bought together in {count} orders: two items" if count >= TOGETHER_ORDERS else None)
    return found


def _titled(records: Records) -> tuple[Records, tuple[str, ...]]:
    """The records with a title to match on, and the ids of those without (see ``text.has_title``)."""
    keep = [has_title(text) for text in records.texts]
    if all(keep):
        return records, ()
    rows = [n for n, kept in enumerate(keep) if kept]
    untitled = tuple(pid for pid, kept in zip(records.ids, keep, strict=True) if not kept)
    titled = Records([records.ids[n] for n in rows], [records.texts[n] for n in rows], records.vectors[rows])
    return titled, untitled


def _candidate_texts(ws: Workspace) -> tuple[list[str], list[str]]:
    with ws.read() as con:
        rows = con.execute("SELECT candidate_id, coalesce(title, '') FROM candidates ORDER BY candidate_id").fetchall()
    return [r[0] for r in rows], [r[1] for r in rows]


def _file_texts(path: Path) -> tuple[list[str], list[str]]:
    """Ids and titles of a product file, read with the store's readers and column aliases."""
    frame = read_table(path).frame
    match = match_columns("products", [str(c) for c in frame.columns], path)
    id_col, title_col = match.source_of("product_id"), match.source_of("title")
    table = pd.DataFrame(
        {"id": frame[id_col].astype(str).str.strip(), "title": frame[title_col].fillna("").astype(str)}
    )
    table = table[table["id"] != ""].drop_duplicates("id")
    return list(table["id"]), list(table["title"])


def _sales(ws: Workspace) -> tuple[dict[str, float], dict[str, float]]:
    with ws.read() as con:
        rows = con.execute("SELECT product_id, units, revenue FROM product_sales").fetchall()
    return {r[0]: float(r[1]) for r in rows}, {r[0]: float(r[2]) for r in rows}
