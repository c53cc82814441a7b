"""The ``nextdrop`` command line: parse, call ``store`` / ``index`` / ``tools``, render.

Domain logic lives elsewhere; this module only turns arguments into calls and
results into rich tables. ``NextdropError`` becomes a one-line message and exit
code 1 here, in one place (set ``NEXTDROP_DEBUG=1`` for the traceback).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.text import Text

from nextdrop import render
from nextdrop.errors import NextdropError
from nextdrop.store.demo import create_demo_workspace
from nextdrop.store.ingest import ingest_file
from nextdrop.store.status import store_status
from nextdrop.store.workspace import Workspace

if TYPE_CHECKING:
    from nextdrop.index.embedder import Embedder

T = TypeVar("T")

app = typer.Typer(
    name="nextdrop",
    help="Local-first launch assistant: dedup your catalog, forecast demand, plan launches.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)

WorkspaceOption = Annotated[
    Path | None,
    typer.Option("--workspace", "-w", help="Workspace folder (default: found from the current directory)."),
]


@app.callback()
def _root() -> None:
    """Local-first launch assistant: dedup your catalog, forecast demand, plan launches."""
    render.fit_to_output(console)


def open_workspace(workspace: Path | None) -> Workspace:
    """The workspace a command works on: --workspace, NEXTDROP_WORKSPACE, or walk up from here."""
    return Workspace.find(explicit=workspace)


def _with_embedder(ws: Workspace, status: str, work: Callable[[Embedder], T]) -> T:
    """``work`` with the workspace's embedder, under a status line; the titles it embedded are kept for the
    next command (saved only when the work succeeded)."""
    from nextdrop.index.catalog import open_embedder

    embedder = open_embedder(ws)
    with console.status(status):
        result = work(embedder)
    embedder.save()
    return result


@app.command()
def init(directory: Annotated[Path, typer.Argument(help="Folder to hold .nextdrop/")] = Path(".")) -> None:
    """Create a workspace in DIRECTORY (default: here)."""
    ws = Workspace.init(directory)
    console.print(f"Workspace ready at [bold]{ws.dir}[/]")


class Table(StrEnum):
    """The tables a file can be ingested into."""

    products = "products"
    sales = "sales"
    candidates = "candidates"
    reviews = "reviews"
    events = "events"


@app.command()
def ingest(
    kind: Annotated[Table, typer.Argument(help="Which table the file holds.")],
    file: Annotated[Path, typer.Argument(help="CSV (any delimiter, .gz too), Parquet or Excel file.")],
    mapping: Annotated[Path | None, typer.Option("--mapping", "-m", help="TOML file mapping your columns.")] = None,
    dayfirst: Annotated[bool | None, typer.Option(
        "--dayfirst/--monthfirst", help="How this file's dates like 01/02/2011 read (default: decided from "
        "dates that read one way only, like 13/02/2011; asked when none does).")] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Add a store file to the workspace; bad rows go to quarantine, nothing is lost."""
    ws = open_workspace(workspace)
    with render.activity(console, f"{file.name} → {kind.value}") as on_stage:
        report = ingest_file(ws, kind.value, file, mapping, on_stage, dayfirst=dayfirst)
    render.ingest_report(console, report)


