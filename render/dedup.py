"""Rich rendering for ``nextdrop index``, ``search`` and ``dedup`` (kept out of ``cli.py``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from nextdrop.index.catalog import IndexUpdate
from nextdrop.tools.dedup.match import PairMatch
from nextdrop.tools.dedup.report import summary
from nextdrop.tools.dedup.workspace import DedupReport


@contextmanager
def embedding_progress(console: Console) -> Iterator[tuple[Callable[[int, int], None], Callable[[str], None]]]:
    """A progress bar for embedding, plus a step callback naming the current stage."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("embedding", total=None)

        def on_progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description="embedding")

        def on_step(name: str) -> None:
            bar.update(task, description=name)

        yield on_progress, on_step


def index_update(console: Console, update: IndexUpdate) -> None:
    console.print(
        f"Index [bold]{update.fingerprint}[/] ({update.kind}): {update.size:,} products; "
        f"{update.added:,} added or changed, {update.removed:,} removed, {update.unchanged:,} unchanged; "
        f"{update.embedded:,} texts embedded in {update.seconds:.1f} s"
    )


def search_results(console: Console, query: str, hits: list[tuple[str, str, float]]) -> None:
    if not hits:
        console.print("No products to search: the catalog is empty; run `nextdrop ingest products FILE` "
                      "(or `nextdrop ingest sales FILE`) first")
        return
    table = Table(title=f"Nearest products to “{query}”")
    table.add_column("#", justify="right")
    table.add_column("product")
    table.add_column("title")
    table.add_column("cosine", justify="right")
    for rank, (pid, title, score) in enumerate(hits, start=1):
        table.add_row(str(rank), pid, title, f"{score:.3f}")
    console.print(table)


def dedup_summary(console: Console, report: DedupReport, top: int = 10) -> None:
    """Headline figures, then the groups splitting the most sales."""
    s = summary(report)
    mode = report.result.mode
    what = {"catalog": "catalog products", "candidates": "candidates", "file": "file records"}[mode]
    verb = "in duplicate groups beyond the first" if mode == "catalog" else "duplicate the catalog"
    console.print(
        f"[bold]{s['records']:,}[/] {what}: [bold]{s['groups']:,}[/] groups, "
        f"[bold]{s['duplicate_ratio']:.1%}[/] {verb} (threshold {report.result.threshold:.2f})"
    )
    console.print(
        f"pairs: {s['exact']} exact, {s['near_duplicate']} near-duplicate, "
        f"{s['variant']} variant (kept apart), {s['similar']} similar"
    )
    if report.ranges:
        console.print(f"ranges: {len(report.ranges):,} families of variants (numbers, prints, types: never merged)")
    if report.untitled:
        console.print(f"no title: {len(report.untitled):,} records whose title is empty, their id or only codes "
                      "(not matched on text)")
    for line in report.advice:
        console.print(f"[yellow]{line}[/]")
    groups = report.groups_by_impact()[:top]
    if not groups:
        return
    table = Table(title="Top groups by the sales they split")
    for name, justify in (
        ("group", "right"),
        ("kind", "left"),
        ("records", "left"),
        ("units", "right"),
        ("split", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for g in groups:
        impact = report.impact[g.group]
        names = "\n".join(f"{pid}: {report.titles.get(pid, '')[:70]}" for pid in g.ids[:4])
        more = f"\n… {len(g.ids) - 4} more" if len(g.ids) > 4 else ""
        table.add_row(str(g.group), g.kind, names + more, f"{impact.units:,.0f}", f"{impact.split_units:,.0f}")
    console.print(table)


def match_results(console: Console, found: list[PairMatch]) -> None:
    """One row per pair: the kind a merchant acts on, the score, and the evidence behind it."""
    table = Table(title="Are these the same product?")
    for name in ("left", "right", "kind", "score", "why"):
        table.add_column(name, justify="right" if name == "score" else "left")
    for m in found:
        table.add_row(m.left, m.right, f"[bold]{m.kind}[/]", f"{m.score:.3f}", m.reason)
    console.print(table)
