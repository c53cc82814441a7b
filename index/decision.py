"""The learned cross-source pair decision: a logistic regression over cheap ``Evidence`` features.

Across sources (a feed against a catalog, two shops) the hand-set score calls nearly every
same-brand, same-line pair a match. A logistic regression fitted on WDC computers
train + valid (never its test pairs) did better on WDC test and on Abt-Buy's hard
negatives and as well on Abt-Buy's one-to-one matching (``bench/match_transfer.py``,
figures in docs/benchmarks/matching.md). Its coefficients ship as ``decision.json``;
without that file the hand-set score decides. Inside one catalog the hand-set rules stay:
the model was not better there.

Applied in numpy over columns, so mining a million pairs costs one matrix product.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from nextdrop.index.scoring import Evidence

DECISION_FILE = Path(__file__).with_name("decision.json")
FEATURES = (
    "cosine", "jaccard", "token_set", "shared_code", "code_conflict", "attribute_conflicts", "attribute_extra",
    "series_conflicts", "codes_apart", "competing", "one_slot", "axis_words",
)


def columns(found: Sequence[Evidence]) -> np.ndarray:
    """One row per pair, ``FEATURES`` in order."""
    return np.array(
        [
            (e.cosine, e.jaccard, e.token_set, e.shared_code is not None, e.code_conflict is not None,
             len(e.attribute_conflicts), len(e.attribute_extra), len(e.series_conflicts), e.codes_apart is not None,
             e.competing, e.one_slot, bool(e.axis_words))
            for e in found
        ],
        dtype=np.float64,
    ).reshape(len(found), len(FEATURES))


def interactions(x: np.ndarray) -> np.ndarray:
    """``x`` with three products appended: cosine × shared code, cosine × code conflict, jaccard × token set."""
    cos, shared, conflict = x[:, 0:1], x[:, 3:4], x[:, 4:5]
    return np.hstack([x, cos * shared, cos * conflict, x[:, 1:2] * x[:, 2:3]])


@functools.cache
def load(path: Path = DECISION_FILE) -> dict | None:
    """The shipped coefficients, or None when the file is missing (the hand-set score decides)."""
    if not path.exists():
        return None
    found = json.loads(path.read_text(encoding="utf-8"))
    if tuple(found["features"]) != FEATURES:
        raise ValueError(f"{path}: features {found['features']} do not match this version's {FEATURES}")
    return found


def probability(x: np.ndarray, model: dict) -> np.ndarray:
    """Match probability of each row of ``columns`` output."""
    logit = interactions(x) @ np.asarray(model["coef"]) + model["intercept"]
    return 1.0 / (1.0 + np.exp(-logit))


def cutoff(model: dict, threshold: float) -> float:
    """The probability a match needs at ``threshold``: the fitted cut at the default, moved as much as it moves."""
    return float(model["cutoff"]) + (threshold - float(model["default_threshold"]))


def match_probability(found: Sequence[Evidence]) -> np.ndarray | None:
    """Each pair's match probability under the shipped decision, or None when none ships."""
    model = load()
    return None if model is None else probability(columns(found), model)
