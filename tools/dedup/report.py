"""The bulk dedup report as JSON, CSV, Markdown or one self-contained HTML file.

The JSON is a stable interface for other tools:
``{"pairs": [{"a", "b", "title_a", "title_b", "score", "kind", "reason", "group"}], "groups": [...],
"ranges": [...], "untitled": [...], "advice": [...], "settings": {...}, "summary": {...}}``
(``group`` is null for pairs that are not merged: variants, similar items, refused merges;
a range is a family of variants with the axis that varies; ``untitled`` lists the records
with no title to match on; ``advice`` what would make the report better on this catalog).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from nextdrop.index.dedup import Pair
from nextdrop.index.scoring import KINDS
from nextdrop.index.text import words
from nextdrop.store.files import atomic_write, check_format
from nextdrop.tools.dedup.workspace import DedupReport

if TYPE_CHECKING:
    from markupsafe import Markup

FORMATS = (".html", ".csv", ".json", ".md")
KIND_COLOURS = {"exact": "#b91c1c", "near_duplicate": "#ea580c", "variant": "#2563eb", "similar": "#9ca3af"}


def write_report(report: DedupReport, path: Path) -> Path:
    """Write ``report`` in the format its suffix names."""
    suffix = check_format(path, FORMATS).suffix.lower()
    renderers = {".html": to_html, ".md": to_markdown}
    if suffix in (".json", ".csv"):  # millions of pairs: never the whole text in memory
        atomic_write(path, json_chunks(report) if suffix == ".json" else csv_chunks(report))
    else:
        atomic_write(path, renderers[suffix](report))
    return path


def to_json(report: DedupReport) -> dict:
    """The stable JSON document (as a dict)."""
    return {"pairs": [_pair_json(report, p) for p in report.result.pairs], **_json_rest(report)}


def _pair_json(report: DedupReport, p: Pair) -> dict:
    titles = {"title_a": report.titles.get(p.a, ""), "title_b": report.titles.get(p.b, "")}
    return {"a": p.a, "b": p.b, **titles, "score": p.score, "kind": p.kind, "reason": p.reason, "group": p.group}


def _json_rest(report: DedupReport) -> dict:
    """Everything in the JSON document but the pairs."""
    return {
        "groups": [
            {
                "group": g.group,
                "ids": list(g.ids),
                "kind": g.kind,
                "score": g.score,
                "titles": [report.titles.get(pid, "") for pid in g.ids],
                "keep": report.impact[g.group].keep,
                "units": report.impact[g.group].units,
                "split_units": report.impact[g.group].split_units,
            }
            for g in report.groups_by_impact()
        ],
        "ranges": [
            {
                "range": n,
                "axis": r.axis,
                "template": r.template,
                "members": [{"id": pid, "title": report.titles.get(pid, ""), "value": v} for pid, v in r.members],
            }
            for n, r in enumerate(report.ranges, start=1)
        ],
        "untitled": list(report.untitled),
        "advice": list(report.advice),
        "settings": report.settings,
        "summary": summary(report),
    }


def to_json_text(report: DedupReport) -> str:
    return "".join(json_chunks(report))


def json_chunks(report: DedupReport) -> Iterator[str]:
    """``json.dumps(to_json(report), indent=2, ensure_ascii=False)`` in pieces, the same text.

    The standard encoder formats indented JSON in pure Python (a minute for a million
    pairs); a pair has a fixed shape, so its text is written directly with the C string
    encoder and the rest of the document goes through ``json.dumps``.
    """
    rest = json.dumps({"pairs": [], **_json_rest(report)}, indent=2, ensure_ascii=False)
    head, tail = rest.split('"pairs": []', 1)
    if not report.result.pairs:
        yield rest
        return
    yield head + '"pairs": [\n'
    pairs, titles = report.result.pairs, report.titles
    for start in range(0, len(pairs), 10_000):
        yield ",\n".join(_pair_text(p, titles.get(p.a, ""), titles.get(p.b, "")) for p in pairs[start : start + 10_000])
        yield ",\n" if start + 10_000 < len(pairs) else "\n  ]"
    yield tail


_encode = json.encoder.encode_basestring  # what json.dumps uses for str with ensure_ascii=False


def _pair_text(p: Pair, title_a: str, title_b: str) -> str:
    group = "null" if p.group is None else int(p.group)
    return (
        f'    {{\n      "a": {_encode(p.a)},\n      "b": {_encode(p.b)},\n'
        f'      "title_a": {_encode(title_a)},\n      "title_b": {_encode(title_b)},\n'
        f'      "score": {float(p.score)!r},\n'
        f'      "kind": {_encode(p.kind)},\n      "reason": {_encode(p.reason)},\n      "group": {group}\n    }}'
    )


def summary(report: DedupReport) -> dict[str, float | int]:
    """Headline figures shared by every format and the terminal."""
    result = report.result
    return {
        "records": result.records,
        "groups": len(result.groups),
        "duplicate_ratio": round(result.duplicate_ratio, 4),
        **{kind: result.count(kind) for kind in KINDS},
        "ranges": len(report.ranges),
        "untitled": len(report.untitled),
    }


def csv_chunks(report: DedupReport) -> Iterator[str]:
    """One row per pair, with both titles, the group's sales and the range both belong to, written in pieces."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["a", "b", "score", "kind", "reason", "group", "title_a", "title_b", "group_split_units", "range", "range_axis"]
    )
    range_of = report.range_of()
    for n, p in enumerate(report.result.pairs, start=1):
        split = report.impact[p.group].split_units if p.group is not None else ""
        shared = range_of.get(p.a) if range_of.get(p.a) == range_of.get(p.b) else None
        writer.writerow(
            [
                p.a,
                p.b,
                p.score,
                p.kind,
                p.reason,
                p.group or "",
                report.titles.get(p.a, ""),
                report.titles.get(p.b, ""),
                split,
                shared or "",
                report.ranges[shared - 1].axis if shared else "",
            ]
        )
        if n % 10_000 == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def to_markdown(report: DedupReport) -> str:
    """Summary, then groups by impact with their pairs."""
    lines = ["# Duplicate report", "", _summary_line(report), "", "## Groups by sales split", ""]
    pairs_of = _pairs_by_group(report)
    for g in report.groups_by_impact():
        impact = report.impact[g.group]
        lines.append(f"### Group {g.group} ({g.kind}, {len(g.ids)} records, {impact.split_units:,.0f} units split)")
        lines.append("")
        lines.append("| a | b | score | kind | reason |")
        lines.append("|---|---|---|---|---|")
        for p in pairs_of.get(g.group, []):
            lines.append(f"| {_md(report, p.a)} | {_md(report, p.b)} | {p.score:.2f} | {p.kind} | {p.reason} |")
        lines.append("")
    if report.ranges:
        lines += ["## Ranges (variants of one family: keep them apart)", ""]
        for n, r in enumerate(report.ranges, start=1):
            values = ", ".join(f"{v} ({pid})" for pid, v in r.members)
            lines.append(f"- Range {n}, {r.axis}: `{r.template}`: {values}")
        lines.append("")
    others = report.result.pairs_of("variant", ungrouped=True)
    if others:
        lines += ["## Variants (not merged)", "", "| a | b | score | reason |", "|---|---|---|---|"]
        lines += [f"| {_md(report, p.a)} | {_md(report, p.b)} | {p.score:.2f} | {p.reason} |" for p in others]
    if report.untitled:
        lines += ["", f"{len(report.untitled):,} records have no title to match on: " + ", ".join(report.untitled)]
    lines += ["", *report.advice] if report.advice else []
    return "\n".join(lines) + "\n"


