"""Answers in words from tool results, through the templates in ``prompts/answers.toml``.

Every figure an answer shows is a value of a tool result, formatted but not computed here, which is
what makes the offline brain's answers grounded by construction.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from functools import cache
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from nextdrop.agent.router import prompt_text


@dataclass(frozen=True)
class ToolResult:
    """One tool call of the turn and what it returned (a dict, or the error text)."""

    name: str
    args: dict
    data: dict | None
    error: str | None = None


@cache
def templates() -> dict[str, str]:
    return tomllib.loads(prompt_text("answers.toml"))


def say(key: str, **values: Any) -> str:
    return templates()[key].format(**values)


def turn_results(messages: list[BaseMessage]) -> list[ToolResult]:
    """The tool calls made since the last human message, with their results, in order."""
    start = max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=-1)
    calls = {c["id"]: c for m in messages[start + 1:] if isinstance(m, AIMessage) for c in m.tool_calls}
    out = []
    for m in messages[start + 1:]:
        if not isinstance(m, ToolMessage):
            continue
        call = calls.get(m.tool_call_id, {"name": m.name or "", "args": {}})
        text = m.content if isinstance(m.content, str) else json.dumps(m.content)
        data = None
        if m.status != "error":
            try:
                data = json.loads(text)
            except json.JSONDecodeError:
                data = None
        out.append(ToolResult(call["name"], call.get("args", {}), data if isinstance(data, dict) else None,
                              None if isinstance(data, dict) else text.removeprefix("Error: ")))
    return out


def compose(results: list[ToolResult]) -> str:
    """One paragraph per tool result, in the order the tools ran (a search that led to a forecast: the forecast)."""
    shown = [r for r in results if not (r.name == "search_catalog" and len(results) > 1 and r.data)]
    return "\n\n".join(_answer(r) for r in shown)


def _answer(r: ToolResult) -> str:
    if r.data is None:
        return say("error", error=r.error)
    d = r.data
    match r.name:
        case "store_status":
            named = [c for c in d["categories"] if c["category"] != "(none)"]
            top = ", ".join(f"{c['category']} ({c['products']:,})" for c in named[:3])
            cats = say("categories", categories=top) if named else say("no_categories")
            q = f"\n{d['quarantined_rows']:,} rows are in quarantine." if d["quarantined_rows"] else ""
            return say("store_status", **(d | {"categories": cats, "quarantine": q}))
        case "search_catalog":
            lines = "\n".join(say("search_line", **h) for h in d["hits"])
            return say("search_catalog", query=d["query"], lines=lines)
        case "find_duplicates":
            where = "among the candidates" if d["scope"] == "candidates" else "in the catalog"
            flt = f" with \"{d['contains']}\" in a title" if d.get("contains") else ""
            if not d["groups"]:
                return say("duplicates_none", where=where, filter=flt)
            lines = "\n".join(say("duplicates_line", **(g | {"members": " and ".join(
                f"\"{m['title']}\" ({m['id']})" for m in g["members"])})) for g in d["groups"])
            return say("duplicates", groups_found=d["groups_found"], where=where, filter=flt, lines=lines)
        case "forecast_product" | "forecast_category":
            err = f", backtest error {d['backtest_mae']} units a week" if d.get("backtest_mae") is not None else ""
            lines = "\n".join(say("forecast_line", **w) for w in d["weeks"][:4])
            if d.get("incomplete_period"):
                lines += "\n\n" + say("incomplete", text=d["incomplete_period"].capitalize())
            return say("forecast_series", **d, n=len(d["weeks"]), error=err, lines=lines)
        case "forecast_candidate":
            items = ", ".join(say("analog_item", **a) for a in d["analogs"])
            return say("forecast_candidate", **(d | {"analogs": say("analogs", items=items) if items else ""}))
        case "backtest_forecast":
            lines = "; ".join(say("backtest_item", name=n, wape=s.get("wape")) for n, s in d["methods"].items())
            return say("backtest_forecast", **d, lines=lines)
        case "plan":
            return _plan(d)
        case "explain":
            return _explain(d)
        case "cadence":
            seasonal = "".join(say("cadence_season", **x) for x in d["seasonal"])
            months = ", ".join(f"{m['month']} ({m['launches']:,})" for m in d["busiest_months"])
            return say("cadence", **(d | {"months": months, "seasonal": seasonal}))
        case "review":
            if not d["launches"]:
                return say("review_none", since=d["since"])
            lines = "\n".join(say("review_line", **x) for x in d["launches"][:8])
            cal = say("review_calibration", factor=d["calibration"]) if d["calibration"] is not None else ""
            return say("review", since=d["since"], n=len(d["launches"]), lines=lines, calibration=cal)
    return json.dumps(d)


def _plan(d: dict) -> str:
    """A launch plan in words: what, which day, how many to order, why, what it should bring, what was left out."""
    launches = d.get("launches", [])
    if not launches:
        return say("plan_none", week=d["start"])
    lines = []
    for n, x in enumerate(launches, start=1):
        like = " and ".join(say("analog_item", **a) for a in x.get("analogs", []))
        lines.append(say("plan_line", n=n, **x) + (say("plan_why", analogs=like) if like else ""))
    excluded = ""
    if d["excluded"]:  # how many for each kind of reason, and the first of each kind with its reason
        kinds = ", ".join(say("plan_excluded_kind", n=n, kind=kind) for kind, n in d["excluded_by_kind"].items())
        first = {e["kind"]: e for e in reversed(d["excluded"])}
        examples = "\n".join(say("plan_excluded_item", **first[kind]) for kind in d["excluded_by_kind"])
        excluded = say("plan_excluded", n=d["excluded_total"], kinds=kinds, items=examples)
    return say("plan", week=d["start"], lines="\n".join(lines), excluded=excluded)


def _explain(d: dict) -> str:
    """A candidate's score in its signed parts, and what its forecast rests on."""
    parts = "\n".join(say("explain_part", **p) for p in d["parts"])
    like = ", ".join(say("analog_item", **a) for a in d["analogs"])
    never = say("explain_never", reason=d["never_planned_because"]) if d["never_planned_because"] else ""
    assumed = say("explain_assumed") if d["margin_assumed"] else ""
    return say("explain", **(d | {"parts": parts, "analogs": say("analogs", items=like) if like else "",
                                   "never": never, "assumed": assumed}))
