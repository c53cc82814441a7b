"""The offline brain: a LangChain chat model that needs no network and no LLM.

Each turn it routes the merchant's last message to an intent (``router``), fills the arguments of
that intent's tool (``slots``, ``dates``), asks a clarifying question when the message is unclear,
and once the tools have answered writes the reply from templates (``answers``). It is stateless:
every step is decided from the messages alone, so the agent loop, memory and middleware treat it
exactly as they would a remote model.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.tools import BaseTool
from pydantic import ConfigDict

from nextdrop.agent import slots
from nextdrop.agent.answers import ToolResult, compose, say, turn_results
from nextdrop.agent.dates import parse_span
from nextdrop.agent.router import IntentRouter
from nextdrop.agent.slots import Lexicon

INTENT_WORDS = {"plan": "a launch plan", "explain": "why a candidate ranks where it does",
                "cadence": "the store's launch cadence", "review": "a review of past launches",
                "duplicates": "duplicates", "forecast": "a forecast", "search": "a catalog search",
                "backtest": "forecast accuracy", "status": "the store's status", "help": "help"}
Call = tuple[str, dict[str, Any]]
OFFLINE_MODEL = "nextdrop-offline"  # the model_name of its messages: how an answer shows it came from here
MATCH = 0.5  # a catalog search hit below this cosine is not the product the merchant named


class OfflineBrain(BaseChatModel):
    """Routes by meaning to tools, fills their arguments, answers from templates."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    router: IntentRouter
    lexicon: Lexicon
    tool_names: frozenset[str] = frozenset()

    @property
    def _llm_type(self) -> str:
        return OFFLINE_MODEL

    def bind_tools(self, tools: Sequence[BaseTool | dict | Callable], **kwargs: Any) -> OfflineBrain:
        """The brain with these tools to call (only names matter: it never reads their descriptions)."""
        names = {t.name if isinstance(t, BaseTool) else t.get("name", "") if isinstance(t, dict) else t.__name__
                 for t in tools}
        return self.model_copy(update={"tool_names": frozenset(names)})

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None,
                  **kwargs: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self.step(messages))])

    def step(self, messages: list[BaseMessage]) -> AIMessage:
        """The next message of the turn: tool calls, or the answer."""
        question = _last_question(messages)
        results = turn_results(messages)
        decision = self.decide(question, results)
        if isinstance(decision, str):
            return AIMessage(content=decision, response_metadata={"model_name": OFFLINE_MODEL})
        return AIMessage(content="", response_metadata={"model_name": OFFLINE_MODEL}, tool_calls=[
            {"name": name, "args": args, "id": f"call_{uuid.uuid4().hex[:12]}", "type": "tool_call"}
            for name, args in decision])

    def decide(self, question: str, results: list[ToolResult]) -> str | list[Call]:
        """Tool calls to make next, or the answer's text once there is nothing left to call."""
        if results:
            follow = self._follow_up(question, results)
            return follow if follow is not None else compose(results)
        route = self.router.route(question)
        if route.unclear:
            return say("unclear")
        if route.ambiguous:
            first, second = (INTENT_WORDS[name] for name, _ in route.ranked[:2])
            return say("ambiguous", first=first, second=second)
        return self.calls(route.intent, question)

    def calls(self, intent: str, question: str) -> str | list[Call]:
        """The tool calls that answer ``intent`` for this message (or a question back)."""
        lex = self.lexicon
        if intent == "help":
            return say("help")
        tools = [t for t in self.router.by_name[intent].tools if t in self.tool_names]
        if not tools:
            return say("unavailable", what=INTENT_WORDS[intent].capitalize(), alternatives=say("alternatives"))
        if intent == "forecast":
            return self._forecast(question)
        if intent == "search":
            phrase = slots.name_phrase(question)
            return [("search_catalog", {"query": phrase, "k": slots.top_k(question) or 5})] if phrase \
                else say("need_search")
        if intent == "duplicates":
            scope = "candidates" if "candidate" in question.casefold() or "idea" in question.casefold() \
                else "catalog"
            args: dict[str, Any] = {"scope": scope, "limit": slots.top_k(question) or 5}
            phrase = slots.name_phrase(question.replace("candidate", ""))
            if phrase:
                args["contains"] = phrase.split()[-1]
            return [("find_duplicates", args)]
        if intent == "backtest":
            return [("backtest_forecast", {"weeks": slots.weeks_ahead(question) or 8})]
        if intent == "status":
            return [("store_status", {})]
        if intent == "plan":
            span = parse_span(question, lex.today) or parse_span("next week", lex.today)
            args = {"week": span.week.isoformat(), "weeks": span.weeks}
            for key, value in (("max_per_week", slots.count_per_week(question)), ("budget", slots.budget(question)),
                               ("service_level", slots.service_level(question))):
                if value is not None:
                    args[key] = value
            return [("plan", args)]
        if intent == "explain":
            candidate = slots.find_candidate(question, lex)
            example = next(iter(lex.candidates), "C100")
            return [("explain", {"candidate_id": candidate})] if candidate else say("need_candidate", example=example)
        return [(tools[0], {})]

    def _forecast(self, question: str) -> str | list[Call]:
        lex = self.lexicon
        weeks = slots.weeks_ahead(question) or 8
        if candidate := slots.find_candidate(question, lex):
            return [("forecast_candidate", {"candidate_id": candidate, "weeks": weeks})]
        if product := slots.find_product_id(question, lex):
            return [("forecast_product", {"product_id": product, "weeks": weeks})]
        phrase = slots.name_phrase(question)
        category = slots.find_category(question, lex)
        if category and slots.only_names(phrase, category):
            return [("forecast_category", {"category": category, "weeks": weeks})]
        if re.search(r"\bcategor(y|ies)\b", question, re.IGNORECASE) and phrase:  # the tool's error lists them
            return [("forecast_category", {"category": re.sub(r"\s*\bcategor(y|ies)\b\s*", " ", phrase).strip(),
                                           "weeks": weeks})]
        if phrase:
            return [("search_catalog", {"query": phrase, "k": 3})]
        example = next(iter(lex.candidates), "C100")
        return say("need_product", example=example)

    def _follow_up(self, question: str, results: list[ToolResult]) -> str | list[Call] | None:
        """A product named by title was looked up: forecast the best match (or say none matched)."""
        last = results[-1]
        if last.name != "search_catalog" or last.data is None or len(results) > 1:
            return None
        if self.router.route(question).intent != "forecast":
            return None
        hits = last.data["hits"]
        if not hits or (hits[0]["similarity"] or 0) < MATCH:
            return say("not_found", phrase=last.args.get("query", ""))
        return [("forecast_product", {"product_id": hits[0]["product_id"],
                                      "weeks": slots.weeks_ahead(question) or 8})]


def _last_question(messages: list[BaseMessage]) -> str:
    for m in reversed(messages):
        if isinstance(m, HumanMessage):
            return m.content if isinstance(m.content, str) else str(m.content)
    return ""
