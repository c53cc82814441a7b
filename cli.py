"""The ``nextdrop`` command line: parse, call ``store`` / ``index`` / ``tools``, render.

Domain logic lives elsewhere; this module only turns arguments into calls and
results into rich tables. ``NextdropError`` becomes a one-line message and exit
code 1 here, in one place (set ``NEXTDROP_DEBUG=1`` for the traceback).
"""

from __future__ import annotations

import os
import sys
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from nextdrop import render
from nextdrop.errors import NextdropError
from nextdrop.store.demo import create_demo_workspace
from nextdrop.store.ingest import ingest_file
from nextdrop.store.status import store_status
from nextdrop.store.workspace import Workspace

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


def open_workspace(workspace: Path | None) -> Workspace:
    """The workspace a command works on: --workspace, NEXTDROP_WORKSPACE, or walk up from here."""
    return Workspace.find(explicit=workspace)


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
    workspace: WorkspaceOption = None,
) -> None:
    """Add a store file to the workspace; bad rows go to quarantine, nothing is lost."""
    ws = open_workspace(workspace)
    with render.activity(console, f"{file.name} → {kind.value}") as on_stage:
        report = ingest_file(ws, kind.value, file, mapping, on_stage)
    render.ingest_report(console, report)


@app.command()
def status(workspace: WorkspaceOption = None) -> None:
    """What the workspace holds: counts, date range, categories, quarantine."""
    render.store_status(console, store_status(open_workspace(workspace)))


@app.command()
def demo(
    directory: Annotated[Path, typer.Argument(help="Folder for the demo workspace.")] = Path("nextdrop-demo"),
    products: Annotated[int, typer.Option(help="How many base products to generate.")] = 2000,
) -> None:
    """Create a workspace with the bundled synthetic demo store ingested, and its dedup reports."""
    with console.status("Generating and ingesting the demo store (about 20 s)..."):
        ws, reports = create_demo_workspace(directory, n_products=products)
    render.ingest_summary(console, reports)
    render.store_status(console, store_status(ws))
    console.rule("Duplicates in the catalog")
    dedup(candidates=False, against=None, threshold=None, report=[directory / "dedup-report.html"],
          workspace=directory)
    console.rule("Candidates that duplicate the catalog")
    dedup(candidates=True, against=None, threshold=None, report=[directory / "candidate-duplicates.html"],
          workspace=directory)
    console.print(f"Demo workspace ready: [bold]cd {directory}[/] and try [bold]nextdrop status[/], "
                  "[bold]nextdrop search \"enamel mug\"[/], [bold]nextdrop forecast --candidate C100[/]")


# --- index, search, dedup (issue 3) -------------------------------------------------------------------


@app.command("index")
def index_command(workspace: WorkspaceOption = None) -> None:
    """Build or update the embedding index of the catalog (only new or changed titles are embedded)."""
    from nextdrop import render_dedup
    from nextdrop.index.catalog import open_embedder, update_index

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
    """Semantic search of the catalog (run `nextdrop index` first)."""
    from nextdrop import render_dedup
    from nextdrop.index.catalog import open_embedder
    from nextdrop.index.catalog import search as search_catalog

    ws = open_workspace(workspace)
    hits = search_catalog(ws, open_embedder(ws), query, k)
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
    from nextdrop import render_dedup
    from nextdrop.store.files import check_format
    from nextdrop.tools.dedup import run_dedup
    from nextdrop.tools.dedup_report import FORMATS, write_report

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
    workspace: WorkspaceOption = None,
) -> None:
    """Forecast a product, a candidate (from analogs) or a category, with intervals and evidence."""
    from nextdrop import render_forecast
    from nextdrop.store.files import check_format
    from nextdrop.tools import forecast_chart, forecast_store

    if sum(x is not None for x in (product_id, candidate, category)) != 1:
        raise typer.BadParameter("give exactly one of PRODUCT_ID, --candidate ID or --category NAME")
    if chart:
        check_format(chart, forecast_chart.FORMATS)
    ws = open_workspace(workspace)
    if candidate is not None:
        from nextdrop.index.catalog import open_embedder

        embedder = open_embedder(ws)
        with console.status("Finding analogs among past launches..."):
            result = forecast_store.forecast_candidate(ws, candidate, weeks, embedder)
        embedder.save()  # titles embedded here are not embedded again next time
        render_forecast.launch_forecast(console, result)
        if chart:
            console.print(f"Chart written: [bold]{forecast_chart.launch_chart(result, chart)}[/]")
        return
    with console.status("Forecasting (backtesting models per series)..."):
        if category is not None:
            view = forecast_store.forecast_category(ws, category, weeks)
        else:
            view = forecast_store.forecast_product(ws, product_id, weeks)
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

    from nextdrop import render_forecast
    from nextdrop.tools.forecast_store import backtest_forecast

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

    from nextdrop import render_forecast
    from nextdrop.index.catalog import open_embedder
    from nextdrop.tools.forecast_store import backtest_new_products

    ws = open_workspace(workspace)
    embedder = open_embedder(ws)
    with console.status("Backtesting new-product forecasts..."):
        report = backtest_new_products(ws, pd.Timestamp(since), weeks, embedder)
    embedder.save()
    if json_:
        print(json.dumps(report))
    else:
        render_forecast.backtest_report(console, report, f"New products since {since:%Y-%m-%d}, first {weeks} periods")


# --- end of forecast, backtest ----------------------------------------------------------------------------


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

    from nextdrop import render_chat
    from nextdrop.agent.session import Assistant

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
    from nextdrop import render_chat
    from nextdrop.agent.session import Assistant

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
