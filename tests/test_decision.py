"""The learned cross-source pair decision: shipped in the package, sensible on hand-made pairs, same in bulk."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nextdrop.index import decision
from nextdrop.index.embedder import HashingEmbedder
from nextdrop.index.mining import Records, mine_across, mine_within
from nextdrop.index.scoring import KINDS, classify, evidence
from nextdrop.index.text import TextFeatures
from nextdrop.index.vectors import VectorIndex

EMBEDDER = HashingEmbedder()


def kind_across(a: str, b: str) -> str | None:
    va, vb = EMBEDDER.encode([a, b])
    return evidence(TextFeatures(a), TextFeatures(b), float(va @ vb)).kind(0.6, same_source=False)


def test_the_decision_ships_inside_the_package() -> None:
    assert decision.DECISION_FILE.parent == Path(decision.__file__).parent
    model = decision.load()
    assert model is not None and "WDC" in model["fitted_on"] and "test" in model["fitted_on"]
    assert len(model["coef"]) == len(decision.FEATURES) + len(model["interactions"])
    assert decision.load(Path("missing/decision.json")) is None


def test_a_shared_model_code_across_sources_is_a_match() -> None:
    assert kind_across("Samsung 850 EVO 500GB SSD MZ-75E500B", "MZ-75E500B/AM Samsung SSD 850 EVO 2.5in") in (
        "near_duplicate", "exact")


def test_a_conflicting_capacity_or_model_code_is_not_a_match() -> None:
    merge = ("near_duplicate", "exact")
    assert kind_across("Samsung 850 EVO 500GB SSD", "Samsung 850 EVO 250GB SSD") not in merge
    assert kind_across("Kingston 8GB DDR3 memory", "Kingston 16GB DDR3 memory") not in merge
    assert kind_across("Panasonic KX-TSC14W phone", "Panasonic KX-TS208W phone") not in merge  # hand-set: a match


def test_without_the_file_the_hand_set_rule_decides() -> None:
    base, flags = np.array([0.7, 0.5]), np.zeros(2, dtype=np.uint8)
    hand_set = classify(base, flags, 0.6, same_source=False)
    assert hand_set.tolist() == [KINDS.index("near_duplicate"), KINDS.index("similar")]
    unknown = np.full(2, np.nan)  # no probability worked out: the hand-set rule
    assert classify(base, flags, 0.6, False, unknown).tolist() == hand_set.tolist()
    learned = classify(base, flags, 0.6, False, np.array([0.1, 0.99]))  # the probability decides, not the base
    assert learned.tolist() == [KINDS.index("similar"), KINDS.index("near_duplicate")]
    assert classify(base, flags, 0.6, True, np.array([0.1, 0.99])).tolist() == hand_set.tolist()  # not in one source


def test_mining_across_sources_decides_as_each_pair_does() -> None:
    feed_titles = {
        "f1": "Samsung 850 EVO 500GB SSD MZ-75E500B",
        "f2": "Samsung 850 EVO 250GB SSD",
        "f3": "Sony KDL40V4100 LCD TV 40in",
        "f4": "Canon PowerShot G10 camera",
        "f5": "Kingston 8GB DDR3 1600 memory",
    }
    catalog_titles = {
        "c1": "MZ-75E500B/AM Samsung SSD 850 EVO 2.5in",
        "c2": "Samsung 850 EVO 500GB SSD",
        "c3": "Sony Bravia KDL-40V4100 40 inch LCD TV",
        "c4": "Canon PowerShot SD990IS camera",
        "c5": "Kingston 8GB DDR3 1333 memory",
    }
    feed = Records(list(feed_titles), list(feed_titles.values()), EMBEDDER.encode(list(feed_titles.values())))
    texts = list(catalog_titles.values())
    catalog = Records(list(catalog_titles), texts, EMBEDDER.encode(texts))
    index = VectorIndex(EMBEDDER.dim)
    index.add(catalog.ids, catalog.vectors)
    mined = mine_across(feed, catalog, index, threshold=0.6, k=len(catalog))
    assert mined.match is not None and not np.isnan(mined.match).any()
    bulk = [KINDS[c] if c >= 0 else None for c in mined.kinds(0.6, same_source=False).tolist()]
    per_pair = [kind_across(feed_titles[p.a], catalog_titles[p.b]) for p in mined]
    assert len(per_pair) >= 5 and bulk == per_pair
    assert "near_duplicate" in bulk and len(set(bulk)) > 1


def test_mining_inside_one_catalog_keeps_no_probability_column() -> None:
    titles = ["Samsung 850 EVO 500GB SSD", "Samsung 850 EVO 250GB SSD", "Samsung SSD 850 EVO 500GB"]
    recs = Records(["a", "b", "c"], titles, EMBEDDER.encode(titles))
    index = VectorIndex(EMBEDDER.dim)
    index.add(recs.ids, recs.vectors)
    mined = mine_within(recs, index, threshold=0.6, k=3)
    assert len(mined) > 0 and mined.match is None  # the hand-set rules decide there; no memory spent on it