def _md(report: DedupReport, pid: str) -> str:
    return f"{pid}: {report.titles.get(pid, '')}".replace("|", "\\|")


def _summary_line(report: DedupReport) -> str:
    s = summary(report)
    what = {"catalog": "catalog products", "candidates": "candidates", "file": "file records"}[report.result.mode]
    return (
        f"{s['records']:,} {what}; {s['groups']:,} groups; duplicate ratio {s['duplicate_ratio']:.1%}; "
        f"pairs: {s['exact']} exact, {s['near_duplicate']} near-duplicate, {s['variant']} variant, "
        f"{s['similar']} similar (threshold {report.result.threshold:.2f}); {s['ranges']:,} ranges; "
        f"{s['untitled']:,} records with no title"
    )


def _pairs_by_group(report: DedupReport) -> dict[int, list]:
    grouped: dict[int, list] = {}
    for p in report.result.duplicates:
        if p.group is not None:
            grouped.setdefault(p.group, []).append(p)
    return grouped


def highlight(text: str, other: str) -> Markup:
    """HTML of ``text`` with the words ``other`` lacks marked; escaped here, so a template shows it as it is."""
    from markupsafe import Markup, escape

    theirs = set(words(other))
    marked = Markup("<mark>{}</mark>")
    return Markup(" ").join(marked.format(t) if any(w not in theirs for w in words(t)) else escape(t)
                            for t in text.split())


