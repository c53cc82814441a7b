"""Pairs into groups a merchant would merge, without letting variants chain together.

Plain connected components chain "red mug ~ mug ~ blue mug" into one group. Here the
duplicate edges are merged strongest first, and a merge is refused when any member of
one group is known to be a different product from a member of the other (a variant, or
a competing product of the same range): a cannot-link constraint.
"""

from __future__ import annotations

from collections.abc import Iterable


def group_pairs(duplicates: Iterable[tuple[str, str, float]], apart: Iterable[tuple[str, str]]) -> list[list[str]]:
    """Groups (each of two or more ids, sorted) from ``(a, b, score)`` duplicate edges.

    Groups come back largest first, then by their first id, so numbering is stable.
    """
    parent: dict[str, str] = {}
    members: dict[str, set[str]] = {}
    cannot: dict[str, set[str]] = {}
    for a, b in apart:
        cannot.setdefault(a, set()).add(b)
        cannot.setdefault(b, set()).add(a)

    def find(x: str) -> str:
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:
            parent[x], x = root, parent[x]
        return root

    for a, b, _ in sorted(duplicates, key=lambda edge: (-edge[2], edge[0], edge[1])):
        ra, rb = find(a), find(b)
        if ra == rb:
            continue
        group_a, group_b = members.get(ra, {ra}), members.get(rb, {rb})
        if any(cannot.get(x, set()) & group_b for x in group_a):
            continue
        if len(group_a) < len(group_b):
            ra, rb, group_a, group_b = rb, ra, group_b, group_a
        parent[rb] = ra
        members[ra] = group_a | group_b
        members.pop(rb, None)
    groups = [sorted(g) for g in members.values()]
    return sorted(groups, key=lambda g: (-len(g), g[0]))
