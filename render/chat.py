"""The agent in the terminal: answers as rich Markdown, a spinner naming the running tool, the chat loop.

The loop reads lines with prompt_toolkit (history in the workspace, completion of slash commands)
when the terminal is interactive, and plain ``input`` otherwise. Ctrl-C while an answer is being
made stops that answer and returns to the prompt; at the prompt it clears the line, and Ctrl-D or
/quit leaves.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from rich.console import Console
from rich.markdown import Markdown

from nextdrop import render
from nextdrop.agent import slash
from nextdrop.agent.session import Answer, Assistant
from nextdrop.errors import NextdropError
from nextdrop.store.files import atomic_write, check_format

EXPORTS = (".md", ".json")


def answer(console: Console, result: Answer, show_sources: bool = False) -> None:
    """The answer as Markdown; with ``show_sources``, each number footnoted with the tool call it came from."""
    text = result.sources if show_sources else result.text
    console.print(Markdown(text), width=min(console.width, render.RULE_WIDTH))
    if not result.grounded:
        console.print("[yellow]Some numbers in this answer come from no tool result of this question.[/]")


def ask(console: Console, assistant: Assistant, question: str, thread: str = "ask") -> Answer | None:
    """One question with a spinner naming each tool as it runs; None when Ctrl-C stopped it."""
    cancel = threading.Event()
    box: dict[str, object] = {}

    with render.activity(console, "Thinking") as on_stage:
        def work() -> None:
            try:
                box["answer"] = assistant.ask(question, thread, on_tool=lambda n: on_stage(f"running {n}"),
                                              cancel=cancel)
            except Exception as exc:  # raised again in the terminal's thread, where the CLI reports it
                box["error"] = exc

        worker = threading.Thread(target=work, daemon=True)
        worker.start()
        try:
            while worker.is_alive():
                worker.join(0.1)
        except KeyboardInterrupt:
            cancel.set()
            on_stage("stopping after the step under way (Ctrl-C again to stop waiting)")
            try:  # the next question must not share the store and the memory with a turn still running
                while worker.is_alive():
                    worker.join(0.1)
            except KeyboardInterrupt:
                pass
            console.print("[yellow]Interrupted.[/] Ask another question, or /quit.")
            return None
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["answer"]  # type: ignore[return-value]


def history(console: Console, messages: list[BaseMessage]) -> None:
    """The end of a resumed conversation: its last question and answer."""
    asked = [m for m in messages if isinstance(m, HumanMessage)]
    said = [m for m in messages if isinstance(m, AIMessage) and not m.tool_calls and m.text]
    if not asked:
        console.print("No earlier conversation in this workspace: starting a new one.")
        return
    console.print(f"[dim]Resuming: {len(asked)} earlier question(s). Last one:[/] {asked[-1].text}")
    if said:
        console.print(Markdown(said[-1].text))


def export(result: Answer, path: Path) -> Path:
    """The answer as Markdown (with its sources) or JSON (with its tool calls), written atomically."""
    check_format(path, EXPORTS)
    text = json.dumps(result.to_json(), indent=2) if path.suffix.lower() == ".json" else result.sources + "\n"
    atomic_write(path, text)
    return path


def run_chat(console: Console, assistant: Assistant, thread: str, show_sources: bool = False,
             read: Callable[[str], str] | None = None) -> None:
    """The conversation: questions and slash commands until /quit or Ctrl-D."""
    read = read or _reader(assistant)
    console.print(f"[bold]nextdrop chat[/] ({assistant.spec.name} brain). Ask about your store; /help lists "
                  "the commands.")
    last: Answer | None = None
    while True:
        try:
            line = read("you> ")
        except KeyboardInterrupt:  # at the prompt, Ctrl-C clears the line; Ctrl-D or /quit leaves
            continue
        except EOFError:
            break
        command = slash.parse(line)
        if command.action == "quit":
            break
        if command.action == "ask" and command.text:
            try:
                last = ask(console, assistant, command.text, thread) or last
            except NextdropError as exc:
                console.print(f"[red]Error:[/] {exc}")
                continue
            if last is not None:
                answer(console, last, show_sources)
        elif command.action == "export":
            if last is None:
                console.print("Nothing to export yet: ask a question first.")
                continue
            try:
                console.print(f"Written: [bold]{export(last, Path(command.text).expanduser())}[/]")
            except NextdropError as exc:
                console.print(f"[red]Error:[/] {exc}")
        elif command.action == "model":
            console.print(f"Brain: [bold]{assistant.spec.name}[/]. Another one: nextdrop chat --llm provider:model "
                          "(e.g. ollama:llama3.1), or agent.llm in nextdrop.toml.")
        elif command.action == "help":
            console.print("\n".join(f"[bold]{c}[/]  {text}" for c, text in slash.HELP.items()))
        elif command.action == "usage":
            console.print(f"Usage: {command.text}")
        elif command.action == "unknown":
            console.print(f"Unknown command {command.text}; /help lists them.")
    console.print("Bye. [dim]nextdrop chat --resume continues this conversation.[/]")


def _reader(assistant: Assistant) -> Callable[[str], str]:
    """prompt_toolkit's prompt, with history in the workspace and slash commands completed, on a terminal."""
    import sys

    if not sys.stdin.isatty():
        return input
    from prompt_toolkit import PromptSession
    from prompt_toolkit.completion import WordCompleter
    from prompt_toolkit.history import FileHistory

    session: PromptSession = PromptSession(history=FileHistory(str(assistant.ws.dir / "chat_history")),
                                           completer=WordCompleter(slash.COMMANDS, sentence=True))
    return session.prompt
