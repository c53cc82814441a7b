"""Duplicate mining, grouping and re-thresholding on small catalogs (hashing embedder: fast, real FAISS)."""

from __future__ import annotations

import itertools
import json
import os

import numpy as np
import pytest

from nextdrop.index import cores, dedup, mining, pairs
from nextdrop.index.dedup import DedupResult
from nextdrop.index.embedder import HashingEmbedder
from nextdrop.index.groups import group_pairs
from nextdrop.index.mining import COSINE_FLOOR, KEEP_BASE, Records, mine_across, mine_within
from nextdrop.index.pairs import ReasonFile
from nextdrop.index.scoring import evidence
from nextdrop.index.text import TextFeatures
from nextdrop.index.vectors import VectorIndex
from nextdrop.tools.dedup.report import to_json, to_json_text
from nextdrop.tools.dedup.workspace import DedupReport

EMBEDDER = HashingEmbedder()


def records(items: dict[str, str]) -> Records:
    ids, texts = list(items), list(items.values())
    return Records(ids, texts, EMBEDDER.encode(texts))


def catalog_dedup(items: dict[str, str], threshold: float = 0.6) -> DedupResult:
    recs = records(items)
    index = VectorIndex(EMBEDDER.dim)
    index.add(recs.ids, recs.vectors)
    return DedupResult.build("catalog", len(recs), mine_within(recs, index, threshold=threshold), threshold)


CATALOG = {
    "p1": "Vintage Ceramic Mug",
    "p2": "VINTAGE CERAMIC MUG",
    "p3": "New Vintage Ceramic Mug",
    "p4": "Vintage Ceramic Mug - Red",
    "p5": "Vintage Ceramic Mug - Blue",
    "p6": "Botanical Terracotta Plant Pot",
    "p7": "Woodland Terracotta Plant Pot",
    "p8": "Garden Trowel",
}


def kinds(result: DedupResult) -> dict[frozenset[str], str]:
    return {frozenset((p.a, p.b)): p.kind for p in result.pairs}


def test_kinds_groups_and_no_self_match() -> None:
    result = catalog_dedup(CATALOG)
    found = kinds(result)
    assert found[frozenset(("p1", "p2"))] == "exact"
    assert found[frozenset(("p1", "p3"))] == "near_duplicate"
    assert found[frozenset(("p4", "p5"))] == "variant"
    assert found[frozenset(("p6", "p7"))] == "variant"  # two plant pots of one range
    assert all(p.a != p.b for p in result.pairs)
    assert [g.ids for g in result.groups] == [("p1", "p2", "p3")]
    assert result.duplicate_ratio == pytest.approx(2 / 8)
    assert all(p.reason for p in result.pairs)


def test_variants_never_chain_into_one_group() -> None:
    groups = group_pairs([("red", "plain", 0.9), ("blue", "plain", 0.8)], apart=[("red", "blue")])
    assert groups == [["plain", "red"]]


def test_rethreshold_regroups_from_the_same_evidence() -> None:
    result = catalog_dedup(CATALOG)
    strict = result.rethreshold(0.99)
    assert strict.mined is result.mined
    assert [g.ids for g in strict.groups] == [("p1", "p2")]  # only the exact pair survives
    assert strict.rethreshold(0.6).groups == result.groups


def test_feed_matching_is_one_to_one() -> None:
    catalog = records({"a1": "Sony PS-LX350H Turntable", "a2": "Garden Trowel"})
    feed = records({"b1": "Sony Turntable PSLX350H", "b2": "Sony Belt Drive Turntable PSLX350H black"})
    index = VectorIndex(EMBEDDER.dim)
    index.add(catalog.ids, catalog.vectors)
    result = DedupResult.build("file", len(feed), mine_across(feed, catalog, index, threshold=0.6), 0.6)
    matched = [(p.a, p.b) for p in result.duplicates]
    assert matched == [("b1", "a1")]  # the closer record wins; the other is not matched twice
    assert any("one-to-one" in p.reason for p in result.pairs if p.kind == "similar")


BAD = {
    "empty": "",
    "empty2": "",
    "long": "Handmade ceramic mug " * 400,
    "html": "<p>Linen <b>Apron</b></p>",
    "html2": "Linen Apron",
    "emoji": "🎄 Christmas Bauble 🎄",
    "emoji2": "Christmas Bauble",
    "mixed": "Teapot 茶壶 Чайник",
    "cjk1": "七雄争霸点卡元宝直充",
    "cjk2": "七雄争霸点卡元宝直充 自动充值",
    "same1": "Retro Tea Towel",
    "same2": "Retro Tea Towel",
}


