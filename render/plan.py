"""Rendering of plans, cadence, reviews, explanations and the launch backtest (terminal, Markdown, HTML, JSON).

The HTML is one self-contained file from the Jinja2 template ``templates/plan.html``,
which extends ``base.html`` as every report does (the page style and the SVG charts,
see ``html``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from nextdrop.render.html import line_chart, page
from nextdrop.store.files import atomic_write
from nextdrop.tools.planning.cadence import WEEKDAYS, Cadence
from nextdrop.tools.planning.plan import Plan
from nextdrop.tools.planning.score import CandidateScore, WeekScore
from nextdrop.tools.planning.workspace import Review

FORMATS = ("table", "md", "html", "json")


def _money(value: float) -> str:
    return f"{value:,.0f}"


# --- plan ---------------------------------------------------------------------------------------------------


def plan_table(console: Console, plan: Plan) -> None:
    """The plan in the terminal: launches by day, then what was left out and why."""
    r = plan.request
    table = Table(title=f"Launch plan: {r.weeks} week(s) from {r.start:%Y-%m-%d}")
    for name in ("day", "candidate", "order", "exp. units", "exp. revenue", "exp. profit", "score"):
        table.add_column(name, justify="left" if name in ("day", "candidate") else "right")
    for x in plan.launches:
        table.add_row(f"{x.day:%a %Y-%m-%d}", f"{x.candidate_id} {x.title}", _money(x.order_qty),
                      _money(x.expected_units), _money(x.expected_revenue), _money(x.expected_profit), _money(x.score))
    console.print(table)
    console.print(f"{len(plan.launches)} launches, expected profit {_money(plan.total_score)}; at most "
                  f"{plan.per_week} a week, {plan.per_range} of one range a week"
                  + (f", stock budget {_money(r.budget)}" if r.budget else "")
                  + f"; orders at a {r.service_level:.0%} service level. Solver: {plan.solver}.", highlight=False)
    for note in plan.assumptions:
        console.print(f"[yellow]Assumption:[/] {note}", highlight=False)
    if plan.excluded:
        left = Table(title="Left out")
        left.add_column("candidate")
        left.add_column("reason")
        for x in plan.excluded:
            left.add_row(f"{x.candidate_id} {x.title}", x.reason)
        console.print(left)


def plan_markdown(plan: Plan) -> str:
    data = plan.to_json()
    lines = [f"# Launch plan: {data['weeks']} week(s) from {data['start']}", "",
             f"Solver: {data['solver']}.", "",
             "| day | candidate | order | exp. units | exp. revenue | exp. profit | score |",
             "|---|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {x['day']} | {x['candidate_id']} {_md(x['title'])} | {_money(x['order_qty'])} | "
              f"{_money(x['expected_units'])} | {_money(x['expected_revenue'])} | {_money(x['expected_profit'])} | "
              f"{_money(x['score'])} |" for x in data["launches"]]
    lines += [""] + [f"Assumption: {note}" for note in data["assumptions"]]
    if plan.excluded:
        lines += ["", "## Left out", "", "| candidate | reason |", "|---|---|"]
        lines += [f"| {x.candidate_id} {_md(x.title)} | {_md(x.reason)} |" for x in plan.excluded]
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def _pick(x, plan: Plan) -> dict:
    s = x.scored
    f = s.forecast
    scale = x.expected_units / max(float(np.sum(f.mean)), 1e-9)
    mean = np.asarray(f.mean) * scale
    share = mean / max(mean.sum(), 1e-9)
    lower, upper = share * f.lower[80] * scale, share * f.upper[80] * scale
    labels = [f"{x.week + pd.Timedelta(weeks=k):%d %b}" for k in range(len(mean))]
    chart = line_chart(mean, lower, upper, [np.asarray(a.curve, dtype=float) for a in f.analogs[:5]], labels,
                       f"forecast of {x.title}")
    return {"id": x.candidate_id, "title": x.title, "day": f"{x.day:%a %Y-%m-%d}", "chart": chart,
            "components": s.at(x.week).components,
            "analogs": [f"{a.title} ({a.similarity:.2f})" for a in f.analogs[:5]] or [f.note]}


def plan_html(plan: Plan) -> str:
    """One self-contained HTML page: calendar, launches, a chart per pick, what was left out."""
    data = plan.to_json()
    calendar = []
    for week in plan.request.week_starts:
        days: list[list[dict]] = [[] for _ in range(7)]
        for x, entry in zip(plan.launches, data["launches"], strict=True):
            if x.week == week:
                days[x.day.weekday()].append(entry)
        calendar.append({"start": f"{week:%Y-%m-%d}", "days": days})
    return page("plan.html", plan=data, total=plan.total_score, calendar=calendar, weekdays=WEEKDAYS,
                excluded=plan.excluded, picks=[_pick(x, plan) for x in plan.launches])


def write_plan(plan: Plan, fmt: str, path: Path) -> Path:
    text = {"md": plan_markdown, "html": plan_html, "json": lambda p: json.dumps(p.to_json(), indent=2)}[fmt](plan)
    atomic_write(path, text)
    return path


def plan_text(plan: Plan, fmt: str) -> str:
    """Markdown or JSON for stdout."""
    return plan_markdown(plan) if fmt == "md" else json.dumps(plan.to_json(), indent=2)


# --- explain, cadence, review, backtest --------------------------------------------------------------------------


def explain(console: Console, s: CandidateScore, week: WeekScore, duplicate: str | None) -> None:
    """A candidate's score in its parts (they add up), with the analogs and related items behind it."""
    c = s.candidate
    console.print(f"[bold]{c.id}[/] {c.title}: price {c.price:,.2f}, margin {s.margin:,.2f}/unit"
                  + (" [yellow](assumed: no cost given)[/]" if s.margin_assumed else ""), highlight=False)
    if duplicate:
        console.print(f"[red]Never planned:[/] {duplicate}", highlight=False)
    table = Table(title=f"Score if launched the week of {week.week:%Y-%m-%d}")
    table.add_column("part")
    table.add_column("value", justify="right")
    table.add_column("what it rests on")
    for part in week.components:
        table.add_row(part.name, f"{part.value:+,.0f}", part.note)
    table.add_row("[bold]score[/]", f"[bold]{week.score:,.0f}[/]", f"expected profit; {week.expected_units:,.0f} "
                  f"units, revenue {week.expected_revenue:,.0f}, order {week.order_qty:,.0f}")
    console.print(table)
    others = ", ".join(f"{w.week:%m-%d}: {w.score:,.0f}" for w in s.weeks)
    console.print(f"Score by launch week: {others}", highlight=False)
    console.print(f"Novelty against the catalog: {s.novelty:.2f} (1 - similarity to the nearest item)")
    analogs = Table(title=f"Analogs ({s.forecast.note})")
    for name in ("past launch", "similarity", "first-weeks units", "weight"):
        analogs.add_column(name, justify="left" if name == "past launch" else "right")
    for a in s.forecast.analogs:
        analogs.add_row(f"{a.id} {a.title}", f"{a.similarity:.2f}", _money(a.units), f"{a.weight:.2f}")
    console.print(analogs)
    if s.related:
        related = Table(title=f"Related catalog items (takes {s.take_share:.0%} of its units from them)")
        for name in ("item", "kind", "similarity"):
            related.add_column(name)
        for r in s.related:
            related.add_row(f"{r.id} {r.title}", r.kind, f"{r.similarity:.2f}")
        console.print(related)


