"""Planning over a workspace: read candidates, forecasts, duplicates and history; store plans and reviews.

The public entries the CLI and the agent call: ``plan_request`` and ``plan_launches``,
``explain_candidate``, ``workspace_cadence``, ``review_launches``. ``nextdrop plan`` stores
its plans as JSON under ``.nextdrop/plans/`` (``store_plan``) and ``nextdrop review`` the
calibration in ``.nextdrop/calibration.json``, both atomically; the agent only reads.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from nextdrop.errors import InputError
from nextdrop.index.dedup import DedupResult
from nextdrop.index.embedder import Embedder
from nextdrop.index.mining import Records, mine_within
from nextdrop.index.vectors import VectorIndex
from nextdrop.store.cache import read_cached, write_cached
from nextdrop.store.files import atomic_write
from nextdrop.store.workspace import Workspace
from nextdrop.tools.dedup.workspace import run_dedup
from nextdrop.tools.forecasting.newproduct import (
    NewProduct,
    NewProductForecast,
    StoreHistory,
    forecast_new_products,
    seasonal_index,
)
from nextdrop.tools.forecasting.workspace import read_panel, store_history
from nextdrop.tools.planning.cadence import Cadence, store_cadence
from nextdrop.tools.planning.plan import Plan, PlanRequest, build_plan
from nextdrop.tools.planning.review import Calibration, LaunchReview, PlannedLaunch, calibration, review_launch
from nextdrop.tools.planning.score import Candidate, CandidateScore, Related, score_candidate
from nextdrop.tools.planning.seasonal import SeasonalAnalogs, week_fits

DEFAULT_MARGIN = 0.5  # share of the price kept when a candidate has no cost
FORECAST_CACHE = "candidate-forecasts-v1"


@dataclass(frozen=True)
class Review:
    """Launches reviewed since a date and the calibration they gave."""

    since: pd.Timestamp
    launches: tuple[LaunchReview, ...]
    calibration: Calibration
    data_end: pd.Timestamp | None


def read_candidates(ws: Workspace) -> list[Candidate]:
    """The candidates table; none is an error that says how to add them."""
    with ws.read() as con:
        rows = con.execute("""SELECT candidate_id, title, price, cost, category, earliest_date, lead_time_days,
                                     min_order_qty FROM candidates ORDER BY candidate_id""").fetchall()
    if not rows:
        raise InputError("the workspace has no candidates to plan: add a file of products you could launch with "
                         "`nextdrop ingest candidates FILE` (columns candidate_id, title, price; cost, "
                         "earliest_date, lead_time_days, min_order_qty optional)")
    missing = [r[0] for r in rows if r[2] is None or not r[2] > 0]
    if missing:
        raise InputError(f"candidates without a price cannot be scored: {', '.join(missing[:8])}; add a price column "
                         "to the candidates file and ingest it again")
    return [Candidate(str(r[0]), r[1], float(r[2]), float(r[3]) if r[3] is not None else None, r[4] or None,
                      pd.Timestamp(r[5]) if r[5] is not None else None, int(r[6] or 0), float(r[7] or 0.0))
            for r in rows]


def season_ratios(history: StoreHistory, base: pd.Timestamp, weeks: list[pd.Timestamp]) -> dict[pd.Timestamp, float]:
    """Store seasonal index of each week's launch window against the window of ``base`` (the forecast's week)."""
    panel = history.panel
    season = panel.season_length
    index = seasonal_index(history.store_total, season, panel.values.shape[1])

    def window(when: pd.Timestamp) -> float:
        position = (when - panel.periods[0]).days // 7
        return float(np.mean(index[(np.arange(position, position + history.weeks)) % season]))

    reference = window(base)
    return {w: window(w) / reference for w in weeks}


def _relations(ws: Workspace, embedder: Embedder, candidates: list[Candidate]
               ) -> tuple[dict[str, list[Related]], dict[str, list[Related]], dict[str, set[str]]]:
    """Per candidate: catalog items it duplicates, other related items, and candidate pairs (for ranges)."""
    report = run_dedup(ws, candidates=True, embedder=embedder)
    dupes: dict[str, list[Related]] = {}
    related: dict[str, list[Related]] = {}
    via: dict[str, set[str]] = {}  # catalog product -> candidates that are its variants
    for p in report.result.pairs:
        item = Related(p.b, report.titles.get(p.b, p.b), float(p.score), p.kind)
        (dupes if p.is_duplicate else related).setdefault(p.a, []).append(item)
        if p.kind == "variant":
            via.setdefault(p.b, set()).add(p.a)
    within = _candidate_pairs(ws, embedder, candidates)
    links: dict[str, set[str]] = {}
    for p in within.pairs:
        if p.is_duplicate:
            dupes.setdefault(p.b, []).append(Related(p.a, report.titles.get(p.a, p.a), float(p.score), p.kind))
        elif p.kind == "variant":
            links.setdefault(p.a, set()).add(p.b)
            links.setdefault(p.b, set()).add(p.a)
    for members in via.values():
        for c in members:
            links.setdefault(c, set()).update(members - {c})
    return dupes, related, links


def _candidate_pairs(ws: Workspace, embedder: Embedder, candidates: list[Candidate]) -> DedupResult:
    """Duplicate and variant pairs among the candidates themselves."""
    ids, texts = [c.id for c in candidates], [c.title for c in candidates]
    vectors = np.asarray(embedder.encode(texts), dtype=np.float32)
    index = VectorIndex(vectors.shape[1], "flat")
    index.add(ids, vectors)
    threshold = ws.settings.index.threshold
    return DedupResult.build("catalog", len(ids), mine_within(Records(ids, texts, vectors), index,
                                                               threshold=threshold), threshold)


def _ranges(links: dict[str, set[str]]) -> list[set[str]]:
    """Connected candidates (variants of each other or of one catalog item) form a range."""
    seen: set[str] = set()
    out = []
    for start in links:
        if start in seen:
            continue
        stack, group = [start], set()
        while stack:
            c = stack.pop()
            if c not in group:
                group.add(c)
                stack.extend(links.get(c, ()))
        seen |= group
        out.append(group)
    return [g for g in out if len(g) > 1]


def _forecasts(ws: Workspace, embedder: Embedder, candidates: list[Candidate], horizon: int
               ) -> tuple[StoreHistory, list[NewProductForecast]]:
    """The store history and each candidate's launch forecast (at the first period after the sales).

    Cached in ``.nextdrop/cache/candidate_forecasts.pkl`` under a fingerprint of the sales, the products,
    the candidates, the horizon and the embedding model: fitting the launch model is most of a plan's time.
    """
    with ws.read() as con:
        facts = con.execute("""SELECT (SELECT count(*) FROM sales), (SELECT sum(quantity) FROM sales),
                                      (SELECT max(date) FROM sales), (SELECT count(*) FROM products),
                                      (SELECT max(ingest_id) FROM ingests)""").fetchone()
    text = f"{FORECAST_CACHE}|{facts}|{[(c.id, c.title, c.category, c.price) for c in candidates]}|{horizon}|" \
           f"{getattr(embedder, 'fingerprint', type(embedder).__name__)}|{ws.settings.forecast.bucket}"
    key = hashlib.sha256(text.encode()).hexdigest()[:16]
    path = ws.dir / "cache" / "candidate_forecasts.pkl"
    if (cached := read_cached(path, key)) is not None:
        return cached["history"], cached["forecasts"]
    history = store_history(ws, embedder, horizon)
    base = history.panel.future_periods(1)[0]
    products = [NewProduct(c.title, base, c.category, c.price, c.id) for c in candidates]
    forecasts = forecast_new_products(products, history, embedder)
    write_cached(path, key, history=history, forecasts=forecasts)
    return history, forecasts


def _weekly_revenue(ws: Workspace) -> pd.DataFrame:
    """Revenue per product and week as ``date, product_id, quantity, unit_price`` lines (price 1)."""
    with ws.read() as con:
        frame = con.execute("""SELECT date_trunc('week', date)::TIMESTAMP AS date, product_id,
                                      sum(quantity * coalesce(unit_price, 0)) AS quantity, 1.0 AS unit_price
                               FROM sales WHERE NOT is_return GROUP BY ALL""").df()
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def load_calibration(ws: Workspace) -> Calibration:
    path = ws.dir / "calibration.json"
    return Calibration.from_json(json.loads(path.read_text())) if path.exists() else Calibration()


def _launch_dates(ws: Workspace, panel_ids: np.ndarray) -> pd.Series:
    """Each series' launch: the product's launch date if known, else its first sale."""
    with ws.read() as con:
        frame = con.execute("""SELECT s.product_id, coalesce(min(p.launch_date)::TIMESTAMP, min(s.date)) AS launch
                               FROM sales s LEFT JOIN products p USING (product_id) GROUP BY 1""").df()
    return frame.set_index("product_id")["launch"].reindex(panel_ids)


def workspace_cadence(ws: Workspace, history: StoreHistory | None = None) -> Cadence:
    """The store's launch rhythm (``history`` adds ranges, from its title vectors)."""
    panel = history.panel if history is not None else read_panel(ws)
    return store_cadence(panel, _launch_dates(ws, panel.ids), history.vectors if history is not None else None)


