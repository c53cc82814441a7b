"""Planning without a workspace: newsvendor, the solver's constraints, scores that add up, cadence, reviews."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad
from scipy.stats import lognorm, norm

from nextdrop.tools.forecasting.newproduct import NewProduct, NewProductForecast
from nextdrop.tools.forecasting.series import Panel
from nextdrop.tools.planning.cadence import store_cadence
from nextdrop.tools.planning.newsvendor import Demand, expected_profit, order_quantity
from nextdrop.tools.planning.plan import PlanInfeasible, PlanRequest, build_plan
from nextdrop.tools.planning.review import PlannedLaunch, calibration, review_launch
from nextdrop.tools.planning.score import Candidate, Related, score_candidate
from nextdrop.tools.planning.solve import Problem, greedy, solve, violations

MONDAY = pd.Timestamp("2026-12-07")


# --- newsvendor -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("level", [0.5, 0.8, 0.95])
def test_order_quantity_is_the_lognormal_quantile(level: float) -> None:
    demand = Demand(np.log(200.0), 0.6)
    assert order_quantity(demand, level) == np.ceil(200.0 * np.exp(0.6 * norm.ppf(level)))
    assert order_quantity(demand, level, min_order=10_000) == 10_000


def test_expected_sales_and_profit_match_their_integrals() -> None:
    demand = Demand(np.log(120.0), 0.5)
    dist = lognorm(s=0.5, scale=120.0)
    for q in (50.0, 120.0, 400.0):
        integral = quad(lambda d, q=q: min(d, q) * dist.pdf(d), 0, np.inf, limit=200)[0]
        assert demand.expected_sales(q) == pytest.approx(integral, rel=1e-4)
    # at the critical ratio (price - cost) / price the newsvendor quantity maximises expected profit
    price, cost = 10.0, 4.0
    best = demand.quantile((price - cost) / price)
    grid = np.linspace(20, 600, 2000)
    profits = [expected_profit(demand, q, price, cost) for q in grid]
    assert grid[int(np.argmax(profits))] == pytest.approx(best, rel=0.01)


# --- the solver -------------------------------------------------------------------------------------------------


@st.composite
def problems(draw: st.DrawFn) -> Problem:
    n, weeks = draw(st.integers(2, 9)), draw(st.integers(1, 4))
    values = draw(st.lists(st.one_of(st.floats(-50, 500), st.just(float("nan"))), min_size=n * weeks,
                           max_size=n * weeks))
    stock = draw(st.lists(st.floats(1, 300), min_size=n * weeks, max_size=n * weeks))
    per_week = draw(st.lists(st.integers(0, 3), min_size=weeks, max_size=weeks))
    ids = list(range(n))
    ranges = draw(st.lists(st.lists(st.sampled_from(ids), min_size=2, max_size=min(4, n), unique=True), max_size=2))
    flat = [i for r in ranges for i in r]
    if len(flat) != len(set(flat)):  # a candidate belongs to one range
        ranges = ranges[:1]
    budget = draw(st.one_of(st.just(float("inf")), st.floats(50, 2000)))
    return Problem(np.array(values).reshape(n, weeks), np.array(stock).reshape(n, weeks), np.array(per_week),
                   tuple(tuple(r) for r in ranges), draw(st.integers(1, 2)), budget)


@settings(max_examples=150, deadline=None)
@given(problems())
def test_plans_respect_every_constraint_and_exact_beats_greedy(problem: Problem) -> None:
    exact, quick = solve(problem), greedy(problem)
    assert violations(problem, exact.week) == []
    assert violations(problem, quick.week) == []
    assert exact.value >= quick.value - 1e-6


def test_violations_are_seen() -> None:
    problem = Problem(np.array([[10.0, 5.0], [8.0, 1.0]]), np.ones((2, 2)), np.array([1, 1]), budget=1.5)
    assert violations(problem, np.array([0, 0])) == ["launches per week", "stock budget"]


# --- scores and the plan ------------------------------------------------------------------------------------------


def _forecast(title: str, total: float, upper: float = 0.0) -> NewProductForecast:
    periods = pd.date_range(MONDAY, periods=8, freq="7D")
    upper = upper or total * 2.5
    return NewProductForecast(NewProduct(title, MONDAY), periods, np.full(8, total / 8), total,
                              {80: total / 2.5, 95: total / 4}, {80: upper, 95: upper * 1.5}, [], 0.5, "analogs", "")


def _season(weeks: int, ratios: list[float] | None = None) -> dict:
    ratios = ratios or [1.0] * weeks
    return {MONDAY + pd.Timedelta(weeks=w): (ratios[w], "test") for w in range(weeks)}


def test_explanation_adds_up_to_the_score_and_states_the_assumed_margin() -> None:
    candidate = Candidate("C1", "Linen apron", price=20.0)
    related = (Related("P9", "Linen apron blue", 0.9, "variant"),)
    s = score_candidate(candidate, _forecast("Linen apron", 300), _season(3, [0.8, 1.0, 1.3]), related=related)
    assert s.margin_assumed and s.margin == 10.0
    for week in s.weeks:
        parts = {c.name: c.value for c in week.components}
        assert set(parts) == {"demand", "seasonal fit", "uncertainty", "cannibalisation"}
        assert sum(parts.values()) == pytest.approx(week.score)
        assert parts["uncertainty"] <= 0 and parts["cannibalisation"] < 0
    assert s.weeks[2].score > s.weeks[1].score > s.weeks[0].score  # a better season scores higher
    with_cost = score_candidate(Candidate("C1", "Linen apron", price=20.0, cost=12.0), _forecast("x", 300), _season(1))
    assert not with_cost.margin_assumed and with_cost.margin == 8.0


def _scores(n: int, weeks: int, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    return [score_candidate(Candidate(f"C{i}", f"Item {i}", price=float(rng.uniform(5, 30)), cost=None),
                            _forecast(f"Item {i}", float(rng.uniform(20, 500))), _season(weeks)) for i in range(n)]


def test_a_duplicate_is_never_planned_and_left_out_with_its_reason() -> None:
    scores = _scores(6, 2)
    best = max(scores, key=lambda s: s.best.score).candidate.id
    plan = build_plan(scores, PlanRequest(MONDAY, weeks=2), per_week=3, per_range=1,
                      duplicates={best: "duplicate of SKU P1 (Linen apron; exact, 1.00)"})
    assert best not in {x.candidate_id for x in plan.launches}
    assert {x.candidate_id: x.reason for x in plan.excluded}[best].startswith("duplicate of SKU P1")
    shape = plan.to_json()
    assert set(shape) >= {"start", "weeks", "launches", "excluded", "solver"}
    assert set(shape["launches"][0]) >= {"candidate_id", "title", "week", "day", "order_qty", "expected_units",
                                         "expected_revenue", "expected_profit", "score"}


def test_left_out_candidates_say_why() -> None:
    scores = _scores(5, 1)
    late = Candidate("LATE", "Late item", price=10.0, earliest=MONDAY + pd.Timedelta(weeks=10))
    scores.append(score_candidate(late, _forecast("Late", 100), _season(1)))
    plan = build_plan(scores, PlanRequest(MONDAY, weeks=1), per_week=2, per_range=1)
    reasons = {x.candidate_id: x.reason for x in plan.excluded}
    assert reasons["LATE"].startswith("no week it can make")
    assert sum(r.startswith("over capacity") for r in reasons.values()) == 3
    assert len(plan.launches) == 2


def test_an_infeasible_request_names_the_constraint_to_relax() -> None:
    scores = _scores(4, 2)
    with pytest.raises(PlanInfeasible, match="relax --budget to at least"):
        build_plan(scores, PlanRequest(MONDAY, weeks=2, budget=1.0), per_week=2, per_range=1)
    late = [score_candidate(Candidate("L", "Late", price=10.0, lead_time_days=60), _forecast("L", 100), _season(2))]
    with pytest.raises(PlanInfeasible, match="relax --week"):
        build_plan(late, PlanRequest(MONDAY, weeks=2), per_week=2, per_range=1)
    losing = [score_candidate(Candidate("X", "X", price=10.0, cost=9.9), _forecast("X", 100, 5000), _season(1))]
    with pytest.raises(PlanInfeasible, match=r"relax --service-level to 0\.01"):
        build_plan(losing, PlanRequest(MONDAY, weeks=1), per_week=2, per_range=1)
    with pytest.raises(PlanInfeasible, match="--max-per-week"):
        PlanRequest(MONDAY, max_per_week=0)


def test_a_range_launches_no_more_than_allowed_in_one_week() -> None:
    scores = _scores(4, 1)
    plan = build_plan(scores, PlanRequest(MONDAY, weeks=1), per_week=4, per_range=1, ranges=[{"C0", "C1", "C2"}])
    assert len({x.candidate_id for x in plan.launches} & {"C0", "C1", "C2"}) == 1


def test_launch_day_follows_the_usual_weekday_and_the_earliest_date() -> None:
    early = Candidate("E", "E", price=10.0, earliest=MONDAY + pd.Timedelta(days=3))
    scores = [score_candidate(early, _forecast("E", 100), _season(1))]
    plan = build_plan(scores, PlanRequest(MONDAY, weeks=1), per_week=1, per_range=1, weekday=1)
    assert plan.launches[0].day == MONDAY + pd.Timedelta(days=3)
    plan = build_plan(_scores(1, 1), PlanRequest(MONDAY, weeks=1), per_week=1, per_range=1, weekday=1)
    assert plan.launches[0].day == MONDAY + pd.Timedelta(days=1)


# --- cadence ----------------------------------------------------------------------------------------------------


def test_cadence_recovers_a_planted_rhythm_and_weekday() -> None:
    """Two launches every week, three every fourth week, all on Thursdays."""
    periods = pd.date_range("2024-01-01", periods=80, freq="7D")
    firsts, dates = [], []
    for week in range(20, 80):
        for _ in range(3 if week % 4 == 0 else 2):
            firsts.append(week)
            dates.append(periods[week] + pd.Timedelta(days=3))
    n, T = len(firsts), len(periods)
    values = np.zeros((n, T))
    for i, f in enumerate(firsts):
        values[i, f:] = 5.0
    panel = Panel(np.array([f"P{i}" for i in range(n)]), periods, values, np.array(firsts))
    cadence = store_cadence(panel, pd.Series(dates))
    assert cadence.usual_weekday == 3
    assert cadence.weekdays["Thu"] == n
    assert cadence.per_week.iloc[-52:].mean() == pytest.approx(2.25, abs=0.05)
    assert cadence.per_week_default == 3
    assert cadence.per_week.loc[periods[20]] == 3 and cadence.per_week.loc[periods[21]] == 2


# --- reviews ----------------------------------------------------------------------------------------------------


def test_review_flags_a_planted_under_performer_and_calibrates() -> None:
    curve = tuple([25.0] * 8)
    launches = [PlannedLaunch(f"C{i}", f"Item {i}", MONDAY, "Mugs", curve, 0.5) for i in range(6)]
    rng = np.random.default_rng(1)
    sold = [rng.normal(25, 2, size=4).clip(0) for _ in range(5)] + [np.full(4, 4.0)]  # C5 sells a sixth
    reviews = [review_launch(launch, launch.candidate_id, weekly) for launch, weekly in zip(launches, sold,
                                                                                           strict=True)]
    flags = {r.launch.candidate_id: r.flag for r in reviews}
    assert flags["C5"] == "below"
    assert all(flags[f"C{i}"] == "on track" for i in range(5))
    cal = calibration(reviews)
    assert cal.launches == 6 and cal.store < 1.0 and cal.factor("Mugs") == cal.categories["Mugs"]
    assert review_launch(launches[0], None, np.zeros(0)).flag == "not on sale yet"
