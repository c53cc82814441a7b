"""``nextdrop ask`` and ``nextdrop chat`` through the CLI, on a small demo workspace, offline brain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_agent import _store
from typer.testing import CliRunner

from nextdrop.agent import session
from nextdrop.agent.router import IntentRouter
from nextdrop.agent.slash import parse
from nextdrop.cli import app
from nextdrop.errors import SettingsError
from nextdrop.store.workspace import Workspace

runner = CliRunner()


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return _store(tmp_path_factory.mktemp("cli-shop"))


@pytest.fixture(autouse=True)
def _shared_model(monkeypatch: pytest.MonkeyPatch, intent_router: IntentRouter) -> None:
    """Every command's router embeds with the model the session already loaded (the real one)."""
    monkeypatch.setattr(session, "router_embedder", lambda cache: intent_router.embedder)


def test_ask_json_is_the_documented_shape(shop: Workspace) -> None:
    result = runner.invoke(app, ["ask", "how many will C100 sell?", "--json", "-w", str(shop.root)])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert set(out) == {"answer", "tool_calls", "grounded", "brain"}
    assert out["tool_calls"] == [{"name": "forecast_candidate", "args": {"candidate_id": "C100", "weeks": 8}}]
    assert out["grounded"] is True and out["brain"] == "offline"
    assert "(C100)" in out["answer"]


def test_ask_show_sources_footnotes_the_numbers(shop: Workspace) -> None:
    result = runner.invoke(app, ["ask", "what is in my store?", "--show-sources", "-w", str(shop.root)])
    assert result.exit_code == 0, result.output
    assert "[1] store_status()" in result.stdout and "products[1]" not in result.stdout
    assert "[1] products" in result.stdout or "[1]" in result.stdout.split("products")[0]


def test_a_remote_brain_in_the_settings_needs_the_opt_in(shop: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEXTDROP_AGENT_LLM", "openai:gpt-4o-mini")
    result = runner.invoke(app, ["ask", "what is in my store?", "-w", str(shop.root)])
    assert isinstance(result.exception, SettingsError)
    assert "set agent.allow_remote = true in nextdrop.toml (or pass --llm)" in str(result.exception)


def test_chat_answers_runs_slash_commands_exports_and_resumes(shop: Workspace, tmp_path: Path) -> None:
    export = tmp_path / "answer.md"
    script = f"what is in my store?\n/help\n/why\n/export {export}\n/bogus\n/quit\n"
    result = runner.invoke(app, ["chat", "-w", str(shop.root)], input=script)
    assert result.exit_code == 0, result.output
    assert "Your store holds" in result.stdout
    assert "/dedup" in result.stdout and "Usage: /why ID" in result.stdout and "Unknown command /bogus" in result.stdout
    assert export.read_text().startswith("Your store holds") and "[1] store_status()" in export.read_text()
    again = runner.invoke(app, ["chat", "--resume", "-w", str(shop.root)], input="/quit\n")
    assert "Resuming: 1 earlier question(s). Last one: what is in my store?" in again.stdout


def test_slash_commands_become_questions() -> None:
    assert parse("/plan").text == "What should I launch next week?"
    assert parse("/why C104").text == "Why is C104 ranked where it is?"
    assert parse("/export out.json").action == "export" and parse("/export out.json").text == "out.json"
    assert parse("plain question").action == "ask" and parse("/QUIT").action == "quit"