@app.command()
def status(
    json_: Annotated[bool, typer.Option("--json", help="Machine-readable output (shape in the README).")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """What the workspace holds: counts, dates, quarantine, what was set aside, top sellers, recent launches."""
    snapshot = store_status(open_workspace(workspace))
    if json_:
        import json

        print(json.dumps(snapshot.to_json(), ensure_ascii=False))
    else:
        render.store_status(console, snapshot)


@app.command()
def demo(
    directory: Annotated[Path, typer.Argument(help="Folder for the demo workspace.")] = Path("nextdrop-demo"),
    products: Annotated[int, typer.Option(help="How many base products to generate.")] = 2000,
) -> None:
    """Create a workspace with the bundled synthetic demo store: its dedup reports, launch plan, and the question."""
    with console.status("Generating and ingesting the demo store (about 20 s)..."):
        ws, reports = create_demo_workspace(directory, n_products=products)
    render.ingest_summary(console, reports)
    render.store_status(console, store_status(ws))
    render.heading(console, "Duplicates in the catalog")
    dedup(candidates=False, against=None, threshold=None, report=[directory / "dedup-report.html"],
          workspace=directory)
    render.heading(console, "Candidates that duplicate the catalog")
    dedup(candidates=True, against=None, threshold=None, report=[directory / "candidate-duplicates.html"],
          workspace=directory)
    render.heading(console, "What to launch next")
    plan(week="next", weeks=4, max_per_week=None, budget=None, service_level=0.8, format_=PlanFormat.table,
         output=None, html=directory / "plan.html", workspace=directory)
    question = "what should I launch next week?"
    render.heading(console, f"nextdrop ask \"{question}\"")
    ask(question, json_=False, show_sources=False, llm=None, workspace=directory)
    console.print(f"Demo workspace ready: [bold]cd {directory}[/] and try [bold]nextdrop chat[/], "
                  "[bold]nextdrop status[/], [bold]nextdrop forecast --candidate C100[/]")


# --- index, search, dedup (issue 3) -------------------------------------------------------------------


@app.command("index")
def index_command(workspace: WorkspaceOption = None) -> None:
    """Build or update the embedding index of the catalog (only new or changed titles are embedded)."""
    from nextdrop.index.catalog import open_embedder, update_index
    from nextdrop.render import dedup as render_dedup

    ws = open_workspace(workspace)
    with console.status("Loading the embedding model..."):
        embedder = open_embedder(ws)
    with render_dedup.embedding_progress(console) as (on_progress, _):
        update = update_index(ws, embedder, ws.settings.index.index_kind, progress=on_progress)
    render_dedup.index_update(console, update)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for, in your own words.")],
    k: Annotated[int, typer.Option("-k", min=1, help="How many products to show.")] = 10,
    workspace: WorkspaceOption = None,
) -> None:
    """Semantic search of the catalog (the index is built first when there is none)."""
    from nextdrop.index.catalog import IndexMissing, open_embedder, update_index
    from nextdrop.index.catalog import search as search_catalog
    from nextdrop.render import dedup as render_dedup

    ws = open_workspace(workspace)
    embedder = open_embedder(ws)
    try:
        hits = search_catalog(ws, embedder, query, k)
    except IndexMissing:  # as `dedup` does: build it, then search
        with render_dedup.embedding_progress(console) as (on_progress, _):
            render_dedup.index_update(console, update_index(ws, embedder, ws.settings.index.index_kind,
                                                            progress=on_progress))
        hits = search_catalog(ws, embedder, query, k)
    render_dedup.search_results(console, query, hits)


@app.command()
def dedup(
    candidates: Annotated[bool, typer.Option("--candidates", help="Check the candidates against the catalog.")] = False,
    against: Annotated[
        Path | None, typer.Option("--against", help="Check a product file (e.g. a supplier feed) against the catalog.")
    ] = None,
    threshold: Annotated[float | None, typer.Option("--threshold", "-t", help="Duplicate threshold.")] = None,
    report: Annotated[
        list[Path] | None,
        typer.Option("--report", "-r", help="Write the report: .html, .csv, .json or .md (repeatable)."),
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Find duplicate and variant products; print a summary and write the bulk report."""
    from nextdrop.render import dedup as render_dedup
    from nextdrop.store.files import check_format
    from nextdrop.tools.dedup.report import FORMATS, write_report
    from nextdrop.tools.dedup.workspace import run_dedup

    for path in report or []:
        check_format(path, FORMATS)
    ws = open_workspace(workspace)
    with render_dedup.embedding_progress(console) as (on_progress, on_step):
        on_step("loading the embedding model")
        result = run_dedup(
            ws, threshold=threshold, candidates=candidates, against=against, progress=on_progress, step=on_step
        )
    render_dedup.dedup_summary(console, result)
    for path in report or []:
        console.print(f"Report written: [bold]{write_report(result, path)}[/]")


@app.command()
def match(
    left: Annotated[str | None, typer.Argument(help="A title, or a catalog product id.")] = None,
    right: Annotated[str | None, typer.Argument(help="The title to compare it with.")] = None,
    pairs: Annotated[
        Path | None, typer.Option("--pairs", help="A CSV file with columns left,right: score every row, in order.")
    ] = None,
    across: Annotated[
        bool, typer.Option("--across", help="The titles come from two sources (a supplier feed, another shop).")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help='Print {"pairs": [{left, right, score, kind, reason}]}.')
    ] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Are these the same product? Score given pairs of titles with the catalog's settings."""
    import json

    from nextdrop.render import dedup as render_dedup
    from nextdrop.store.pairs_file import read_pairs
    from nextdrop.tools.dedup.workspace import match_in_workspace

    if (pairs is None) == (left is None or right is None):
        raise typer.BadParameter("give two titles, or --pairs FILE.csv")
    wanted = read_pairs(pairs) if pairs is not None else [(left, right)]
    found = match_in_workspace(open_workspace(workspace), wanted, same_source=not across)
    if as_json:
        print(json.dumps({"pairs": [m.to_json() for m in found]}, ensure_ascii=False, indent=2))
    else:
        render_dedup.match_results(console, found)


# --- end of index, search, dedup ------------------------------------------------------------------------


# --- forecast, backtest (issue 4) -------------------------------------------------------------------------

backtest_app = typer.Typer(help="How accurate are the forecasts on this store's own sales?", no_args_is_help=True)
app.add_typer(backtest_app, name="backtest")
WeeksOption = Annotated[int, typer.Option("--weeks", min=1, help="Periods to forecast (hold out).")]


@app.command()
def forecast(
    product_id: Annotated[str | None, typer.Argument(help="A product id with sales.")] = None,
    candidate: Annotated[str | None, typer.Option("--candidate", help="A candidate id (never sold).")] = None,
    category: Annotated[str | None, typer.Option("--category", help="A category name.")] = None,
    weeks: WeeksOption = 8,
    chart: Annotated[Path | None, typer.Option("--chart", help="Write a chart here: .png, .svg or .pdf.")] = None,
    json_: Annotated[bool, typer.Option("--json", help="Machine-readable output (shape in the README).")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Forecast a product, a candidate (from analogs) or a category, with intervals and evidence."""
    import json

    from nextdrop.render import forecast as render_forecast
    from nextdrop.store.files import check_format
    from nextdrop.tools.forecasting import chart as forecast_chart
    from nextdrop.tools.forecasting.workspace import forecast_candidate, forecast_category, forecast_product

    if sum(x is not None for x in (product_id, candidate, category)) != 1:
        raise typer.BadParameter("give exactly one of PRODUCT_ID, --candidate ID or --category NAME")
    if chart:
        check_format(chart, forecast_chart.FORMATS)
    ws = open_workspace(workspace)
    if candidate is not None:
        result = _with_embedder(ws, "Finding analogs among past launches...",
                                lambda embedder: forecast_candidate(ws, candidate, weeks, embedder))
        if json_:
            print(json.dumps(render_forecast.launch_json(result)))
        else:
            render_forecast.launch_forecast(console, result)
        if chart:
            console.print(f"Chart written: [bold]{forecast_chart.launch_chart(result, chart)}[/]")
        return
    with console.status("Forecasting (backtesting models per series)..."):
        if category is not None:
            view = forecast_category(ws, category, weeks)
        else:
            view = forecast_product(ws, product_id, weeks)
    if json_:
        print(json.dumps(render_forecast.series_json(view)))
    else:
        render_forecast.series_view(console, view)
    if chart:
        path = forecast_chart.series_chart(view.forecast, view.history, chart, view.title)
        console.print(f"Chart written: [bold]{path}[/]")


@backtest_app.command("forecast")
def backtest_forecast_command(
    weeks: WeeksOption = 8,
    top: Annotated[int | None, typer.Option("--top", min=1, help="Only the N best-selling products.")] = None,
    json_: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Hold out the last weeks of sales: nextdrop against seasonal naive, moving average, Croston, AutoETS."""
    import json

    from nextdrop.render import forecast as render_forecast
    from nextdrop.tools.backtests.workspace import backtest_forecast

    ws = open_workspace(workspace)
    with console.status("Backtesting..."):
        report = backtest_forecast(ws, weeks, top)
    if json_:
        print(json.dumps(report))
    else:
        render_forecast.backtest_report(console, report, f"Last {weeks} periods held out")


@backtest_app.command("new-products")
def backtest_new_products_command(
    since: Annotated[datetime, typer.Option("--since", formats=["%Y-%m-%d"],
                                            help="First-sale date (YYYY-MM-DD) from which products count as new.")],
    weeks: WeeksOption = 8,
    json_: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Products first sold since DATE, each forecast from what was known before its first sale."""
    import json

    import pandas as pd

    from nextdrop.render import forecast as render_forecast
    from nextdrop.tools.backtests.workspace import backtest_new_products

    ws = open_workspace(workspace)
    report = _with_embedder(ws, "Backtesting new-product forecasts...",
                            lambda embedder: backtest_new_products(ws, pd.Timestamp(since), weeks, embedder))
    if json_:
        print(json.dumps(report))
    else:
        render_forecast.backtest_report(console, report, f"New products since {since:%Y-%m-%d}, first {weeks} periods")


# --- end of forecast, backtest ----------------------------------------------------------------------------


# --- plan, cadence, review, explain, backtest launches (issue 21) ------------------------------------------


class PlanFormat(StrEnum):
    """How ``nextdrop plan`` writes the plan."""

    table = "table"
    md = "md"
    html = "html"
    json = "json"


def _week_start(value: str) -> date | None:
    """``next`` (None: the week after the store's today, see ``plan_request``) or a date YYYY-MM-DD."""
    if value == "next":
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise typer.BadParameter(f"--week takes `next` or a date YYYY-MM-DD, not {value!r}") from None


@app.command()
def plan(
    week: Annotated[str, typer.Option("--week", help="First launch week: `next` or a date YYYY-MM-DD.")] = "next",
    weeks: Annotated[int, typer.Option("--weeks", min=1, help="How many weeks to plan.")] = 4,
    max_per_week: Annotated[int | None, typer.Option(
        "--max-per-week", min=0, help="Launches a week (default: what the store's cadence absorbs).")] = None,
    budget: Annotated[float | None, typer.Option("--budget", help="Stock budget for all orders (cost).")] = None,
    service_level: Annotated[float, typer.Option(
        "--service-level", help="Chance an order covers the launch's demand (newsvendor).")] = 0.8,
    format_: Annotated[PlanFormat, typer.Option("--format", help="table, md, html or json.")] = PlanFormat.table,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the plan to this file.")] = None,
    html: Annotated[Path | None, typer.Option("--html", help="Also write the HTML plan here.")] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Which candidates to launch in which week and day, how many to order, and what was left out and why."""
    from nextdrop.render import plan as render_plan
    from nextdrop.tools.planning.workspace import plan_launches, plan_request, store_plan

    if format_ is PlanFormat.html and output is None:
        raise typer.BadParameter("--format html needs --output FILE.html")
    ws = open_workspace(workspace)
    request = plan_request(ws, _week_start(week), weeks, max_per_week, budget, service_level)
    result = _with_embedder(ws, "Scoring candidates and solving the plan...",
                            lambda embedder: plan_launches(ws, embedder, request))
    store_plan(ws, result)  # for `nextdrop review`
    if html is not None:
        console.print(f"HTML plan written: [bold]{render_plan.write_plan(result, 'html', html)}[/]")
    if output is not None:
        fmt = "md" if format_ is PlanFormat.table else format_.value
        console.print(f"Plan written: [bold]{render_plan.write_plan(result, fmt, output)}[/]")
    elif format_ is PlanFormat.table:
        render_plan.plan_table(console, result)
    else:
        print(render_plan.plan_text(result, format_.value))


@app.command("cadence")
def cadence_command(workspace: WorkspaceOption = None) -> None:
    """The store's launch rhythm: launches per month and weekday, absorption, seasonal lead, planner defaults."""
    from nextdrop.render import plan as render_plan
    from nextdrop.tools.forecasting.workspace import store_history
    from nextdrop.tools.planning.workspace import workspace_cadence

    ws = open_workspace(workspace)
    history = _with_embedder(ws, "Reading the launch history...",  # title vectors: ranges
                             lambda embedder: store_history(ws, embedder, ws.settings.forecast.horizon))
    render_plan.cadence(console, workspace_cadence(ws, history))


@app.command()
def review(
    since: Annotated[datetime | None, typer.Option(
        "--since", formats=["%Y-%m-%d"], help="Launch weeks from this date (default: 12 weeks before the last sale).")
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Planned launches against their forecast; flags under- and over-performers and calibrates later plans."""
    import pandas as pd

    from nextdrop.render import plan as render_plan
    from nextdrop.tools.planning.workspace import review_launches

    render_plan.review(console, review_launches(open_workspace(workspace), pd.Timestamp(since) if since else None))


@app.command()
def explain(
    candidate: Annotated[str, typer.Argument(help="A candidate id.")],
    week: Annotated[str, typer.Option("--week", help="Launch week: `next` or a date YYYY-MM-DD.")] = "next",
    workspace: WorkspaceOption = None,
) -> None:
    """Why a candidate scores what it does: the signed parts of its score, its analogs and related items."""
    from nextdrop.render import plan as render_plan
    from nextdrop.tools.planning.workspace import explain_candidate, plan_request

    ws = open_workspace(workspace)
    start = plan_request(ws, _week_start(week)).start
    scored, duplicate = _with_embedder(ws, "Scoring candidates...",
                                       lambda embedder: explain_candidate(ws, embedder, candidate, start))
    render_plan.explain(console, scored, scored.at(start), duplicate)


@backtest_app.command("launches")
def backtest_launches_command(
    cutoff: Annotated[datetime, typer.Option("--cutoff", formats=["%Y-%m-%d"],
                                             help="Rank the products first sold after this date (YYYY-MM-DD).")],
    weeks: WeeksOption = 8,
    top: Annotated[int, typer.Option("--top", min=1, help="How many picks.")] = 10,
    json_: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Would the plan have picked winners? Rank past launches from before them; compare with random picks."""
    import json

    import pandas as pd

    from nextdrop.render import plan as render_plan
    from nextdrop.tools.backtests.workspace import backtest_workspace_launches

    ws = open_workspace(workspace)
    start = pd.Timestamp(cutoff)
    report = _with_embedder(ws, "Ranking past launches...",
                            lambda embedder: backtest_workspace_launches(ws, embedder, start, weeks, top))
    if json_:
        print(json.dumps(report))
    else:
        render_plan.launch_backtest(console, report)


# --- end of plan, cadence, review, explain ----------------------------------------------------------------


# --- ask, chat (issue 22) ---------------------------------------------------------------------------------

LlmOption = Annotated[str | None, typer.Option(
    "--llm", help="Brain: 'offline' (default, no network) or provider:model through LangChain's init_chat_model, "
                  "e.g. ollama:llama3.1 or openai:gpt-4o-mini (agent.base_url for an OpenAI-compatible server). "
                  "Naming a remote brain here is your opt-in to send it tool results (never customer data).")]
SourcesOption = Annotated[bool, typer.Option("--show-sources", help="Footnote each number with its tool call.")]


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="A question about your store, in your own words.")],
    json_: Annotated[bool, typer.Option("--json", help="Machine-readable: answer, tool_calls, grounded, brain.")]
    = False,
    show_sources: SourcesOption = False,
    llm: LlmOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Answer one question ("what should I launch next week?") from the store's own data."""
    import json

    from nextdrop.agent.session import Assistant
    from nextdrop.render import chat as render_chat

    assistant = Assistant.open(open_workspace(workspace), llm)
    if json_:
        print(json.dumps(assistant.ask(question).to_json()))
        return
    result = render_chat.ask(console, assistant, question)
    if result is not None:
        render_chat.answer(console, result, show_sources)


@app.command()
def chat(
    resume: Annotated[bool, typer.Option("--resume", help="Continue the last conversation.")] = False,
    show_sources: SourcesOption = False,
    llm: LlmOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """A conversation about your store: launch plans, duplicates, forecasts; /help lists the commands."""
    from nextdrop.agent.session import Assistant
    from nextdrop.render import chat as render_chat

    assistant = Assistant.open(open_workspace(workspace), llm, memory=True)
    try:
        thread = assistant.thread(resume)
        if resume:
            render_chat.history(console, assistant.history(thread))
        render_chat.run_chat(console, assistant, thread, show_sources)
    finally:
        assistant.close()


# --- end of ask, chat -------------------------------------------------------------------------------------


def main() -> None:
    """Entry point: run the app, turning NextdropError into one line on stderr."""
    try:
        app()
    except NextdropError as exc:
        if os.environ.get("NEXTDROP_DEBUG"):
            raise
        err_console.print(Text.assemble(("Error: ", "bold red"), str(exc)), highlight=False, soft_wrap=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
