"""Workspace settings: one dataclass, read from ``nextdrop.toml``, overridable by env vars.

A setting ``section.key`` in the TOML file is overridden by the environment
variable ``NEXTDROP_SECTION_KEY`` (for example ``NEXTDROP_INDEX_MODEL``).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from nextdrop.errors import SettingsError


@dataclass(kw_only=True)
class StoreSettings:
    """How raw files are read."""

    dayfirst: bool = False  # ambiguous dates like 01/02/2011: day first?
    country: str = "GB"  # built-in holiday calendar


@dataclass(kw_only=True)
class IndexSettings:
    """Which embedding model and index to use."""

    model: str = "all-MiniLM-L6-v2"
    batch_size: int = 64
    index_kind: str = "auto"  # auto | flat | hnsw | ivf
    threshold: float = 0.6  # pair score for a duplicate; picked on WDC computers (see BENCHMARKS.md)


@dataclass(kw_only=True)
class ForecastSettings:
    """Forecast bucket and horizon defaults."""

    bucket: str = "W"
    horizon: int = 8


@dataclass(kw_only=True)
class AgentSettings:
    """Which brain answers questions, and how far it may go."""

    llm: str = "offline"  # or provider:model through init_chat_model, e.g. "openai:gpt-4o-mini", "ollama:llama3.1"
    base_url: str = ""  # an OpenAI-compatible server (Ollama, vLLM, llama.cpp), e.g. "http://127.0.0.1:11434/v1"
    allow_remote: bool = False  # a brain off this machine named here (not by --llm) is used only when true
    max_tool_calls: int = 6  # per question


@dataclass(kw_only=True)
class Settings:
    """All settings of one workspace."""

    store: StoreSettings = field(default_factory=StoreSettings)
    index: IndexSettings = field(default_factory=IndexSettings)
    forecast: ForecastSettings = field(default_factory=ForecastSettings)
    agent: AgentSettings = field(default_factory=AgentSettings)

    @classmethod
    def load(cls, path: Path | None) -> Settings:
        """Read ``path`` (if it exists), then apply ``NEXTDROP_*`` environment overrides."""
        raw: dict[str, Any] = {}
        if path is not None and path.exists():
            try:
                raw = tomllib.loads(path.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise SettingsError(f"{path}: not valid TOML ({exc}); fix or delete the file") from exc
        settings = cls()
        for section in fields(settings):
            target = getattr(settings, section.name)
            values = raw.get(section.name, {})
            for f in fields(target):
                env = os.environ.get(f"NEXTDROP_{section.name}_{f.name}".upper())
                value = env if env is not None else values.get(f.name)
                if value is not None:
                    setattr(target, f.name, _coerce(value, type(getattr(target, f.name)), section.name, f.name))
        return settings

    def to_toml(self) -> str:
        """Render as TOML text for ``nextdrop init``."""
        lines: list[str] = []
        for section, values in asdict(self).items():
            lines.append(f"[{section}]")
            for key, value in values.items():
                if isinstance(value, bool):
                    text = "true" if value else "false"
                elif isinstance(value, str):
                    text = f'"{value}"'
                else:
                    text = str(value)
                lines.append(f"{key} = {text}")
            lines.append("")
        return "\n".join(lines)


def _coerce(value: Any, kind: type, section: str, key: str) -> Any:
    """Convert a TOML or env value to the field's type, with an error naming the setting."""
    try:
        if kind is bool and isinstance(value, str):
            if value.lower() not in {"1", "0", "true", "false", "yes", "no"}:
                raise ValueError(value)
            return value.lower() in {"1", "true", "yes"}
        return kind(value)
    except (TypeError, ValueError) as exc:
        raise SettingsError(
            f"setting {section}.{key} = {value!r} is not a valid {kind.__name__}; "
            f"fix it in nextdrop.toml or the NEXTDROP_{section.upper()}_{key.upper()} variable"
        ) from exc
