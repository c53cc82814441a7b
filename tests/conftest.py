"""Shared fixtures: every test runs offline, in its own folder, with no inherited workspace."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No hub downloads, no workspace leaking in from the environment, no debug tracebacks."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.delenv("NEXTDROP_WORKSPACE", raising=False)
    monkeypatch.delenv("NEXTDROP_DEBUG", raising=False)
    monkeypatch.chdir(tmp_path)


def shared_file(*parts: str) -> Path:
    """A real-data file under ../shared/data, or skip the test when it is not there."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not available: {path}")
    return path


@pytest.fixture(scope="session")
def intent_router():
    """The offline brain's router with the real default model, loaded once for every agent test."""
    from nextdrop.agent.router import IntentRouter, router_embedder

    return IntentRouter(router_embedder(None))
