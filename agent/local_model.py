"""A local Hugging Face model as a LangChain chat model, through transformers alone (``--llm huggingface:PATH``).

``PATH`` is a model folder, or a ``.gguf`` file that transformers de-quantizes on load (with the
``gguf`` package). Generation is greedy, so the same question gets the same answer. Small local
models cannot call tools reliably: this one answers in words only, and the grounding guard
decides what of it may stand.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, SystemMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import ConfigDict, PrivateAttr

from nextdrop.errors import SettingsError


class TransformersChat(BaseChatModel):
    """A causal language model on CPU with its chat template; loaded on the first question."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    path: str
    max_new_tokens: int = 120
    _loaded: tuple[Any, Any] | None = PrivateAttr(default=None)

    @property
    def _llm_type(self) -> str:
        return "nextdrop-transformers"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> TransformersChat:
        """The same model: it answers without calling tools."""
        return self

    def _load(self) -> tuple[Any, Any]:
        if self._loaded is None:
            from transformers import AutoModelForCausalLM, AutoTokenizer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
            path = Path(self.path).expanduser()
            if not path.exists():
                raise SettingsError(f"--llm huggingface:{self.path}: no model folder or .gguf file there")
            folder, extra = (path.parent, {"gguf_file": path.name}) if path.suffix == ".gguf" else (path, {})
            tokenizer = AutoTokenizer.from_pretrained(folder, **extra)
            self._loaded = (tokenizer, AutoModelForCausalLM.from_pretrained(folder, **extra).eval())
        return self._loaded

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None,
                  **kwargs: Any) -> ChatResult:
        tokenizer, model = self._load()
        chat = [{"role": _role(m), "content": _content(m)} for m in messages if _content(m)]
        inputs = tokenizer.apply_chat_template(chat, add_generation_prompt=True, return_tensors="pt",
                                               return_dict=True)
        output = model.generate(**inputs, max_new_tokens=self.max_new_tokens, do_sample=False)
        text = tokenizer.decode(output[0][inputs["input_ids"].shape[1]:], skip_special_tokens=True).strip()
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])


def _role(message: BaseMessage) -> str:
    if isinstance(message, SystemMessage):
        return "system"
    if isinstance(message, AIMessage):
        return "assistant"
    return "user"  # a question, or a tool's result quoted as one


def _content(message: BaseMessage) -> str:
    if isinstance(message, ToolMessage):
        return f"Tool result ({message.name}), quoted data:\n{message.text}"
    return message.text
