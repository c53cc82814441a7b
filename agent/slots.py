"""Arguments in a merchant's message: counts, budgets, service levels, weeks, categories, ids and product names.

The store's own vocabulary (its categories, candidates and product ids, its today) comes from a
``Lexicon`` read once per session; names that are not ids or categories are left as a phrase for
``search_catalog`` to resolve by meaning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from rapidfuzz import fuzz, process

from nextdrop.agent.dates import NUMBERS
from nextdrop.agent.router import prompt_text
from nextdrop.store.workspace import Workspace

STOPWORDS = frozenset(w for line in prompt_text("stopwords.txt").splitlines() if not line.startswith("#")
                      for w in line.split())
LONG_STOPWORDS = [w for w in STOPWORDS if len(w) >= 5]


@dataclass
class Lexicon:
    """What the brain knows of the store to fill arguments: names, ids and its today."""

    categories: list[str] = field(default_factory=list)
    candidates: dict[str, str] = field(default_factory=dict)  # id -> title
    product_ids: set[str] = field(default_factory=set)
    today: date = field(default_factory=date.today)

    @classmethod
    def read(cls, ws: Workspace) -> Lexicon:
        """The workspace's categories, candidates and product ids, and the day after its last sale."""
        with ws.read() as con:
            cats = [r[0] for r in con.execute(
                "SELECT DISTINCT category FROM products WHERE category IS NOT NULL ORDER BY 1").fetchall()]
            cands = dict(con.execute("SELECT candidate_id, coalesce(title, '') FROM candidates").fetchall())
            ids = {r[0] for r in con.execute("SELECT product_id FROM products").fetchall()}
        return cls(cats, cands, ids, ws.today())

    @cached_property
    def _category_keys(self) -> dict[str, str]:
        keys: dict[str, str] = {}
        for c in self.categories:
            for word in re.split(r"\s*(?:&|/|,| and )\s*", c.casefold()):
                if word:
                    keys[word] = c
                    keys[word.rstrip("s")] = c
            keys[c.casefold()] = c
        return keys


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9][a-z0-9'\-]*", text.casefold())


def find_category(text: str, lex: Lexicon) -> str | None:
    """A store category the message names (any case, singular or plural, a small typo allowed)."""
    t = text.casefold()
    for key in sorted(lex._category_keys, key=len, reverse=True):
        if len(key) > 2 and re.search(rf"\b{re.escape(key)}s?\b", t):
            return lex._category_keys[key]
    if "category" in t or "categories" in t:
        found = process.extractOne(t, lex.categories, scorer=fuzz.partial_ratio, processor=str.casefold)
        if found and found[1] >= 80:
            return found[0]
    return None


def find_candidate(text: str, lex: Lexicon) -> str | None:
    """A candidate named by id ("C100", "c 100") or, closely enough, by its title."""
    for token in re.findall(r"\b[a-z]{0,3}\s?-?\d+[a-z]?\b", text, flags=re.IGNORECASE):
        compact = re.sub(r"[\s-]", "", token).upper()
        if compact in lex.candidates:
            return compact
    asked = {w.rstrip("s") for w in words(text)} - STOPWORDS
    best, best_cover = None, 0.0
    for cid, title in lex.candidates.items():
        named = {w.rstrip("s") for w in words(title)} - STOPWORDS
        cover = len(named & asked) / len(named) if named else 0.0
        if cover > best_cover:
            best, best_cover = cid, cover
    return best if best_cover >= 2 / 3 else None


def find_product_id(text: str, lex: Lexicon) -> str | None:
    """A product id written in the message, as the store spells it."""
    upper = {pid.upper(): pid for pid in lex.product_ids} if len(lex.product_ids) < 200_000 else {}
    for token in re.findall(r"[A-Za-z0-9][A-Za-z0-9\-_]*", text):
        if token in lex.product_ids:
            return token
        if any(ch.isdigit() for ch in token) and token.upper() in upper:
            return upper[token.upper()]
    return None


def name_phrase(text: str) -> str:
    """What is left of a message once the question words, dates and numbers are out: a product's name."""
    kept = [w for w in words(text) if not _stopword(w) and not w.isdigit() and w not in NUMBERS]
    return " ".join(kept)


def _stopword(word: str) -> bool:
    """A stop word, or a long word one typo away from one ("forcast", "lanch")."""
    if word in STOPWORDS or word.rstrip("s") in STOPWORDS:
        return True
    found = process.extractOne(word, LONG_STOPWORDS, scorer=fuzz.ratio) if len(word) >= 5 else None
    return bool(found and found[1] >= 85)


def only_names(phrase: str, category: str) -> bool:
    """Whether a message's leftover words name only the category ("jewelery category", "bath and body")."""
    names = [*name_phrase(category).split(), "category", "categories", "and"]
    return all(fuzz.ratio(word, name) >= 80 or word.rstrip("s") == name.rstrip("s")
               for word in phrase.split() for name in [max(names, key=lambda n: fuzz.ratio(word, n))])


def count_per_week(text: str) -> int | None:
    """ "3 launches a week", "two per week", "max 4 a week" """
    m = re.search(r"(\d+|\b[a-z]+)\s+(?:new\s+)?(?:launch(?:es)?|products?|items?|drops?|things?)?\s*"
                  r"(?:a|per|each|every)\s+week", text.casefold())
    if not m:
        return None
    word = m.group(1)
    return int(word) if word.isdigit() else NUMBERS.get(word)


def budget(text: str) -> float | None:
    """ "budget of £5,000", "$2k", "5000 euros", "spend at most 1.5k" """
    t = text.casefold().replace(",", "")
    m = (re.search(r"[£$€]\s?(\d+(?:\.\d+)?)\s?(k|m)?\b", t)
         or re.search(r"(\d+(?:\.\d+)?)\s?(k|m)?\s?(?:£|\$|€|euros?|dollars?|pounds?|gbp|usd|eur)\b", t)
         or re.search(r"budget\D{0,12}(\d+(?:\.\d+)?)\s?(k|m)?\b", t))
    if not m:
        return None
    return float(m.group(1)) * {"k": 1_000, "m": 1_000_000}.get(m.group(2) or "", 1)


def service_level(text: str) -> float | None:
    m = re.search(r"(\d{2}(?:\.\d+)?)\s?%\s*(?:service|fill|in.?stock|of demand|chance)", text.casefold())
    return float(m.group(1)) / 100 if m and 50 <= float(m.group(1)) < 100 else None


def top_k(text: str) -> int | None:
    """ "top 5", "5 products", "ten results" """
    m = re.search(r"\b(?:top|first|best)\s+(\d+|[a-z]+)\b|\b(\d+)\s+(?:products|items|results|matches|groups)\b",
                  text.casefold())
    if not m:
        return None
    word = m.group(1) or m.group(2)
    return int(word) if word.isdigit() else NUMBERS.get(word)


def weeks_ahead(text: str) -> int | None:
    """ "for 12 weeks", "next 6 weeks", "over three months" """
    t = text.casefold()
    if m := re.search(r"\b(\d+|[a-z]+)\s+weeks?\b", t):
        n = int(m.group(1)) if m.group(1).isdigit() else NUMBERS.get(m.group(1))
        if n:
            return n
    if m := re.search(r"\b(\d+|[a-z]+)\s+months?\b", t):
        n = int(m.group(1)) if m.group(1).isdigit() else NUMBERS.get(m.group(1))
        if n:
            return 4 * n
    if re.search(r"\bnext month\b|\ba month\b", t):
        return 4
    return None