def test_bad_input_gives_sensible_pairs() -> None:
    result = catalog_dedup(BAD)
    found = kinds(result)
    assert found[frozenset(("same1", "same2"))] == "exact"
    assert found[frozenset(("html", "html2"))] == "exact"
    assert found[frozenset(("emoji", "emoji2"))] == "exact"
    assert found.get(frozenset(("cjk1", "cjk2"))) in {"near_duplicate", "similar"}
    assert frozenset(("empty", "empty2")) not in found  # two blank titles are not evidence of anything
    assert all(p.a != p.b for p in result.pairs)


def test_one_product_and_empty_catalogs() -> None:
    assert len(catalog_dedup({"only": "Garden Trowel"}).pairs) == 0
    empty = catalog_dedup({})
    assert len(empty.pairs) == 0 and list(empty.pairs) == [] and empty.duplicate_ratio == 0.0


VARIED = {
    **CATALOG,
    **BAD,
    "wd1": "WD Red 1TB drive",
    "wd3": "WD Red 3TB drive",
    "sony1": "Sony KDL-40V4100 LCD TV",
    "sony2": "Sony KDL40V4100 TV",
    "ln46": "Samsung LN46A850 LCD",
    "ln52": "Samsung LN52A850 LCD",
    "mug350": "Travel Mug 350ml",
    "mug500": "Travel Mug 500ml",
    "apron": "Cotton Apron",
    "apron2": "Organic Cotton Apron",
    "loofah": "Loofah",
    "loofah2": "Loofah - Red",
    "pack2": "Tea Lights 2-pack",
    "pack4": "Tea Lights 4 pack",
    "cjk3": "马克杯 红色 350ml",
    "cjk4": "马克杯 蓝色 350ml",
    "emoji3": "😀",
    "one": "x",
}


def per_pair_reference(recs: Records, right: Records | None = None) -> dict[tuple[str, str], tuple]:
    """What mining keeps, worked out pair by pair with ``scoring.evidence`` over every pair.

    Inside ``recs``, or every (``recs``, ``right``) pair.
    """
    if right is None:
        right, pairs = recs, np.array(list(itertools.combinations(range(len(recs)), 2)))
    else:
        pairs = np.array(list(itertools.product(range(len(recs)), range(len(right)))))
    cosines = np.einsum("ij,ij->i", recs.vectors[pairs[:, 0]], right.vectors[pairs[:, 1]]).tolist()
    kept = {}
    for (i, j), cosine in zip(pairs.tolist(), cosines, strict=True):
        fa, fb = TextFeatures(recs.texts[i]), TextFeatures(right.texts[j])
        if cosine < COSINE_FLOOR and fa.key != fb.key and not (fa.codes & fb.codes):
            continue
        ev = evidence(fa, fb, cosine, floor=KEEP_BASE, words_from=0.6)
        if ev.same_text or ev.base >= KEEP_BASE:
            kept[(recs.ids[i], right.ids[j])] = (ev.base, ev.score, ev.flags, ev.reason())
    return kept


def test_bulk_scoring_keeps_the_same_pairs_and_evidence_as_pair_by_pair() -> None:
    recs = records(VARIED)
    index = VectorIndex(EMBEDDER.dim)
    index.add(recs.ids, recs.vectors)
    mined = mine_within(recs, index, threshold=0.6, k=len(recs))  # every pair is a candidate
    reference = per_pair_reference(recs)
    assert {(p.a, p.b): (p.base, p.score, p.flags, p.reason) for p in mined} == reference
    assert len(reference) > 20 and any("different codes" in reason for *_, reason in reference.values())


def test_bulk_scoring_across_two_files_matches_pair_by_pair() -> None:
    """A feed and a catalog have their own gram vocabularies; overlaps are measured in their union."""
    feed = records({
        "f1": "vintage ceramic mug",
        "f2": "Sony KDL40V4100 LCD TV 40in",
        "f3": "马克杯 红色 500ml",
        "f4": "Terracotta Plant Pot (Botanical)",
        "f5": "Travel Mug 500 ml",
        "f6": "zebra quilt",
    })
    catalog = records(VARIED)
    index = VectorIndex(EMBEDDER.dim)
    index.add(catalog.ids, catalog.vectors)
    mined = mine_across(feed, catalog, index, threshold=0.6, k=len(catalog))  # every pair is a candidate
    reference = per_pair_reference(feed, catalog)
    assert {(p.a, p.b): (p.base, p.score, p.flags, p.reason) for p in mined} == reference
    assert len(reference) > 10


