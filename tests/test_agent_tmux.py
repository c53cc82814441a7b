"""``nextdrop chat`` in a real terminal (tmux): ask, see the answer, a slash command, Ctrl-C, quit, resume."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_agent import _store

from nextdrop.store.workspace import Workspace


def _tmux_works() -> bool:
    """tmux is installed and can start its server (it cannot where /dev/null is not the null device)."""
    if shutil.which("tmux") is None:
        return False
    probe = subprocess.run(["tmux", "-L", f"probe-{os.getpid()}", "new-session", "-d", "true"], capture_output=True)
    return probe.returncode == 0


pytestmark = [pytest.mark.slow, pytest.mark.skipif(not _tmux_works(), reason="tmux cannot run here")]
WAIT = 120  # seconds a screen may take to show what is expected (the model loads in each chat process)


class Pane:
    """One tmux session running a command, read and typed into like a terminal."""

    def __init__(self, name: str, command: str) -> None:
        self.name = name
        subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "120", "-y", "50", command], check=True,
                       env=os.environ | {"TERM": "xterm-256color"})

    def screen(self) -> str:
        return subprocess.run(["tmux", "capture-pane", "-p", "-S", "-200", "-t", self.name], capture_output=True,
                              text=True).stdout

    def send(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True)

    def wait_for(self, text: str) -> str:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared; the screen:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


def _chat(ws: Workspace, name: str, *flags: str) -> Pane:
    exe = Path(sys.executable).with_name("nextdrop")
    return Pane(name, f"{exe} chat -w {ws.root} {' '.join(flags)}; sleep 30")


def test_chat_in_a_terminal(tmp_path: Path) -> None:
    ws = _store(tmp_path / "shop")
    name = f"nextdrop-test-{os.getpid()}"
    pane = _chat(ws, name)
    try:
        pane.wait_for("you>")
        pane.send("what is in my store?", "Enter")
        pane.wait_for("Your store holds")
        pane.send("/he", "Tab")  # completion of a slash command: the menu opens with its one choice
        pane.wait_for("\n         /help")
        pane.send("Tab")  # and takes it
        pane.wait_for("you> /help")
        pane.send("Enter", "Enter")  # the first closes the menu where it stays open; an empty line is ignored
        pane.wait_for("/export FILE")
        pane.send("how accurate are the forecasts?", "Enter")
        pane.wait_for("running backtest_forecast")
        pane.send("C-c")
        pane.wait_for("Interrupted.")
        pane.send("/quit", "Enter")
        screen = pane.wait_for("Bye.")
        assert "Over the last" not in screen  # the interrupted answer was not printed
    finally:
        pane.close()
    pane = _chat(ws, name + "-resumed", "--resume")
    try:
        screen = pane.wait_for("you>")
        assert "Resuming:" in screen and "earlier question(s)" in screen
        pane.send("/model", "Enter")
        pane.wait_for("Brain: offline")
        pane.send("C-d")
        pane.wait_for("Bye.")
    finally:
        pane.close()
