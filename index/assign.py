"""One-to-one assignment of a feed against a catalog.

When a supplier feed is matched against a catalog, each feed record is one product and
so is each catalog record: the best *consistent* set of matches (Hungarian algorithm
on each connected block of candidate pairs) beats taking every record's best candidate.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DENSE_LIMIT = 4_000_000  # cells of one block solved exactly; larger blocks go greedy


def one_to_one(pairs: Sequence[tuple[str, str, float]]) -> set[tuple[str, str]]:
    """The ``(a, b)`` pairs kept when each ``a`` and each ``b`` may be used once, maximising total score."""
    if not pairs:
        return set()
    # Imported here: a third of a second that only feed matching needs.
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    left = {a: i for i, a in enumerate(dict.fromkeys(a for a, _, _ in pairs))}
    right = {b: i for i, b in enumerate(dict.fromkeys(b for _, b, _ in pairs))}
    rows = np.array([left[a] for a, _, _ in pairs])
    cols = np.array([right[b] for _, b, _ in pairs]) + len(left)
    size = len(left) + len(right)
    graph = coo_matrix((np.ones(len(pairs)), (rows, cols)), shape=(size, size))
    _, labels = connected_components(graph, directed=False)
    blocks: dict[int, list[int]] = {}
    for index, label in enumerate(labels[rows]):
        blocks.setdefault(int(label), []).append(index)
    kept: set[tuple[str, str]] = set()
    for block in blocks.values():
        kept |= _solve([pairs[i] for i in block])
    return kept


def _solve(block: list[tuple[str, str, float]]) -> set[tuple[str, str]]:
    lefts = list(dict.fromkeys(a for a, _, _ in block))
    rights = list(dict.fromkeys(b for _, b, _ in block))
    if len(lefts) * len(rights) > DENSE_LIMIT:
        return _greedy(block)
    li, ri = {a: i for i, a in enumerate(lefts)}, {b: i for i, b in enumerate(rights)}
    weights = np.zeros((len(lefts), len(rights)))
    for a, b, score in block:
        weights[li[a], ri[b]] = max(weights[li[a], ri[b]], score)
    from scipy.optimize import linear_sum_assignment  # 0.7 s to import; only feed matching needs it

    rows, cols = linear_sum_assignment(weights, maximize=True)
    return {(lefts[r], rights[c]) for r, c in zip(rows, cols, strict=True) if weights[r, c] > 0}


def _greedy(block: list[tuple[str, str, float]]) -> set[tuple[str, str]]:
    used_a: set[str] = set()
    used_b: set[str] = set()
    kept = set()
    for a, b, _ in sorted(block, key=lambda p: -p[2]):
        if a not in used_a and b not in used_b:
            kept.add((a, b))
            used_a.add(a)
            used_b.add(b)
    return kept
