"""Slash commands of ``nextdrop chat``: each is a question for the agent or an action of the terminal."""

from __future__ import annotations

from dataclasses import dataclass

QUESTIONS = {
    "/plan": "What should I launch next week?",
    "/dedup": "Which products in my catalog are duplicates?",
}
HELP = {
    "/plan": "a launch plan for next week",
    "/dedup": "duplicate groups in the catalog",
    "/why ID": "why a candidate ranks where it does",
    "/export FILE": "write the last answer to FILE (.md, or .json with its tool calls)",
    "/model": "which brain answers, and how to change it",
    "/help": "this list",
    "/quit": "leave (the conversation is kept: nextdrop chat --resume)",
}
COMMANDS = [c.split()[0] for c in HELP]


@dataclass(frozen=True)
class Slash:
    """What a line of the chat asks for: ``ask`` a question, or a terminal action with its argument."""

    action: str  # ask | export | model | help | quit | unknown | usage
    text: str = ""


def parse(line: str) -> Slash:
    """A typed line as a question or a command ("/why C104" asks why C104 ranks where it does)."""
    line = line.strip()
    if not line.startswith("/"):
        return Slash("ask", line)
    command, _, rest = line.partition(" ")
    rest = rest.strip()
    command = command.lower()
    if command in QUESTIONS:
        return Slash("ask", QUESTIONS[command])
    if command == "/why":
        return Slash("ask", f"Why is {rest} ranked where it is?") if rest else Slash("usage", "/why ID")
    if command == "/export":
        return Slash("export", rest) if rest else Slash("usage", "/export FILE")
    if command in {"/quit", "/exit", "/q"}:
        return Slash("quit")
    if command in {"/model", "/help"}:
        return Slash(command[1:])
    return Slash("unknown", command)