@dataclass(frozen=True)
class Scored:
    """Scores of every candidate plus the evidence the plan needs from the workspace."""

    scores: list[CandidateScore]
    duplicates: dict[str, str]
    ranges: list[set[str]]
    cadence: Cadence
    assumptions: tuple[str, ...]


def score_workspace(ws: Workspace, embedder: Embedder, weeks: list[pd.Timestamp],
                    service_level: float = 0.8) -> Scored:
    """Forecast, relate and score every candidate for each of ``weeks``."""
    candidates = read_candidates(ws)
    horizon = ws.settings.forecast.horizon
    history, forecasts = _forecasts(ws, embedder, candidates, horizon)
    base = history.panel.future_periods(1)[0]
    dupes, related, links = _relations(ws, embedder, candidates)
    calib = load_calibration(ws)
    store_season = season_ratios(history, base, weeks)
    analogs = SeasonalAnalogs.from_sales(history.panel, _weekly_revenue(ws), history.vectors)
    vectors = np.asarray(embedder.encode([c.title for c in candidates]), dtype=np.float32)
    nearest = (vectors @ history.vectors.T).max(axis=1) if len(history.vectors) else np.zeros(len(candidates))
    scores = []
    for c, f, vec, near in zip(candidates, forecasts, vectors, nearest, strict=True):
        fits = week_fits(analogs, vec, f.total, c.price, weeks, horizon, store_season, history.titles)
        scores.append(score_candidate(c, f, fits, related=tuple(related.get(c.id, ())), novelty=float(1 - near),
                                      calibration=calib.factor(c.category), default_margin=DEFAULT_MARGIN,
                                      service_level=service_level))
    duplicates = _duplicate_reasons(scores, dupes)
    assumed = sum(s.margin_assumed for s in scores)
    notes = [f"{assumed} candidate(s) have no cost: a {DEFAULT_MARGIN:.0%} margin is assumed"] if assumed else []
    if calib.launches:
        notes.append(f"forecasts calibrated ×{calib.store:.2f} from {calib.launches} reviewed launch(es)")
    return Scored(scores, duplicates, _ranges(links), workspace_cadence(ws, history), tuple(notes))


