"""The ``nextdrop`` command line: parse, call ``store`` / ``index`` / ``tools``, render.

Domain logic lives elsewhere; this module only turns arguments into calls and
results into rich tables. ``NextdropError`` becomes a one-line message and exit
code 1 here, in one place (set ``NEXTDROP_DEBUG=1`` for the traceback).
"""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from nextdrop import render
from nextdrop.errors import NextdropError
from nextdrop.store.demo import create_demo_workspace
from nextdrop.store.ingest import STAGES, ingest_file
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
    with render.stage_progress(console, f"{file.name} → {kind.value}", STAGES) as on_stage:
        report = ingest_file(ws, kind.value, file, mapping, on_stage)
    render.ingest_report(console, report)


@app.command()
def status(workspace: WorkspaceOption = None) -> None:
    """What the workspace holds: counts, date range, categories, quarantine."""
    render.store_status(console, store_status(open_workspace(workspace)))


@app.command()
def demo(
    directory: Annotated[Path, typer.Argument(help="Folder for the demo workspace.")] = Path("nextdrop-demo"),
) -> None:
    """Create a workspace with the bundled synthetic demo store ingested."""
    with console.status("Generating and ingesting the demo store (about 20 s)..."):
        ws, reports = create_demo_workspace(directory)
    for report in reports:
        render.ingest_report(console, report)
    render.store_status(console, store_status(ws))
    console.print(f"Demo workspace ready: [bold]cd {directory}[/] and try [bold]nextdrop status[/]")


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
