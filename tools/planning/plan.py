"""The launch plan: scored candidates and constraints in, launches with order quantities and reasons out.

Everything here works on scores already computed (``score.py``); reading the
workspace is ``workspace.py``'s job. A candidate left out always says why: a
duplicate, negative expected profit, out of season, no week it can make, or
capacity (launches a week, range, budget) that better candidates took.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from nextdrop.errors import NextdropError
from nextdrop.tools.planning.score import CandidateScore
from nextdrop.tools.planning.solve import Problem, Solution, solve

WAIT = 0.01  # a launch worth the same later counts 1% less per week of waiting: sales and learning come sooner


class PlanInfeasible(NextdropError):
    """Nothing can be planned under the constraints asked for; the message says which one to relax."""


@dataclass(frozen=True)
class PlanRequest:
    """What the merchant asked for; None means "what the store's cadence says"."""

    start: pd.Timestamp  # a Monday
    weeks: int = 4
    max_per_week: int | None = None
    per_range: int | None = None
    budget: float | None = None
    service_level: float = 0.8
    today: pd.Timestamp | None = None  # lead times count from here (default: the start)

    def __post_init__(self) -> None:
        if self.weeks < 1:
            raise PlanInfeasible(f"--weeks must be at least 1, not {self.weeks}")
        if not 0.0 < self.service_level < 1.0:
            raise PlanInfeasible(f"--service-level must be between 0 and 1 (e.g. 0.8), not {self.service_level}")
        if self.max_per_week is not None and self.max_per_week < 1:
            raise PlanInfeasible("--max-per-week 0 plans nothing: relax it to at least 1")
        if self.budget is not None and self.budget <= 0:
            raise PlanInfeasible(f"a stock budget of {self.budget:g} buys nothing: relax --budget")

    @property
    def week_starts(self) -> list[pd.Timestamp]:
        return [self.start + pd.Timedelta(weeks=w) for w in range(self.weeks)]


@dataclass(frozen=True)
class Launch:
    """One planned launch."""

    candidate_id: str
    title: str
    week: pd.Timestamp
    day: pd.Timestamp
    order_qty: float
    expected_units: float
    expected_revenue: float
    expected_profit: float  # of its own sales, with the newsvendor order
    score: float  # expected profit less what it takes from related items
    scored: CandidateScore = field(repr=False, compare=False)


@dataclass(frozen=True)
class Excluded:
    candidate_id: str
    title: str
    reason: str
    kind: str  # duplicate | too late | out of season | unprofitable | over budget | over capacity


@dataclass(frozen=True)
class Plan:
    """Launches by week, the candidates left out and why, and how the plan was found."""

    request: PlanRequest
    launches: tuple[Launch, ...]
    excluded: tuple[Excluded, ...]
    solver: str
    per_week: int
    per_range: int
    assumptions: tuple[str, ...] = ()

    @property
    def total_score(self) -> float:
        return float(sum(x.score for x in self.launches))

    def to_json(self) -> dict:
        """The stable shape of ``nextdrop plan --format json``."""
        return {
            "start": f"{self.request.start:%Y-%m-%d}",
            "weeks": self.request.weeks,
            "launches": [{
                "candidate_id": x.candidate_id, "title": x.title, "week": f"{x.week:%Y-%m-%d}",
                "day": f"{x.day:%Y-%m-%d}", "order_qty": x.order_qty, "expected_units": round(x.expected_units, 1),
                "expected_revenue": round(x.expected_revenue, 2), "expected_profit": round(x.expected_profit, 2),
                "score": round(x.score, 2),
            } for x in self.launches],
            "excluded": [{"candidate_id": x.candidate_id, "reason": x.reason, "kind": x.kind} for x in self.excluded],
            "solver": self.solver,
            "constraints": {"max_per_week": self.per_week, "per_range": self.per_range,
                            "budget": self.request.budget, "service_level": self.request.service_level},
            "assumptions": list(self.assumptions),
        }


def launch_day(week: pd.Timestamp, weekday: int, not_before: pd.Timestamp | None) -> pd.Timestamp | None:
    """The usual weekday in ``week``, later if ``not_before`` says so; None if that is past the week."""
    day = week + pd.Timedelta(days=weekday)
    if not_before is not None and day < not_before:
        day = max(not_before.normalize(), week)
    return day if day < week + pd.Timedelta(days=7) else None


def _not_before(s: CandidateScore, today: pd.Timestamp) -> pd.Timestamp:
    c = s.candidate
    ready = today + pd.Timedelta(days=int(c.lead_time_days or 0))
    return max(ready, c.earliest) if c.earliest is not None else ready


@dataclass(frozen=True)
class PlanProblem:
    """The solver's instance and what maps it back to candidates and days."""

    problem: Problem
    pool: list[CandidateScore]  # row i of the problem
    days: dict[tuple[int, int], pd.Timestamp]