def _duplicate_reasons(scores: list[CandidateScore], dupes: dict[str, list[Related]]) -> dict[str, str]:
    """Why each duplicate is out: of a catalog item, or of a candidate that scores higher."""
    best = {s.candidate.id: s.best.score for s in scores}
    out = {}
    for cid, items in dupes.items():
        catalog = [r for r in items if r.id not in best]
        if catalog:
            r = max(catalog, key=lambda r: r.similarity)
            out[cid] = f"duplicate of SKU {r.id} ({r.title}; {r.kind}, {r.similarity:.2f})"
            continue
        better = [r for r in items if best[r.id] > best[cid] or (best[r.id] == best[cid] and r.id < cid)]
        if better:
            r = better[0]
            out[cid] = f"duplicate of candidate {r.id} ({r.title}; {r.kind}, {r.similarity:.2f}), which scores higher"
    return out


def plan_request(ws: Workspace, week: date | None = None, weeks: int = 4, max_per_week: int | None = None,
                 budget: float | None = None, service_level: float = 0.8) -> PlanRequest:
    """The merchant's request on this store: from the Monday of ``week``, by default the week after the
    store's today (``Workspace.today``, the day after its last sale). Lead times count from the store's
    today, or from the start when that is earlier (planning a week of a historical export)."""
    today = min(pd.Timestamp(ws.today()), pd.Timestamp.now().normalize())
    day = pd.Timestamp(week) if week is not None else today + pd.Timedelta(weeks=1)
    start = day.normalize() - pd.Timedelta(days=day.weekday())
    return PlanRequest(start, weeks, max_per_week, None, budget, service_level, today=min(today, start))


def plan_launches(ws: Workspace, embedder: Embedder, request: PlanRequest) -> Plan:
    """The launch plan of the workspace's candidates; stored under ``.nextdrop/plans/``."""
    scored = score_workspace(ws, embedder, request.week_starts, request.service_level)
    per_week = request.max_per_week or scored.cadence.per_week_default
    per_range = request.per_range or scored.cadence.per_range_default
    plan = build_plan(scored.scores, request, per_week=per_week, per_range=per_range,
                      weekday=scored.cadence.usual_weekday, duplicates=scored.duplicates, ranges=scored.ranges,
                      assumptions=scored.assumptions)
    return plan


