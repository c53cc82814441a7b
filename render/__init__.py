"""Rendering of result objects for the terminal (rich) and HTML; no logic beyond layout.

Here: what every command shares (output width, headings, the activity spinner) and the
ingest and status output. One module per command group beside it: ``chat``, ``dedup``,
``forecast``, ``plan``; the CLI imports each inside its commands, so start-up stays light.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.rule import Rule
from rich.table import Table

from nextdrop.store.ingest import IngestReport
from nextdrop.store.status import ProductLine, StoreStatus

PIPE_WIDTH = 10_000  # "no limit": tables are only as wide as their content, so nothing is padded to it
RULE_WIDTH = 100


def fit_to_output(console: Console) -> None:
    """Wrap at the terminal's width, but never cut output to a pipe or a file at rich's default 80 columns.

    ``COLUMNS`` still sets the width when given; checked per command, as the same console serves many.
    """
    piped = not console.is_terminal and "COLUMNS" not in os.environ
    console.width = PIPE_WIDTH if piped else None  # None: measure the terminal again


def heading(console: Console, title: str) -> None:
    """A titled rule, as wide as the terminal but not as wide as a pipe's unlimited width."""
    console.print(Rule(title), width=min(console.width, RULE_WIDTH))


@contextmanager
def activity(console: Console, title: str) -> Iterator[Callable[[str], None]]:
    """A live progress line for work of unknown length; yields the callback that says what is happening."""
    columns = (SpinnerColumn(), TextColumn("[bold]{task.description}"), TextColumn("{task.fields[stage]}"),
               TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(title, total=None, stage="")
        yield lambda stage: progress.update(task, stage=stage)


def ingest_report(console: Console, report: IngestReport) -> None:
    """Counts of one ingest, which add up to the rows read."""
    console.print(f"[bold]Ingested[/] {report.file} [bold]as[/] {report.kind}", highlight=False)
    table = Table(show_header=False)
    table.add_column("what")
    table.add_column("rows", justify="right")
    table.add_row("read", f"{report.rows_read:,}")
    table.add_row("accepted", f"[green]{report.accepted:,}[/]")
    if report.already_present:
        table.add_row("already present (skipped)", f"{report.already_present:,}")
    for reason, count in report.quarantined.most_common():
        table.add_row(f"[red]quarantined[/]: {reason}", f"{count:,}")
    for reason, count in report.non_product.most_common():
        label = (f"not a product: {reason.removeprefix('non-product ')}" if reason.startswith("non-product ")
                 else f"set aside: {reason}")
        table.add_row(f"[yellow]{label}[/]", f"{count:,}")
    if report.derived_products:
        table.add_row("products derived from sales", f"{report.derived_products:,}")
    console.print(table)
    if report.quarantine_file:
        console.print(f"Quarantined rows with reasons: [bold]{report.quarantine_file}[/]")
    if report.adjustments:
        notes = ", ".join(f"{note!r} ({n:,})" for note, n in report.adjustments.most_common(12))
        more = len(report.adjustments) - 12
        console.print(f"Stock adjustments (price 0, no customer, a note instead of the product's description; "
                      f"{report.adjustment_units:,.0f} units in or out), not counted as sales or returns: "
                      f"{notes}{f' and {more:,} other notes' if more > 0 else ''}", highlight=False, markup=False)
    if report.duplicate_lines:
        what = ("kept as separate lines ([ingest] keep_duplicate_lines = true)" if report.duplicates_kept
                else "quarantined ([ingest] keep_duplicate_lines = false)")
        console.print(f"{report.duplicate_lines:,} lines repeat an earlier line of the file exactly: {what}",
                      highlight=False, markup=False)
    for column, how in report.date_formats.items():
        console.print(f"Dates in {column!r} read as {how}", highlight=False, markup=False)
    details = [f"{report.seconds:.1f} s"]
    if report.encoding:
        details.append(f"encoding {report.encoding}, delimiter {report.delimiter!r}")
    console.print(" · ".join(details), style="dim")


def ingest_summary(console: Console, reports: list[IngestReport]) -> None:
    """Several ingests, one line each."""
    table = Table(title="Ingested", title_justify="left")
    for name in ("file", "table", "read", "accepted", "already there", "quarantined", "not products", "time"):
        table.add_column(name, justify="left" if name in ("file", "table") else "right")
    for r in reports:
        table.add_row(Path(r.file).name, r.kind, f"{r.rows_read:,}", f"{r.accepted:,}", f"{r.already_present:,}",
                      f"{r.quarantined_total:,}", f"{r.non_product_total:,}", f"{r.seconds:.1f} s")
    console.print(table)


def store_status(console: Console, status: StoreStatus) -> None:
    """The workspace at a glance."""
    console.print(f"[bold]Workspace[/] {status.workspace}", highlight=False)
    table = Table()
    table.add_column("table")
    table.add_column("rows", justify="right")
    table.add_column("notes")
    notes = {
        "products": f"{status.derived_products:,} derived from sales" if status.derived_products else "",
        "sales": (f"{status.first_sale} → {status.last_sale}, {status.returns:,} returns"
                  if status.first_sale else "no sales yet"),
    }
    for name, count in status.counts.items():
        table.add_row(name.replace("_", " "), f"{count:,}", notes.get(name, ""))
    console.print(table)
    if status.categories:
        shown = ", ".join(f"{c} ({n:,})" for c, n in status.categories[:12])
        more = f" and {len(status.categories) - 12} more" if len(status.categories) > 12 else ""
        console.print(f"[bold]Categories[/]: {shown}{more}")
    if status.non_product:
        shown = ", ".join(f"{r.removeprefix('non-product ')} ({n:,})" for r, n in status.non_product[:8])
        console.print(f"[bold]Set aside as not products[/]: {shown}")
    if status.quarantine:
        q = Table(title="Quarantine", title_justify="left")
        for col in ("table", "reason", "rows"):
            q.add_column(col, justify="right" if col == "rows" else "left")
        for kind, reason, count in status.quarantine:
            q.add_row(kind, reason, f"{count:,}")
        console.print(q)
    else:
        console.print("Quarantine: empty")
    _product_table(console, "Top sellers (units net of returns)", status.top_sellers)
    _product_table(console, "Most recent launches (first sale)", status.recent_launches)


def _product_table(console: Console, title: str, products: list[ProductLine]) -> None:
    if not products:
        return
    table = Table(title=title, title_justify="left")
    for name in ("product", "title", "first sale", "units", "revenue"):
        table.add_column(name, justify="right" if name in ("units", "revenue") else "left")
    for p in products:
        revenue = "" if p.revenue is None else f"{p.revenue:,.2f}"
        table.add_row(p.product_id, p.title, str(p.first_sale), f"{p.units:,.0f}", revenue)
    console.print(table)