def plan_problem(scores: list[CandidateScore], request: PlanRequest, *, per_week: int, per_range: int,
                 weekday: int = 0, duplicates: dict[str, str] | None = None,
                 ranges: list[set[str]] | None = None) -> PlanProblem:
    """The binary program for ``scores``: duplicates removed, weeks each candidate cannot make left empty."""
    duplicates = duplicates or {}
    weeks = request.week_starts
    today = request.today or request.start
    pool = [s for s in scores if s.candidate.id not in duplicates]
    value = np.full((len(pool), len(weeks)), np.nan)
    stock = np.zeros_like(value)
    days: dict[tuple[int, int], pd.Timestamp] = {}
    for i, s in enumerate(pool):
        not_before = _not_before(s, today)
        for w, week in enumerate(weeks):
            day = launch_day(week, weekday, not_before)
            if day is None:
                continue
            ws = s.at(week)
            value[i, w], stock[i, w], days[i, w] = ws.score * (1 - WAIT * w), ws.order_qty * s.cost, day
    position = {s.candidate.id: i for i, s in enumerate(pool)}
    groups = tuple(tuple(sorted(position[c] for c in r if c in position)) for r in (ranges or []))
    problem = Problem(value, stock, np.full(len(weeks), per_week), tuple(g for g in groups if len(g) > 1),
                      per_range, request.budget if request.budget is not None else float("inf"))
    return PlanProblem(problem, pool, days)


def build_plan(
    scores: list[CandidateScore],
    request: PlanRequest,
    *,
    per_week: int,
    per_range: int,
    weekday: int = 0,
    duplicates: dict[str, str] | None = None,
    ranges: list[set[str]] | None = None,
    assumptions: tuple[str, ...] = (),
) -> Plan:
    """Solve the plan over ``scores`` (each scored in ``request.week_starts``).

    ``duplicates`` maps a candidate id to why it is one (it is never planned); ``ranges`` are sets of
    candidate ids that are variants of each other (at most ``per_range`` of one in a week).
    """
    duplicates = duplicates or {}
    weeks = request.week_starts
    built = plan_problem(scores, request, per_week=per_week, per_range=per_range, weekday=weekday,
                         duplicates=duplicates, ranges=ranges)
    problem, pool = built.problem, built.pool
    solution = solve(problem)
    launches = [_launch(pool[i], weeks[w], built.days[i, w]) for i, w in enumerate(solution.week) if w >= 0]
    launches.sort(key=lambda x: (x.day, -x.score))
    excluded = [Excluded(s.candidate.id, s.candidate.title, duplicates[s.candidate.id], "duplicate")
                for s in scores if s.candidate.id in duplicates]
    excluded += [Excluded(s.candidate.id, s.candidate.title, *_reason(s, i, problem, solution, weeks))
                 for i, s in enumerate(pool) if solution.week[i] < 0]
    if not launches:
        raise PlanInfeasible(_infeasible(pool, problem, request, excluded))
    return Plan(request, tuple(launches), tuple(excluded), solution.solver, per_week, per_range, assumptions)


def _launch(s: CandidateScore, week: pd.Timestamp, day: pd.Timestamp) -> Launch:
    ws = s.at(week)
    own = ws.score - next(c.value for c in ws.components if c.name == "cannibalisation")
    return Launch(s.candidate.id, s.candidate.title, week, day, ws.order_qty, ws.expected_units,
                  ws.expected_revenue, own, ws.score, s)


def _reason(s: CandidateScore, i: int, problem: Problem, solution: Solution,
            weeks: list[pd.Timestamp]) -> tuple[str, str]:
    """Why a candidate that is not a duplicate was left out: the reason, and its kind (``Excluded.kind``)."""
    row = problem.value[i]
    if not np.isfinite(row).any():
        return (f"no week it can make: first possible launch after {weeks[-1] + pd.Timedelta(days=6):%Y-%m-%d} "
                "(earliest date or lead time)", "too late")
    best = int(np.nanargmax(row))
    if row[best] <= 0:
        unseasoned = row[best] - next(c.value for c in s.at(weeks[best]).components if c.name == "seasonal fit")
        if unseasoned > 0:
            return f"out of season: expected profit {row[best]:,.0f} in its best week", "out of season"
        return f"negative expected profit ({row[best]:,.0f} in its best week)", "unprofitable"
    if problem.stock[i, best] > problem.budget:
        return f"its order ({problem.stock[i, best]:,.0f} of stock) is more than the whole budget", "over budget"
    rows = np.nonzero(solution.week >= 0)[0]
    spent = float(np.sum(problem.stock[rows, solution.week[rows]]))
    if spent + problem.stock[i, best] > problem.budget:
        return "over budget: the stock budget went to higher-scoring launches", "over budget"
    return (f"over capacity: {int(problem.per_week[0])} launches a week (or its range's limit) went to "
            "higher-scoring candidates", "over capacity")


def _infeasible(pool: list[CandidateScore], problem: Problem, request: PlanRequest, excluded: list[Excluded]) -> str:
    """Which constraint to relax when nothing fits."""
    if not pool:
        return "every candidate duplicates the catalog or another candidate: add new candidates " \
               "(`nextdrop ingest candidates FILE`)"
    finite = np.isfinite(problem.value)
    if not finite.any():
        return (f"no candidate can launch between {request.start:%Y-%m-%d} and the end of week "
                f"{request.week_starts[-1]:%Y-%m-%d} (earliest dates and lead times): relax --week to a later "
                "start or --weeks to more weeks")
    if not problem.allowed.any():
        ratio = float(np.median([s.critical_ratio for s in pool]))
        return (f"no candidate has a positive expected profit in these weeks: at a {request.service_level:.0%} "
                "service level the unsold part of each order costs more than its sales earn (the forecasts are "
                f"uncertain); the profit-maximising level for these margins is about {ratio:.0%}: relax "
                f"--service-level to {ratio:.2f}, or try other --week dates")
    cheapest = float(np.min(problem.stock[problem.allowed]))
    return f"the stock budget ({problem.budget:,.0f}) is below the cheapest order ({cheapest:,.0f}): " \
           f"relax --budget to at least {np.ceil(cheapest):,.0f}"