def histogram(report: DedupReport) -> dict:
    """Similarity of every mined pair before conflict penalties, stacked by kind, with the threshold marked."""
    from nextdrop.render.html import bar_chart

    result = report.result
    edges = [i / 40 for i in range(16, 41)]
    stacks = {kind: np.histogram(result.mined.base[result.kind == code], bins=edges)[0]
              for code, kind in enumerate(KINDS)}
    return bar_chart(edges, stacks, KIND_COLOURS, marker=result.threshold,
                     marker_label=f"threshold {result.threshold:.2f}", x_ticks=[i / 10 for i in range(4, 11)],
                     x_title="similarity before conflict penalties", y_title="pairs (log scale)",
                     label="similarity of mined pairs by kind")


def to_html(report: DedupReport) -> str:
    """One self-contained page (``render/templates/dedup.html``): figures, histogram, groups by impact, ranges."""
    from nextdrop.render.html import page

    s = summary(report)
    figures = [
        ("records", f"{s['records']:,}"),
        ("groups", f"{s['groups']:,}"),
        ("duplicate ratio", f"{s['duplicate_ratio']:.1%}"),
        ("exact", s["exact"]),
        ("near-duplicate", s["near_duplicate"]),
        ("variant", s["variant"]),
        ("similar", s["similar"]),
        ("ranges", s["ranges"]),
        ("no title", s["untitled"]),
    ]
    pairs_of = _pairs_by_group(report)
    groups = []
    for g in report.groups_by_impact():
        impact = report.impact[g.group]
        groups.append({
            "group": g.group, "kind": g.kind, "size": len(g.ids), "units": impact.units, "split": impact.split_units,
            "keep": f"{impact.keep}: {report.titles.get(impact.keep, '')}",
            "pairs": [_pair_row(report, p) for p in pairs_of.get(g.group, [])],
        })
    unmerged = report.result.pairs_of("variant", "near_duplicate", ungrouped=True, limit=500)
    return page(
        "dedup.html", summary=_summary_line(report), figures=figures, histogram=histogram(report), groups=groups,
        ranges=report.ranges[:500], unmerged=[_pair_row(report, p) for p in unmerged],
        untitled=report.untitled[:200], untitled_count=len(report.untitled), settings=json.dumps(report.settings),
        advice=report.advice,
    )


def _pair_row(report: DedupReport, p: Pair) -> dict:
    """A pair as the report's tables show it: both titles with the words the other lacks marked."""
    ta, tb = report.titles.get(p.a, ""), report.titles.get(p.b, "")
    return {"kind": p.kind, "score": p.score, "colour": KIND_COLOURS[p.kind], "a": p.a, "b": p.b,
            "title_a": highlight(ta, tb), "title_b": highlight(tb, ta), "reason": p.reason}