def explain_candidate(ws: Workspace, embedder: Embedder, candidate_id: str, week: pd.Timestamp,
                      weeks: int = 4) -> tuple[CandidateScore, str | None]:
    """A candidate's score breakdown over ``weeks`` weeks from ``week``, and why it is a duplicate if it is one."""
    scored = score_workspace(ws, embedder, [week + pd.Timedelta(weeks=w) for w in range(weeks)])
    for s in scored.scores:
        if s.candidate.id == candidate_id:
            return s, scored.duplicates.get(candidate_id)
    ids = ", ".join(s.candidate.id for s in scored.scores[:8])
    raise InputError(f"no candidate {candidate_id!r}; the candidates are {ids}"
                     + (f", ... ({len(scored.scores)} in all)" if len(scored.scores) > 8 else ""))


def store_plan(ws: Workspace, plan: Plan) -> None:
    """Keep the plan with each launch's forecast curve, for the launch reviews."""
    data = plan.to_json()
    for entry, launch in zip(data["launches"], plan.launches, strict=True):
        s = launch.scored
        ratio = launch.expected_units / max(s.forecast.mean.sum(), 1e-9)
        entry["curve"] = [float(x) * ratio for x in s.forecast.mean]
        entry["sigma"] = float(np.log(max(s.forecast.upper[80], 1e-6) / max(s.forecast.total, 1e-6)) / 1.2816)
        entry["category"] = s.candidate.category
    stamp = pd.Timestamp.now().strftime("%Y%m%dT%H%M%S%f")
    atomic_write(ws.dir / "plans" / f"plan-{stamp}.json", json.dumps(data, indent=1))


def stored_launches(ws: Workspace, since: pd.Timestamp) -> list[PlannedLaunch]:
    """Launches of every stored plan in weeks from ``since`` on; a later plan replaces an earlier one's launch."""
    found: dict[str, PlannedLaunch] = {}
    for path in sorted((ws.dir / "plans").glob("plan-*.json")):
        for x in json.loads(path.read_text())["launches"]:
            week = pd.Timestamp(x["week"])
            if week + pd.Timedelta(days=6) >= since:
                found[x["candidate_id"]] = PlannedLaunch(x["candidate_id"], x["title"], week, x.get("category"),
                                                         tuple(x["curve"]), float(x["sigma"]), path.name)
    return sorted(found.values(), key=lambda x: (x.week, x.candidate_id))


def review_launches(ws: Workspace, since: pd.Timestamp | None = None, keep: bool = True) -> Review:
    """Planned launches since ``since`` (default: 12 weeks before the last sale): actual weekly sales against
    the plan's forecast; ``keep`` stores the calibration for later plans."""
    with ws.read() as con:
        products = con.execute("SELECT product_id, lower(title) AS t FROM products").df()
        end = con.execute("SELECT max(date) FROM sales").fetchone()[0]
    if since is None:
        since = (pd.Timestamp(end) if end is not None else pd.Timestamp.now()).normalize() - pd.Timedelta(weeks=12)
    launches = stored_launches(ws, since)
    with ws.read() as con:
        weekly = con.execute("""SELECT product_id, date_trunc('week', date) AS week, sum(quantity) AS units
                                FROM sales WHERE date >= ? GROUP BY ALL""",
                             [(since - pd.Timedelta(days=7)).to_pydatetime()]).df()
    end = pd.Timestamp(end) if end is not None else None
    by_title = dict(zip(products["t"], products["product_id"], strict=True))
    known = set(products["product_id"])
    weekly["week"] = pd.to_datetime(weekly["week"])
    reviews = []
    for launch in launches:
        pid = launch.candidate_id if launch.candidate_id in known else by_title.get(launch.title.lower())
        units = np.zeros(0)
        if pid is not None and end is not None:
            complete = (end.normalize() - launch.week).days // 7 + (1 if end.weekday() == 6 else 0)
            own = weekly[weekly["product_id"] == pid].set_index("week")["units"]
            span = pd.date_range(launch.week, periods=max(complete, 0), freq="7D")
            units = own.reindex(span, fill_value=0.0).to_numpy(dtype=float)
        reviews.append(review_launch(launch, pid, units))
    calib = calibration(reviews)
    if keep:
        atomic_write(ws.dir / "calibration.json", json.dumps(calib.to_json(), indent=1))
    return Review(since, tuple(reviews), calib, end)
