"""The grounding guard: every number in a final answer must come from a tool result of that turn.

A number is grounded when some figure of the turn's tool results (or of the merchant's own
question) equals it within the rounding the answer shows: "1,234" matches 1234.4, "1.2k" matches
1190, "95%" matches 0.95. List markers ("1." at the start of a line) are not figures. A violation
goes back to the model once with the allowed facts; if it persists, the offline brain's templated
answer replaces it and says so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from langchain.agents.middleware import AgentMiddleware, ModelRequest, ModelResponse
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from nextdrop.agent.answers import ToolResult, say, turn_results

NUMBER = re.compile(r"(?<![\w.])[-−]?\d[\d,]*(?:\.\d+)?\s?(?:[kKmM](?![a-zA-Z])|%)?")
DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
LIST_MARKER = re.compile(r"^\s*(\d+)[.)]\s", re.MULTILINE)
GROUNDING_KEY = "nextdrop_grounding"


@dataclass(frozen=True)
class Figure:
    """A number as written in an answer, and the value it stands for."""

    text: str
    value: float
    tolerance: float
    start: int
    end: int


@dataclass
class Verdict:
    """Which numbers of an answer no tool gave, and which tool call gave each of the others."""

    ungrounded: list[str] = field(default_factory=list)
    sources: list[tuple[Figure, int]] = field(default_factory=list)  # figure, index of the tool call

    @property
    def grounded(self) -> bool:
        return not self.ungrounded


def _date_value(date: str) -> float:
    return float(date.replace("-", ""))


def figures(text: str) -> list[Figure]:
    """The numbers of a text with the value and rounding each shows (list markers and ids' digits left out).

    An ISO date is one figure (2011-12-05 must be a date some tool gave, not three small numbers).
    """
    markers = {m.start(1) for m in LIST_MARKER.finditer(text)}
    dates = [Figure(m.group(), _date_value(m.group()), 0.5, m.start(), m.end()) for m in DATE.finditer(text)]
    out = list(dates)
    for m in NUMBER.finditer(text):
        raw = m.group().strip()
        if m.start() in markers:
            continue
        if any(d.start <= m.start() < d.end for d in dates):
            continue
        after = text[m.start() + len(raw):m.start() + len(raw) + 1]
        if (m.start() > 0 and text[m.start() - 1].isalnum()) or (after.isalnum() and raw[-1].isdigit()):
            continue  # the digits of an id such as C100, SKU12 or 85123A
        number = raw.rstrip("kKmM%").replace(",", "").replace("−", "-").strip()
        if number in {"", "-"}:
            continue
        scale = {"k": 1e3, "m": 1e6}.get(raw[-1].lower(), 1.0)
        decimals = len(number.split(".")[1]) if "." in number else 0
        value = float(number) * scale
        out.append(Figure(raw, value, 0.5 * 10 ** -decimals * scale + 1e-9, m.start(), m.start() + len(raw)))
    return sorted(out, key=lambda f: f.start)


def facts(value: Any) -> list[float]:
    """Every number in a tool result: its figures, and the digits inside its strings (dates, ids)."""
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, int | float):
        return [float(value)]
    if isinstance(value, str):
        return [float(x.replace(",", "")) for x in re.findall(r"\d[\d,]*(?:\.\d+)?", value)] + \
            [_date_value(d) for d in DATE.findall(value)]
    if isinstance(value, dict):
        return [f for v in value.values() for f in facts(v)]
    if isinstance(value, list | tuple):
        return [f for v in value for f in facts(v)]
    return []


def check(answer: str, results: list[ToolResult], question: str = "") -> Verdict:
    """Match each number of ``answer`` to a figure of the tool results (or of the question)."""
    pools = [facts(r.args) + facts(r.data if r.data is not None else r.error) for r in results]
    asked = facts(question)
    verdict = Verdict()
    for fig in figures(answer):
        candidates = [fig.value, fig.value / 100] if fig.text.endswith("%") else [fig.value]
        source = next((i for i, pool in enumerate(pools)
                       for f in pool for v in candidates if abs(abs(f) - abs(v)) <= fig.tolerance), None)
        if source is not None:
            verdict.sources.append((fig, source))
        elif not any(abs(f - v) <= fig.tolerance for f in asked for v in candidates):
            verdict.ungrounded.append(fig.text)
    return verdict


def allowed_facts(results: list[ToolResult]) -> str:
    """The tool results of the turn, as the facts a retry may use."""
    return "\n".join(f"- {r.name}({json.dumps(r.args)}): {json.dumps(r.data) if r.data else r.error}"
                     for r in results)


def footnoted(answer: str, verdict: Verdict, results: list[ToolResult]) -> str:
    """The answer with each grounded number footnoted by the tool call it came from."""
    used: list[int] = []
    pieces, last = [], 0
    for fig, source in sorted(verdict.sources, key=lambda s: s[0].start):
        if source not in used:
            used.append(source)
        pieces += [answer[last:fig.end], f"[{used.index(source) + 1}]"]
        last = fig.end
    pieces.append(answer[last:])
    notes = [f"[{n}] {results[i].name}({', '.join(f'{k}={v!r}' for k, v in results[i].args.items())})"
             for n, i in enumerate(used, start=1)]
    return "".join(pieces) + ("\n\n" + "\n".join(notes) if notes else "")


class GroundingGuard(AgentMiddleware):
    """Checks each final answer's numbers; retries once with the facts, then falls back to the templates."""

    def __init__(self, fallback: Callable[[list[BaseMessage]], str], brain: str, retry: bool = True) -> None:
        super().__init__()
        self.fallback = fallback
        self.brain = brain
        self.retry = retry  # off for the offline brain, whose answer is the templated one already

    def wrap_model_call(self, request: ModelRequest, handler: Callable[[ModelRequest], ModelResponse]
                        ) -> ModelResponse:
        response = handler(request)
        answer = _final(response)
        if answer is None:
            return response
        results = turn_results(request.messages)
        question = _question(request.messages)
        verdict = check(_text(answer), results, question)
        if verdict.grounded:
            return _marked(response, answer, grounded=True, retried=False)
        if self.retry:
            second = handler(request.override(messages=[*request.messages, answer, HumanMessage(
                "Your answer quotes numbers that no tool result of this turn contains: "
                f"{', '.join(verdict.ungrounded)}. Answer again using only these facts, and no other numbers:\n"
                + allowed_facts(results))]))
            again = _final(second)
            if again is not None and check(_text(again), results, question).grounded:
                return _marked(second, again, grounded=True, retried=True, first=verdict.ungrounded)
        templated = self.fallback(list(request.messages))
        text = say("fallback_note", brain=self.brain, numbers=", ".join(verdict.ungrounded)) + "\n\n" + templated
        return _marked(ModelResponse(result=[AIMessage(content=text)]), None, retried=self.retry,
                       grounded=check(templated, results, question).grounded, first=verdict.ungrounded,
                       fallback=True)


def _final(response: ModelResponse) -> AIMessage | None:
    """The response's answer, if it is one (not a request for tools)."""
    last = response.result[-1] if response.result else None
    return last if isinstance(last, AIMessage) and not last.tool_calls else None


def _text(message: AIMessage) -> str:
    return message.content if isinstance(message.content, str) else message.text


def _question(messages: list[BaseMessage]) -> str:
    return next((m.text for m in reversed(messages) if isinstance(m, HumanMessage)), "")


def _marked(response: ModelResponse, answer: AIMessage | None, **verdict: Any) -> ModelResponse:
    """The response with the guard's verdict in the answer's metadata (for ``ask --json`` and the chat)."""
    message = answer or response.result[-1]
    marked = message.model_copy(update={"response_metadata": {**message.response_metadata, GROUNDING_KEY: verdict}})
    return ModelResponse(result=[*response.result[:-1], marked], structured_response=response.structured_response)
