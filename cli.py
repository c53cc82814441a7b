"""The ``nextdrop`` command line: parse, call ``store`` / ``index`` / ``tools``, render.

Domain logic lives elsewhere; this module only turns arguments into calls and
results into rich tables. ``NextdropError`` becomes a one-line message and exit
code 1 here, in one place (set ``NEXTDROP_DEBUG=1`` for the traceback).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from nextdrop.errors import NextdropError
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


def main() -> None:
    """Entry point: run the app, turning NextdropError into one line on stderr."""
    try:
        app()
    except NextdropError as exc:
        if os.environ.get("NEXTDROP_DEBUG"):
            raise
        err_console.print(f"[red]Error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
