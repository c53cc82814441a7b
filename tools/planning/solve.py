"""Which candidate launches in which week: an assignment that maximises expected profit under constraints.

The problem is a small binary program: ``x[i, w] = 1`` when candidate ``i``
launches in week ``w``. Each candidate launches at most once, only in weeks it
can make (earliest date, lead time), at most ``per_week`` launches a week, at
most ``per_range`` of one range a week, and the stock bought stays within the
budget. scipy's MILP (HiGHS) solves it exactly at realistic sizes; past its
time limit the plan says so and a greedy plan stands in if it is better.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

TIME_LIMIT = 4.0  # seconds for the exact solver before it hands back its best plan
GAP = 1e-3  # the solver stops once its plan is proven within 0.1% of the best possible


@dataclass(frozen=True)
class Problem:
    """An instance: values and stock costs per (candidate, week); NaN value = that week is not possible."""

    value: np.ndarray  # (n, W) expected profit; NaN where the candidate cannot launch
    stock: np.ndarray  # (n, W) cost of the order placed for a launch in that week
    per_week: np.ndarray  # (W,) launches allowed each week
    ranges: tuple[tuple[int, ...], ...] = ()  # candidates of one range (variants of each other)
    per_range: int = 1_000_000
    budget: float = float("inf")

    @property
    def allowed(self) -> np.ndarray:
        """Where a launch is possible and worth something."""
        return np.isfinite(self.value) & (np.nan_to_num(self.value, nan=0.0) > 0)


@dataclass(frozen=True)
class Solution:
    """Chosen week per candidate (-1: not launched), its value, and how it was found."""

    week: np.ndarray
    value: float
    solver: str  # what found it, said plainly: "exact (MILP, optimal within 0.1%)", "greedy (fallback: ...)"
    optimal: bool


def evaluate(problem: Problem, week: np.ndarray) -> float:
    rows = np.nonzero(week >= 0)[0]
    return float(np.sum(problem.value[rows, week[rows]]))


def violations(problem: Problem, week: np.ndarray) -> list[str]:
    """The constraints an assignment breaks (empty: it is a valid plan)."""
    rows = np.nonzero(week >= 0)[0]
    out = []
    if not problem.allowed[rows, week[rows]].all():
        out.append("a launch in a week it cannot make or with no profit")
    counts = np.bincount(week[rows], minlength=len(problem.per_week))
    if np.any(counts > problem.per_week):
        out.append("launches per week")
    if np.sum(problem.stock[rows, week[rows]]) > problem.budget * (1 + 1e-9) + 1e-6:
        out.append("stock budget")
    for members in problem.ranges:
        chosen = week[list(members)]
        if np.bincount(chosen[chosen >= 0], minlength=1).max(initial=0) > problem.per_range:
            out.append("launches of one range per week")
            break
    return out


def greedy(problem: Problem) -> Solution:
    """Best value first, each launch kept if it still fits: the reference the exact plan must beat."""
    n, weeks = problem.value.shape
    week = np.full(n, -1)
    used = np.zeros(weeks, dtype=int)
    range_of = {i: r for r, members in enumerate(problem.ranges) for i in members}
    range_used: dict[tuple[int, int], int] = {}
    spent = 0.0
    cells = np.argwhere(problem.allowed)
    order = np.argsort(-problem.value[cells[:, 0], cells[:, 1]], kind="stable")
    for i, w in cells[order]:
        key = (range_of.get(int(i), -1 - int(i)), int(w))
        if (week[i] >= 0 or used[w] >= problem.per_week[w] or range_used.get(key, 0) >= problem.per_range
                or spent + problem.stock[i, w] > problem.budget):
            continue
        week[i], used[w], spent = w, used[w] + 1, spent + problem.stock[i, w]
        range_used[key] = range_used.get(key, 0) + 1
    return Solution(week, evaluate(problem, week), "greedy", False)


def solve(problem: Problem, time_limit: float = TIME_LIMIT) -> Solution:
    """The exact plan (MILP); the greedy one when the solver fails or stops with something worse."""
    n, weeks = problem.value.shape
    cells = np.argwhere(problem.allowed)
    fallback = greedy(problem)
    if len(cells) == 0:
        return Solution(fallback.week, 0.0, "exact (nothing to plan)", True)
    m = len(cells)
    rows, cols, upper = [], [], []

    def add(members: np.ndarray, limit: float) -> None:
        rows.extend([len(upper)] * len(members))
        cols.extend(members.tolist())
        upper.append(limit)

    for i in np.unique(cells[:, 0]):
        add(np.nonzero(cells[:, 0] == i)[0], 1)
    for w in range(weeks):
        add(np.nonzero(cells[:, 1] == w)[0], problem.per_week[w])
    in_range = np.zeros(n, dtype=int) - 1
    for r, members in enumerate(problem.ranges):
        in_range[list(members)] = r
    for r in range(len(problem.ranges)):
        for w in range(weeks):
            members = np.nonzero((in_range[cells[:, 0]] == r) & (cells[:, 1] == w))[0]
            if len(members) > problem.per_range:
                add(members, problem.per_range)
    matrix = coo_array((np.ones(len(rows)), (rows, cols)), shape=(len(upper), m)).tocsr()
    constraints = [LinearConstraint(matrix, -np.inf, np.array(upper, dtype=float))]
    if np.isfinite(problem.budget):
        constraints.append(LinearConstraint(problem.stock[cells[:, 0], cells[:, 1]][None, :], -np.inf, problem.budget))
    result = milp(-problem.value[cells[:, 0], cells[:, 1]], constraints=constraints, integrality=np.ones(m),
                  bounds=Bounds(0, 1), options={"time_limit": time_limit, "mip_rel_gap": GAP})
    if result.x is None:
        return Solution(fallback.week, fallback.value, f"greedy (fallback: the exact solver {result.message})", False)
    week = np.full(n, -1)
    chosen = cells[result.x > 0.5]
    week[chosen[:, 0]] = chosen[:, 1]
    exact = Solution(week, evaluate(problem, week), f"exact (MILP, optimal within {GAP:.1%})", result.status == 0)
    if exact.optimal and exact.value >= fallback.value:
        return exact
    if exact.optimal:
        return Solution(fallback.week, fallback.value, f"greedy (better than the MILP's plan, which is proven within "
                                                       f"{GAP:.1%} of the best)", True)
    if fallback.value > exact.value:
        return Solution(fallback.week, fallback.value, f"greedy (fallback: the exact solver stopped at its "
                                                       f"{time_limit:.0f} s limit with a worse plan)", False)
    return Solution(week, exact.value, f"exact (MILP stopped at its {time_limit:.0f} s limit: best found, "
                                       "not proven optimal)", False)
