"""Workspace settings: one dataclass, read from ``nextdrop.toml``, overridable by env vars.

A setting ``section.key`` in the TOML file is overridden by the environment
variable ``NEXTDROP_SECTION_KEY`` (for example ``NEXTDROP_INDEX_MODEL``).
"""

from __future__ import annotations

import os
import tomllib
import typing
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from nextdrop.errors import SettingsError


@dataclass(kw_only=True)
class StoreSettings:
    """How raw files are read."""

    # A date column whose every value reads both ways (01/02/2011): true day first, false month first;
    # unset, ingest asks (a column with a day above 12 settles it by itself).
    dayfirst: bool | None = None
    country: str = "GB"  # built-in holiday calendar


@dataclass(kw_only=True)
class IngestSettings:
    """What ingest keeps."""

    # Lines identical in every column to an earlier line of the same file (Online Retail has 11,812): kept
    # by default, as a till cannot tell a repeat sale from a repeated export line; false quarantines them.
    keep_duplicate_lines: bool = True


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
    backtest_weeks: int = 8  # models are chosen on a backtest this long, whatever --weeks asks for
    max_weeks: int = 26  # the longest forecast; every --weeks is cut from the same one


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
    ingest: IngestSettings = field(default_factory=IngestSettings)
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
                    setattr(target, f.name, _coerce(value, _value_type(target, f.name), section.name, f.name))
        return settings

    def to_toml(self) -> str:
        """Render as TOML text for ``nextdrop init``."""
        lines: list[str] = []
        for section, values in asdict(self).items():
            lines.append(f"[{section}]")
            for key, value in values.items():
                if value is None:  # TOML has no null: an unset setting is shown commented out
                    lines.append(f"# {key} = ...  (unset)")
                    continue
                if isinstance(value, bool):
                    text = "true" if value else "false"
                elif isinstance(value, str):
                    text = f'"{value}"'
                else:
                    text = str(value)
                lines.append(f"{key} = {text}")
            lines.append("")
        return "\n".join(lines)


def _value_type(section: object, name: str) -> type:
    """The type a setting holds: its annotation, without the ``| None`` of settings that may stay unset."""
    hint = typing.get_type_hints(type(section))[name]
    options = [t for t in typing.get_args(hint) if t is not type(None)]
    return options[0] if options else hint


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