def _bars(values: pd.Series, width: int = 40) -> list[str]:
    top = max(float(values.max()), 1.0)
    return ["█" * round(width * v / top) for v in values]


def cadence(console: Console, c: Cadence) -> None:
    """Launches per month (a bar chart), weekdays, absorption, seasonal lead and the planner's defaults."""
    months = Table(title=f"Launches per month ({c.launches:,} launches)")
    months.add_column("month")
    months.add_column("launches", justify="right")
    months.add_column("")
    for (month, n), bar in zip(c.per_month.items(), _bars(c.per_month), strict=True):
        months.add_row(f"{month:%Y-%m}", str(int(n)), f"[blue]{bar}[/]")
    console.print(months)
    days = Table(title="Weekday they go live")
    for day in c.weekdays.index:
        days.add_column(day, justify="right")
    days.add_row(*[str(int(v)) for v in c.weekdays])
    console.print(days)
    absorb = Table(title="Absorption: first 4 weeks' units by launches in the same week")
    for name in ("launches that week", "weeks", "launches", "median units"):
        absorb.add_column(name, justify="right")
    for a in c.absorption:
        absorb.add_row(a.launches_in_week, str(a.weeks), str(a.launches), _money(a.median_units))
    console.print(absorb)
    console.print(f"Each doubling of the week's launches goes with {(2 ** c.absorption_slope - 1):+.0%} in a launch's "
                  "first weeks (not adjusted for season: busy weeks launch more).", highlight=False)
    for s in c.seasonal:
        console.print(f"{s.season}: {s.products} launches, peak a median {s.median_weeks_before_peak:.0f} weeks "
                      "after launch.", highlight=False)
    recent = c.per_week.iloc[-52:]
    console.print(f"Last 52 weeks: {recent.mean():.1f} launches a week on average. Planner defaults: at most "
                  f"[bold]{c.per_week_default}[/] launches a week (90th percentile), [bold]{c.per_range_default}[/] "
                  f"of one range a week, on [bold]{WEEKDAYS[c.usual_weekday]}[/].")


