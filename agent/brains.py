"""Brains: the offline one (the default) or any chat model ``init_chat_model`` knows, as ``provider:model``.

A brain off this machine (a hosted API) is used only on an explicit opt-in: named on the command
line with ``--llm``, or with ``agent.allow_remote = true`` beside ``agent.llm`` in ``nextdrop.toml``.
Local servers (Ollama, vLLM, llama.cpp on localhost) and local models need no opt-in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from langchain_core.language_models import BaseChatModel

from nextdrop.errors import SettingsError
from nextdrop.settings import AgentSettings

OFFLINE = "offline"
LOCAL_PROVIDERS = {"ollama", "huggingface"}
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class BrainSpec:
    """Which brain, where it runs, and whether it leaves this machine."""

    name: str  # "offline" or "provider:model"
    base_url: str = ""

    @property
    def offline(self) -> bool:
        return self.name == OFFLINE

    @property
    def remote(self) -> bool:
        if self.offline:
            return False
        if self.base_url:
            return urlparse(self.base_url).hostname not in LOCAL_HOSTS
        return self.name.split(":", 1)[0] not in LOCAL_PROVIDERS


def brain_spec(settings: AgentSettings, llm: str | None = None) -> BrainSpec:
    """The brain a command uses: ``--llm`` if given, else ``agent.llm``; remote only when opted in."""
    spec = BrainSpec(llm or settings.llm, settings.base_url)
    if not spec.offline and ":" not in spec.name:
        raise SettingsError(f"brain {spec.name!r} is not 'offline' or provider:model (e.g. 'openai:gpt-4o-mini', "
                            "'ollama:llama3.1', 'anthropic:claude-sonnet-4-5'); fix --llm or agent.llm")
    if spec.remote and llm is None and not settings.allow_remote:
        raise SettingsError(f"agent.llm = {spec.name!r} sends tool results off this machine; set "
                            "agent.allow_remote = true in nextdrop.toml (or pass --llm) to opt in")
    return spec


def chat_model(spec: BrainSpec, **kwargs: Any) -> BaseChatModel:
    """A LangChain chat model for a ``provider:model`` brain (the provider's package must be installed)."""
    from langchain.chat_models import init_chat_model

    provider, model = spec.name.split(":", 1)
    if provider == "huggingface":  # a local model through transformers, not Hugging Face's hosted endpoints
        from nextdrop.agent.local_model import TransformersChat

        return TransformersChat(path=model)
    if spec.base_url:
        kwargs.setdefault("base_url", spec.base_url)
        kwargs.setdefault("api_key", "not-needed")  # local OpenAI-compatible servers take any key
    try:
        return init_chat_model(model, model_provider=provider, **kwargs)
    except ImportError as exc:
        raise SettingsError(f"brain {spec.name!r} needs the package for {provider!r} ({exc}); "
                            f"pip install langchain-{provider}") from exc
    except ValueError as exc:
        raise SettingsError(f"brain {spec.name!r}: {exc}") from exc
