"""Which intent a merchant's message carries: nearest intent exemplars (``prompts/intents.toml``) in meaning.

Messages and exemplars are embedded with the default model's static vectors when they were distilled
(``static:all-MiniLM-L6-v2``: no torch, a few milliseconds), else with all-MiniLM-L6-v2 itself, and
cached by text in the workspace, so the exemplars are embedded once per workspace and a repeated
question not at all.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from nextdrop.index.cache import CachedEmbedder
from nextdrop.index.embedder import DEFAULT_MODEL, STATIC_PREFIX, Embedder, distilled_path, load_embedder

CLEAR_ABOVE_BACKGROUND = 0.15  # a message must beat the exemplars' typical cross-intent cosine by this much
MARGIN = 0.02  # two intents this close are a question to ask, not a guess to make
SMALL_TALK = "help"  # wins only by HELP_MARGIN: "hi! what should I launch?" is a question about launches
HELP_MARGIN = 0.05
KEYWORD_BONUS = 0.1


@dataclass(frozen=True)
class Intent:
    """A kind of question and the tools that answer it, in the order to try them."""

    name: str
    tools: tuple[str, ...]
    exemplars: tuple[str, ...]
    keywords: tuple[str, ...] = ()

    def cued(self, message: str) -> bool:
        """Whether the message has one of the intent's keywords at the start of a word."""
        text = message.casefold()
        return any(re.search(rf"\b{re.escape(k)}", text) for k in self.keywords)


@dataclass(frozen=True)
class Route:
    """The intents ranked for one message, best first, with their scores."""

    ranked: tuple[tuple[str, float], ...]
    clear: float  # the best score needed to act on the message
    cued: frozenset[str] = frozenset()  # intents whose keywords the message has

    @property
    def intent(self) -> str:
        return self.ranked[0][0]

    @property
    def unclear(self) -> bool:
        return self.ranked[0][1] < self.clear and self.intent not in self.cued

    @property
    def ambiguous(self) -> bool:
        return len(self.ranked) > 1 and self.ranked[0][1] - self.ranked[1][1] < MARGIN


def prompt_text(name: str) -> str:
    """A file of ``prompts/`` (installed with the package)."""
    return resources.files("nextdrop.prompts").joinpath(name).read_text(encoding="utf-8")


def load_intents() -> list[Intent]:
    raw = tomllib.loads(prompt_text("intents.toml"))
    return [Intent(name, tuple(v["tools"]), tuple(v["exemplars"]), tuple(v.get("keywords", ())))
            for name, v in raw.items()]


def router_embedder(cache: Path | None) -> CachedEmbedder:
    """The default model's static vectors if distilled, else the model itself; cached at ``cache``."""
    static = distilled_path(DEFAULT_MODEL)
    inner = load_embedder(STATIC_PREFIX + str(static)) if (static / "config.json").exists() else \
        load_embedder(DEFAULT_MODEL)
    path = cache / f"router-{inner.fingerprint}.npz" if cache else None
    return CachedEmbedder(inner, path)


class IntentRouter:
    """Ranks intents for a message by the cosine of its nearest exemplar of each."""

    def __init__(self, embedder: Embedder, intents: list[Intent] | None = None) -> None:
        self.intents = intents or load_intents()
        self.embedder = embedder
        texts = [e for i in self.intents for e in i.exemplars]
        self.owner = np.array([n for n, i in enumerate(self.intents) for _ in i.exemplars])
        self.vectors = embedder.encode(texts)
        self.by_name = {i.name: i for i in self.intents}
        # how alike exemplars of different intents are: models differ (static vectors run higher than MiniLM's)
        across = self.owner[:, None] != self.owner[None, :]
        self.clear = float((self.vectors @ self.vectors.T)[across].mean()) + CLEAR_ABOVE_BACKGROUND

    def route(self, message: str) -> Route:
        vector = self.embedder.encode([message])[0]
        cosine = self.vectors @ vector
        best = np.full(len(self.intents), -1.0)
        np.maximum.at(best, self.owner, cosine)
        cued = np.array([i.cued(message) for i in self.intents])
        best += KEYWORD_BONUS * cued
        ranked = [(self.intents[i].name, round(float(best[i]), 3)) for i in np.argsort(-best)]
        if ranked[0][0] == SMALL_TALK and ranked[0][1] - ranked[1][1] < HELP_MARGIN:
            ranked[:2] = ranked[1::-1]
        return Route(tuple(ranked), self.clear, frozenset(i.name for i, c in zip(self.intents, cued, strict=True) if c))

    def save(self) -> None:
        """Keep what was embedded for the next process (a no-op for an uncached embedder)."""
        if isinstance(self.embedder, CachedEmbedder):
            self.embedder.save()