def review(console: Console, r: Review) -> None:
    """Planned launches since the date: actual against forecast to date, flags, the calibration."""
    if not r.launches:
        console.print(f"No planned launch since {r.since:%Y-%m-%d}: run `nextdrop plan` first; launches are "
                      "reviewed once their sales are ingested.")
        return
    table = Table(title=f"Launches since {r.since:%Y-%m-%d} (sales to {r.data_end:%Y-%m-%d})" if r.data_end
                  else f"Launches since {r.since:%Y-%m-%d}")
    for name in ("week", "candidate", "weeks on sale", "actual", "forecast", "actual / forecast", "flag"):
        table.add_column(name, justify="left" if name in ("week", "candidate", "flag") else "right")
    colours = {"below": "red", "above": "green", "on track": "white", "not on sale yet": "dim"}
    for x in r.launches:
        ratio = f"{x.ratio:.2f}" if x.forecast > 0 else "-"
        table.add_row(f"{x.launch.week:%Y-%m-%d}", f"{x.launch.candidate_id} {x.launch.title}", str(x.weeks),
                      _money(x.actual), _money(x.forecast), ratio, f"[{colours[x.flag]}]{x.flag}[/]")
    console.print(table)
    cal = r.calibration
    if cal.launches:
        console.print(f"Calibration from {cal.launches} launch(es): new-product forecasts ×{cal.store:.2f} in later "
                      "plans" + "".join(f"; {k} ×{v:.2f}" for k, v in cal.categories.items()), highlight=False)
    else:
        console.print("No launch has two complete weeks of sales yet: no calibration.")


def launch_backtest(console: Console, report: dict) -> None:
    ratio = report["top_revenue"] / max(report["random_revenue"], 1e-9)
    table = Table(title=f"Launches in the {report.get('weeks', 8)} weeks from {report['cutoff']} "
                        f"({report['n_candidates']} products), ranked from before it")
    table.add_column("pick of 10")
    table.add_column("realised revenue", justify="right")
    table.add_column("× random", justify="right")
    for name, key in (("nextdrop's top", "top_revenue"), ("random (mean)", "random_revenue"),
                      ("naive: like current best sellers", "naive_revenue"), ("hindsight best", "oracle_revenue")):
        table.add_row(name, _money(report[key]), f"{report[key] / max(report['random_revenue'], 1e-9):.2f}")
    console.print(table)
    picks = Table(title="nextdrop's top picks")
    for name in ("product", "expected revenue", "realised revenue"):
        picks.add_column(name, justify="left" if name == "product" else "right")
    for p in report["picks"]:
        picks.add_row(f"{p['product_id']} {p['title']}", _money(p["score"]), _money(p["realised_revenue"]))
    console.print(picks)
    console.print(f"Top picks realise {ratio:.2f}× a random pick; Spearman {report['spearman']:.3f}; "
                  f"precision@10 of the top decile {report['precision_at_10']:.2f}.", highlight=False)
