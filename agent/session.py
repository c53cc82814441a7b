"""The agent: ``create_agent`` with the workspace's tools, a brain, the system prompt and middleware.

Middleware, outermost first: LangChain's model-call and tool-call limits, PII redaction before a
remote brain, then the grounding guard around every model call. Conversations persist in
``.nextdrop/chats.sqlite`` (LangGraph's SQLite checkpointer), one thread per chat.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from langchain.agents import create_agent
from langchain.agents.middleware import (
    ModelCallLimitMiddleware,
    ModelFallbackMiddleware,
    PIIMiddleware,
    ToolCallLimitMiddleware,
)
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from nextdrop.agent.answers import compose, say, turn_results
from nextdrop.agent.brains import BrainSpec, brain_spec, chat_model
from nextdrop.agent.grounding import GROUNDING_KEY, GroundingGuard, check, footnoted
from nextdrop.agent.offline import OFFLINE_MODEL, OfflineBrain
from nextdrop.agent.registry import build_tools
from nextdrop.agent.router import IntentRouter, prompt_text, router_embedder
from nextdrop.agent.slots import Lexicon
from nextdrop.store.workspace import Workspace

LAST_THREAD = "chats.last"


@dataclass
class Answer:
    """One question's answer, the tools it called, and whether every number in it is grounded."""

    text: str
    tool_calls: list[dict]
    grounded: bool
    brain: str
    sources: str  # the answer with each number footnoted by its tool call
    retried: bool = False
    fallback: bool = False

    def to_json(self) -> dict:
        return {"answer": self.text, "tool_calls": self.tool_calls, "grounded": self.grounded, "brain": self.brain}


@dataclass
class Assistant:
    """A workspace's agent with one brain; ``ask`` answers a question, in a thread when memory is on."""

    ws: Workspace
    spec: BrainSpec
    memory: bool = False
    model: BaseChatModel | None = None  # a ready chat model (tests), instead of the spec's
    router: IntentRouter | None = None  # a ready router (tests share one), instead of the workspace's
    _conn: sqlite3.Connection | None = field(default=None, repr=False)

    @classmethod
    def open(cls, ws: Workspace, llm: str | None = None, memory: bool = False) -> Assistant:
        return cls(ws, brain_spec(ws.settings.agent, llm), memory)

    @cached_property
    def offline(self) -> OfflineBrain:
        """The offline brain: the default, and the templated fallback of any other."""
        router = self.router or IntentRouter(router_embedder(self.ws.dir / "cache"))
        router.save()
        return OfflineBrain(router=router, lexicon=Lexicon.read(self.ws))

    @cached_property
    def agent(self) -> Any:
        model = self.model or (self.offline if self.spec.offline else chat_model(self.spec))
        middleware: list[Any] = [
            ModelCallLimitMiddleware(run_limit=self.ws.settings.agent.max_tool_calls + 2, exit_behavior="end"),
            ToolCallLimitMiddleware(run_limit=self.ws.settings.agent.max_tool_calls, exit_behavior="end"),
        ]
        if not self.spec.offline:  # a brain that fails (a server down, a refused key) hands over to the offline one
            middleware.append(ModelFallbackMiddleware(self.offline))
        if self.spec.remote:
            middleware += [PIIMiddleware(kind, strategy="redact", apply_to_tool_results=True)
                           for kind in ("email", "credit_card", "ip")]
        retry = self.model is not None or not self.spec.offline  # the offline brain's answer is the templated one
        middleware.append(GroundingGuard(self.templated, self.spec.name, retry=retry))
        return create_agent(model, build_tools(self.ws), system_prompt=prompt_text("system.md"),
                            middleware=middleware, checkpointer=self._checkpointer())

    def templated(self, messages: list[BaseMessage]) -> str:
        """The offline brain's answer from the turn's tool results (the guard's fallback)."""
        return compose(turn_results(messages)) or say("unclear")

    def _checkpointer(self) -> Any:
        if not self.memory:
            return None
        from langgraph.checkpoint.sqlite import SqliteSaver

        self._conn = sqlite3.connect(self.ws.dir / "chats.sqlite", check_same_thread=False)
        return SqliteSaver(self._conn)

    def thread(self, resume: bool) -> str:
        """The chat thread: yesterday's (``--resume``) or a new one, remembered as the last."""
        last = self.ws.dir / LAST_THREAD
        if resume and last.exists():
            return last.read_text(encoding="utf-8").strip()
        thread = time.strftime("chat-%Y%m%d-%H%M%S")
        last.write_text(thread, encoding="utf-8")
        return thread

    def history(self, thread: str) -> list[BaseMessage]:
        """The messages of a persisted thread (empty without memory or for a new thread)."""
        if not self.memory:
            return []
        state = self.agent.get_state({"configurable": {"thread_id": thread}})
        return list(state.values.get("messages", [])) if state and state.values else []

    def ask(self, question: str, thread: str = "ask", on_tool: Callable[[str], None] | None = None,
            cancel: threading.Event | None = None) -> Answer:
        """Run the agent on one question; ``on_tool`` hears the name of each tool before it runs.

        ``cancel`` stops the turn between two steps (the chat's Ctrl-C): the answer so far is returned.
        """
        config = {"configurable": {"thread_id": thread}, "recursion_limit": 40}
        before = len(self.history(thread))
        messages: list[BaseMessage] = []
        for update in self.agent.stream({"messages": [HumanMessage(question)]}, config, stream_mode="values"):
            if cancel is not None and cancel.is_set():
                break
            messages = update["messages"]
            last = messages[-1] if messages else None
            if on_tool and isinstance(last, AIMessage):
                for call in last.tool_calls:
                    on_tool(call["name"])
        return self._answer(messages[before:] if self.memory else messages)

    def _answer(self, turn: list[BaseMessage]) -> Answer:
        calls = [{"name": c["name"], "args": c["args"]} for m in turn if isinstance(m, AIMessage) for c in m.tool_calls]
        final = next((m for m in reversed(turn) if isinstance(m, AIMessage) and not m.tool_calls), None)
        text = final.text if final else say("unclear")
        verdict = (final.response_metadata.get(GROUNDING_KEY, {}) if final else {})
        results = turn_results(turn)
        check_now = check(text, results, next((m.text for m in turn if isinstance(m, HumanMessage)), ""))
        brain = self.spec.name
        if final is not None and not self.spec.offline and final.response_metadata.get("model_name") == OFFLINE_MODEL:
            brain = f"offline (fallback: {self.spec.name} failed)"
        return Answer(text=text, tool_calls=calls, grounded=bool(verdict.get("grounded", check_now.grounded)),
                      brain=brain, sources=footnoted(text, check_now, results),
                      retried=bool(verdict.get("retried")), fallback=bool(verdict.get("fallback")))

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
