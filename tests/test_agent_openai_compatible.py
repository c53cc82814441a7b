"""An OpenAI-compatible brain over real HTTP: a chat-completions server on 127.0.0.1 that the test starts.

The agent reaches it exactly as it would a merchant's Ollama, vLLM or llama.cpp server:
``--llm openai:MODEL`` with ``agent.base_url``, through LangChain's ``init_chat_model``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from test_agent import _products, _store
from typer.testing import CliRunner

from nextdrop.agent import session
from nextdrop.agent.router import IntentRouter
from nextdrop.cli import app
from nextdrop.store.workspace import Workspace

pytest.importorskip("langchain_openai")


class ChatServer(ThreadingHTTPServer):
    """Replies to each POST /v1/chat/completions with the next queued assistant message; keeps the requests."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.replies: list[dict] = []
        self.requests: list[dict] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _Handler(BaseHTTPRequestHandler):
    server: ChatServer

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(body)
        message = self.server.replies.pop(0)
        payload = json.dumps({
            "id": f"chatcmpl-{len(self.server.requests)}", "object": "chat.completion", "created": 0,
            "model": body["model"],
            "choices": [{"index": 0, "message": message,
                         "finish_reason": "tool_calls" if message.get("tool_calls") else "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ChatServer]:
    chat = ChatServer()
    thread = threading.Thread(target=chat.serve_forever, daemon=True)
    thread.start()
    yield chat
    chat.shutdown()
    chat.server_close()


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return _store(tmp_path_factory.mktemp("http-shop"))


def _tool_call(name: str, args: dict) -> dict:
    return {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}]}


def test_an_openai_compatible_server_drives_the_tools_and_the_guard_repairs_it(
        shop: Workspace, server: ChatServer, monkeypatch: pytest.MonkeyPatch, intent_router: IntentRouter) -> None:
    monkeypatch.setattr(session, "router_embedder", lambda cache: intent_router.embedder)
    monkeypatch.setenv("NEXTDROP_AGENT_BASE_URL", server.url)
    n = _products(shop)
    server.replies = [_tool_call("store_status", {}),
                      {"role": "assistant", "content": "You have 9,999 products."},
                      {"role": "assistant", "content": f"You have {n:,} products."}]
    result = CliRunner().invoke(app, ["ask", "how big is my catalog?", "--llm", "openai:local-model", "--json",
                                      "-w", str(shop.root)])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out == {"answer": f"You have {n:,} products.", "tool_calls": [{"name": "store_status", "args": {}}],
                   "grounded": True, "brain": "openai:local-model"}
    first, second, third = server.requests
    assert first["model"] == "local-model"
    assert {t["function"]["name"] for t in first["tools"]} >= {"store_status", "forecast_candidate", "find_duplicates"}
    assert first["messages"][0]["role"] == "system" and "quoted" in first["messages"][0]["content"]
    tool_result = next(m for m in second["messages"] if m["role"] == "tool")
    assert json.loads(tool_result["content"])["products"] == n
    assert "9,999" in third["messages"][-1]["content"] and f'"products": {n}' in third["messages"][-1]["content"]


def test_a_server_that_is_down_hands_the_question_to_the_offline_brain(
        shop: Workspace, monkeypatch: pytest.MonkeyPatch, intent_router: IntentRouter) -> None:
    monkeypatch.setattr(session, "router_embedder", lambda cache: intent_router.embedder)
    closed = ChatServer()
    url = closed.url
    closed.server_close()  # nothing listens there any more
    monkeypatch.setenv("NEXTDROP_AGENT_BASE_URL", url)
    result = CliRunner().invoke(app, ["ask", "what is in my store?", "--llm", "openai:local-model", "--json",
                                      "-w", str(shop.root)])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["brain"] == "offline (fallback: openai:local-model failed)"
    assert out["tool_calls"] == [{"name": "store_status", "args": {}}]
    assert f"Your store holds {_products(shop):,} products" in out["answer"] and out["grounded"]