def test_forked_sliced_scoring_with_a_small_feature_cache_matches_one_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recs = records(VARIED)
    index = VectorIndex(EMBEDDER.dim)
    index.add(recs.ids, recs.vectors)
    serial = list(mine_within(recs, index, threshold=0.6, k=len(recs)))
    monkeypatch.setattr(mining, "PARALLEL_TEXTS", 1)
    monkeypatch.setattr(mining, "PARALLEL_PAIRS", 1)
    monkeypatch.setattr(mining, "SLICE", 7)  # many slices in runs of two, so each worker handles several
    monkeypatch.setattr(mining, "RUN", 14)
    monkeypatch.setattr(mining, "FEATURE_CACHE", 4)  # features evicted and rebuilt along the way
    monkeypatch.setattr(cores.os, "cpu_count", lambda: 2)  # fork two workers even on one core
    forked = list(mine_within(recs, index, threshold=0.6, k=len(recs)))
    assert len(serial) > 20 and forked == serial


def _fail_on_third(_: object, start: int, stop: int) -> int:
    if start == 2:
        raise ValueError("bad slice")
    return stop - start


def _die_on_third(_: object, start: int, stop: int) -> int:
    if start == 2:
        os._exit(9)  # as the kernel's out-of-memory killer would leave it: no word to the parent
    return stop - start


@pytest.mark.parametrize(("work", "message"), [(_fail_on_third, "bad slice"), (_die_on_third, "was killed")])
def test_a_failing_worker_stops_the_run_with_its_reason(
    monkeypatch: pytest.MonkeyPatch, work: object, message: str
) -> None:
    monkeypatch.setattr(cores.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(mining, "WORKER_POLL", 0.05)
    bounds = [(n, n + 1) for n in range(6)]
    assert sorted(mining._fork_map(_fail_on_third, None, bounds[:2], parallel=True)) == [(0, 1), (1, 1)]
    with pytest.raises(RuntimeError, match=message):
        list(mining._fork_map(work, None, bounds, parallel=True))


def test_streamed_json_is_the_standard_encoder_text() -> None:
    varied = catalog_dedup({f"{k}-ид-😀": v for k, v in VARIED.items()})
    assert varied.pairs and any(p.group is None for p in varied.pairs) and varied.groups
    for result in (varied, catalog_dedup({"only": "Garden Trowel"})):
        report = DedupReport(result, dict(VARIED), {}, {}, {"model": "hashing", "against": None})
        assert to_json_text(report) == json.dumps(to_json(report), indent=2, ensure_ascii=False)


def test_scores_rounded_in_bulk_are_the_floats_round_gives() -> None:
    rng = np.random.default_rng(0)
    near_halves = (rng.integers(0, 10_000, 20_000) + 0.5) / 1e4  # x * 1e4 lands on or next to a half
    neighbours = [np.nextafter(near_halves, 0), np.nextafter(near_halves, 1)]
    values = np.concatenate([rng.random(50_000), near_halves, *neighbours])
    bulk = dedup._round4(values)
    assert bulk.tolist() == [round(x, 4) for x in values.tolist()]
    assert np.count_nonzero(np.rint(values * 1e4) / 1e4 != bulk)  # the plain formula alone would differ somewhere


def test_reasons_read_back_together_or_one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    reasons = ReasonFile()
    texts = ["cosine 0.91", "größe 2 / 3 ✓", "", "x" * 300_000, "shared code ab123", "colour red / blue"]
    sizes = [len(text.encode("utf-8")) for text in texts]
    starts = [sum(sizes[:n]) for n in range(len(texts))]
    ends = [start + size for start, size in zip(starts, sizes, strict=True)]
    for text in texts:
        reasons.append(text.encode("utf-8"))
    reasons.finish()
    reads, real_pread = [], os.pread
    monkeypatch.setattr(pairs.os, "pread", lambda *args: reads.append(args) or real_pread(*args))

    def read(rows: list[int]) -> list[str]:
        reads.clear()
        return reasons.read_many([starts[n] for n in rows], [ends[n] for n in rows])

    assert read([2, 1, 0]) == [texts[2], texts[1], texts[0]] and len(reads) == 1  # a short span: one read
    assert read([5, 0]) == [texts[5], texts[0]] and len(reads) == 2  # the long reason between them: one each
    assert read([]) == []
