"""Score one pair of titles and say what kind of pair it is, and why.

The score blends meaning (embedding cosine) with surface evidence (character 3-gram
Jaccard, token-set ratio), adds a bonus for a shared model code and subtracts a penalty
for conflicting codes or attributes. One fixed configuration serves every catalog; the
weights were set by hand, the threshold on WDC computers (see BENCHMARKS.md).

Two records written by one merchant (inside a catalog, or a candidate against it) follow
one house style, so there two more rules hold: each title having a word the other lacks
("Botanical Plant Pot" / "Woodland Plant Pot") makes them competing products, and an
attribute only one of them names ("Loofah" / "Loofah - Red") makes them variants. Across
sources (a supplier feed, other shops) wording differs freely and only codes and
conflicting attributes decide.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import DamerauLevenshtein

from nextdrop.index.decision import cutoff as decision_cutoff
from nextdrop.index.decision import load as load_decision
from nextdrop.index.decision import match_probability
from nextdrop.index.text import (
    ATTRIBUTE_WORDS,
    SERIES_ATTRIBUTES,
    UNSPACED_SCRIPT,
    AttributeKey,
    TextFeatures,
    related_codes,
    shared_code,
)

COSINE_WEIGHT = 0.5
JACCARD_WEIGHT = 0.25
TOKEN_SET_WEIGHT = 0.25
CODE_BONUS = 0.12
CODE_PENALTY = 0.25
ATTRIBUTE_PENALTY = 0.15
SIMILAR_MARGIN = 0.15  # pairs this far below the threshold are still "similar"

KINDS = ("exact", "near_duplicate", "variant", "similar")
UNRELATED = -1  # kind code of a pair below the "similar" band

# ``Evidence.flags`` bits: what classifying a pair needs beyond its base similarity. RANGE: inside one
# catalog, the two differ on something that marks another product of a range (another number or
# letter in a series, model codes with none in common, a word other titles of the catalog use on one side only).
# LITTLE_TEXT: inside one catalog, the two share under ``MIN_OVERLAP`` of their text, so only the
# model's reading calls them alike; the same merchant lists one item twice in mostly the same words.
SAME_TEXT, CONFLICTED, EXTRA, COMPETING, RANGE, LITTLE_TEXT = 1, 2, 4, 8, 16, 32
MIN_OVERLAP = 0.25  # lowest on the labelled Online Retail duplicates 0.86, on the demo's planted ones 0.53


@dataclass(slots=True)
class Evidence:
    """What was measured for a pair; enough to re-classify it at any threshold.

    Not frozen: mining builds one per candidate pair, and a frozen dataclass costs two and
    a half times as much to build. Nothing changes one after it is made.
    """

    cosine: float
    jaccard: float
    token_set: float
    same_text: bool
    shared_code: str | None
    code_conflict: tuple[str, str] | None
    attribute_conflicts: tuple[tuple[str, str, str], ...]  # (attribute, a's values, b's values)
    attribute_extra: tuple[tuple[str, str], ...] = ()  # (attribute, values) named by one side only
    # words each side has and the other lacks; worked out only where they can make the pair competing
    distinct_words: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    series_conflicts: tuple[tuple[str, str, str], ...] = ()  # number or letter of a series, both sides named
    codes_apart: tuple[str, str] | None = None  # both sides carry model codes and none is on the other side
    axis_words: tuple[str, ...] = ()  # one side's words that the catalog varies (``index.axes``), other side lacks
    word_axis: str = "design"  # what differing words name: "item type" when they end both titles (the nouns)
    one_slot: bool = False  # competing words that fill one slot of a range (one word each, or the catalog's words)
    # Derived once at construction: grouping and re-thresholding read them for millions of pairs.
    base: float = field(init=False, compare=False)  # similarity before any conflict penalty
    score: float = field(init=False, compare=False)  # 1.0 for the same text, else base minus conflict penalties

    def __post_init__(self) -> None:
        blend = COSINE_WEIGHT * self.cosine + JACCARD_WEIGHT * self.jaccard + TOKEN_SET_WEIGHT * self.token_set
        base = min(1.0, blend + (CODE_BONUS if self.shared_code else 0.0))
        penalty = (CODE_PENALTY if self.code_conflict else 0.0) + ATTRIBUTE_PENALTY * len(self.attribute_conflicts)
        self.base = base
        self.score = 1.0 if self.same_text else max(0.0, base - penalty)

    def kind(self, threshold: float, same_source: bool = False) -> str | None:
        """exact / near_duplicate / variant / similar, or None when the pair is unrelated."""
        match = None if same_source else match_probability([self])  # across sources the learned decision
        code = classify(np.array([self.base]), np.array([self.flags], dtype=np.uint8), threshold, same_source, match)[0]
        return None if code == UNRELATED else KINDS[code]

    @property
    def flags(self) -> int:
        """``SAME_TEXT | CONFLICTED | EXTRA | COMPETING`` as they apply: ``classify`` reads them in bulk."""
        flags = SAME_TEXT if self.same_text else 0  # branches, not arithmetic on bools: read for every mined pair
        if self.code_conflict is not None or self.attribute_conflicts:
            flags |= CONFLICTED
        if self.attribute_extra:
            flags |= EXTRA
        if self.competing:
            flags |= COMPETING
        if self.series_conflicts or self.codes_apart is not None or self.axis_words or self.one_slot:
            flags |= RANGE
        if self.jaccard < MIN_OVERLAP:
            flags |= LITTLE_TEXT
        return flags

    @property
    def competing(self) -> bool:
        """Each side has its own word and no shared code ties them: two products of one range."""
        return all(self.distinct_words) and not self.shared_code

    def reason(self) -> str:
        """One line a merchant can check against the two titles."""
        if self.same_text:
            return "same text after normalisation"
        parts = self.axes()
        parts.append(f"cosine {self.cosine:.2f}, text overlap {self.jaccard:.2f}")
        if self.shared_code:
            parts.append(f"shared code {self.shared_code}")
        if self.code_conflict:
            parts.append(f"different codes {self.code_conflict[0]} / {self.code_conflict[1]}")
        for name, a, b in self.attribute_conflicts:
            parts.append(f"{name} {a} / {b}")
        for name, values in self.attribute_extra:
            parts.append(f"{name} {values} on one side only")
        if self.codes_apart:
            parts.append(f"no code in common {self.codes_apart[0]} / {self.codes_apart[1]}")
        return "; ".join(parts)

    def axes(self) -> list[str]:
        """What varies between two products of one range, axis first: "number: 1 / 7", "design: woodland / posies"."""
        found = [f"{name}: {a} / {b}" for name, a, b in self.series_conflicts]
        if self.competing:
            left, right = self.distinct_words
            found.append(f"{self.word_axis}: {' '.join(left)} / {' '.join(right)}")
        if self.axis_words:
            found.append(f"{self.word_axis}: {' '.join(self.axis_words)} on one side only")
        return found



def classify(
    base: np.ndarray, flags: np.ndarray, threshold: float, same_source: bool, match: np.ndarray | None = None
) -> np.ndarray:
    """Kind codes (positions in ``KINDS``, ``UNRELATED`` below the similar band) of many pairs at once.

    Above the threshold a pair is a near-duplicate unless something rules it apart: a
    conflict anywhere, and inside one source an attribute only one side names or a
    ``RANGE`` difference, make a variant; inside one source, competing words that are not
    one slot of a range, or too little text in common, make two products that are only similar. Across sources, a pair's
    ``match`` probability under the shipped learned decision (``index.decision``), where
    known, says whether it is above instead of its base similarity.
    """
    above = base >= threshold
    model = load_decision() if match is not None and not same_source else None
    if model is not None:
        known = ~np.isnan(match)
        above = np.where(known, np.nan_to_num(match) >= decision_cutoff(model, threshold), above)
    apart = (flags & (CONFLICTED | EXTRA | RANGE if same_source else CONFLICTED)) != 0
    competing = (flags & (COMPETING | LITTLE_TEXT)) != 0 if same_source else np.zeros(len(base), dtype=bool)
    codes = np.full(len(base), UNRELATED, dtype=np.int8)
    codes[base >= threshold - SIMILAR_MARGIN] = KINDS.index("similar")
    codes[above & apart] = KINDS.index("variant")
    codes[above & ~apart & ~competing] = KINDS.index("near_duplicate")
    codes[(flags & SAME_TEXT) != 0] = KINDS.index("exact")
    return codes


def evidence(
    a: TextFeatures,
    b: TextFeatures,
    cosine: float,
    floor: float = 0.0,
    words_from: float = 0.0,
    axes: Collection[str] = frozenset(),
) -> Evidence:
    """Measure one pair (``cosine`` comes from the embeddings, already computed in bulk).

    Conflicts are only worked out when the pair's base similarity reaches ``floor``:
    below it the pair is dropped anyway, and mining stays fast. Distinct words only
    change a pair's kind above the threshold, so they are worked out from ``words_from``
    (the lowest threshold the pair will be classified at).
    """
    union = len(a.grams | b.grams)
    jaccard = len(a.grams & b.grams) / union if union else 0.0
    token_set = fuzz.token_set_ratio(a.token_text, b.token_text) / 100.0
    return measured(a, b, cosine, jaccard, token_set, floor, words_from, axes)


def measured(
    a: TextFeatures,
    b: TextFeatures,
    cosine: float,
    jaccard: float,
    token_set: float,
    floor: float = 0.0,
    words_from: float = 0.0,
    axes: Collection[str] = frozenset(),
) -> Evidence:
    """``evidence`` with the lexical overlaps already computed (in bulk, by ``index.mining``).

    ``axes``: the words the catalog describes its products by (``index.axes``); one
    side naming such a word the other lacks makes the two a range's members, not one product.
    """
    same_text = bool(a.key) and a.key == b.key
    shared = shared_code(a.codes, b.codes) if a.codes and b.codes else None
    blend = COSINE_WEIGHT * cosine + JACCARD_WEIGHT * jaccard + TOKEN_SET_WEIGHT * token_set
    base = blend + (CODE_BONUS if shared else 0.0)
    if same_text or base < floor:
        return Evidence(float(cosine), jaccard, token_set, same_text, shared, None, ())
    conflicts, extra, series = (
        _attribute_differences(a.attr_key, b.attr_key) if a.attr_key or b.attr_key else ((), (), ())
    )
    if shared:  # one code on both sides: the model tokens are that code written two ways, not two models
        series = tuple(c for c in series if c[0] != "model")
        extra = tuple(e for e in extra if e[0] != "model")
    if a.tokens == b.tokens and base >= words_from:
        series = (*series, *_reordered(a, b))
    words = _distinct_words(a, b) if base >= words_from and not shared else ((), ())
    one_sided = _one_sided(a, b, axes) if base >= words_from and not any(words) else ()
    return Evidence(  # positional: keywords cost a third more, once per candidate pair
        float(cosine),
        jaccard,
        token_set,
        same_text,
        shared,
        related_codes(a.ranked, b.ranked) if a.codes and b.codes else None,  # code_conflict
        conflicts,
        extra,
        words,
        series,
        (a.ranked[0], b.ranked[0]) if a.codes and b.codes and not shared else None,  # codes_apart
        one_sided,
        _word_axis(a, b, words, one_sided) if any(words) or one_sided else "design",
        all(words) and (len(words[0]) == len(words[1]) == 1 or all(w in axes for w in (*words[0], *words[1]))),
    )


def _reordered(a: TextFeatures, b: TextFeatures) -> tuple[Conflict, ...]:
    """The same words with colours or sizes in another order: BLUE PURSE PINK HEART / PINK PURSE BLUE HEART."""
    order_a = [w for w in a.norm.split() if w in ATTRIBUTE_WORDS]
    order_b = [w for w in b.norm.split() if w in ATTRIBUTE_WORDS]
    return (("colour or size", " … ".join(order_a), " … ".join(order_b)),) if order_a != order_b else ()


def _one_sided(a: TextFeatures, b: TextFeatures, axes: Collection[str]) -> tuple[str, ...]:
    """Words one side has and the other does not cover, when they name another product of the range.

    They do when one is a word other titles of the catalog use (``axes``), when it ends the title (a new
    noun: "Coffee" / "Coffee granules"; not in ``UNSPACED_SCRIPT``, where a chunk
    is a phrase, often a qualifier: "自动充值", auto top-up), or when there are two or more of them: a rewording
    adds a word, a new design adds a name ("... WILLIE WINKIE", "... KEEP CALM").
    """
    left, right = a.content_words - b.tokens, b.content_words - a.tokens
    left_unmatched = _unpaired(_unmatched(left, b), right) if left else ()
    right_unmatched = _unpaired(_unmatched(right, a), left) if right else ()
    if bool(left_unmatched) == bool(right_unmatched):
        return ()  # both sides have words of their own (``_distinct_words``), or neither has
    unmatched, named = (left_unmatched, a) if left_unmatched else (right_unmatched, b)
    last = named.last_word
    new_noun = last in unmatched and not UNSPACED_SCRIPT.search(last)
    if len(unmatched) < 2 and not any(w in axes for w in unmatched) and not new_noun:
        return ()
    return tuple(w for w in dict.fromkeys(named.in_order) if w in unmatched)  # in the title's order


def _unpaired(words: tuple[str, ...], theirs: frozenset[str]) -> tuple[str, ...]:
    """``words`` that are not a word of the other side written out or joined (SCANDINAVIAN / SCANDI, BONBON / BON)."""
    return tuple(w for w in words if not any(len(o) >= 3 and (o in w or w in o) for o in theirs))


def _word_axis(
    a: TextFeatures, b: TextFeatures, words: tuple[tuple[str, ...], tuple[str, ...]], one_sided: tuple[str, ...]
) -> str:
    """"item type" when the words that differ are each title's last word (its noun in English), else "design"."""
    last_a, last_b = a.last_word, b.last_word
    if all(words) and last_a in words[0] and last_b in words[1]:
        return "item type"
    if len(one_sided) == 1 and (last_a in one_sided or last_b in one_sided):
        return "item type"
    return "design"


def _distinct_words(a: TextFeatures, b: TextFeatures) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Each side's unmatched words, or none when one side has none: only both having some makes competitors.

    The plain set differences come first; the forgiving checks run only when both have words left.
    """
    left, right = a.content_words - b.tokens, b.content_words - a.tokens
    if not (left and right):
        return (), ()
    mine = _unmatched(left, b)
    theirs = _unmatched(right, a) if mine else ()
    return (mine, theirs) if theirs else ((), ())  # one side's words all covered: ``_one_sided`` reads it


Conflict = tuple[str, str, str]  # (attribute, a's values, b's values)


@functools.lru_cache(maxsize=1 << 16)
def _attribute_differences(
    a: AttributeKey, b: AttributeKey
) -> tuple[tuple[Conflict, ...], tuple[tuple[str, str], ...], tuple[Conflict, ...]]:
    """Attributes named on both sides with clashing values, values only one side names, and series clashes.

    A clash of series numbers or letters comes apart from the others: it marks another
    product only inside one catalog, so it neither lowers the score nor counts across
    sources. Worked out once per pair of attribute sets: a catalog has few distinct ones,
    and millions of title pairs repeat them.
    """
    values_a, values_b = dict(a), dict(b)
    empty: frozenset[str] = frozenset()
    conflicts: list[Conflict] = []
    extra: list[tuple[str, str]] = []
    series: list[Conflict] = []
    for name in sorted(values_a.keys() | values_b.keys()):
        va, vb = values_a.get(name, empty), values_b.get(name, empty)
        if not (va <= vb or vb <= va):
            found = series if name in SERIES_ATTRIBUTES else conflicts
            found.append((name.split(":")[0], "+".join(sorted(va)), "+".join(sorted(vb))))
        elif va != vb:
            extra.append((name.split(":")[0], "+".join(sorted(va ^ vb))))
    return tuple(conflicts), tuple(extra), tuple(series)


def _unmatched(words: frozenset[str], theirs: TextFeatures) -> tuple[str, ...]:
    """``words`` missing from the tokens of ``theirs`` that no typo, abbreviation or compound there covers."""
    known = theirs.covers  # remembered per title: a record meets the same words again in most of its pairs
    unmatched = []
    for word in words:
        covered = known.get(word)
        if covered is None:
            covered = known[word] = _covers(word, theirs)
        if not covered:
            unmatched.append(word)
    return tuple(sorted(unmatched))


def _covers(word: str, theirs: TextFeatures) -> bool:
    """``scandi`` in ``scandinavian``, ``teatowel`` = ``tea`` + ``towel``, ``cadnle`` ~ ``candle``."""
    if len(word) >= 3 and "\0" + word in theirs.joined:
        return True
    compound = "\0" + word[:2] in theirs.joined  # the first part of a split starts like the word
    if compound and any(word[:i] in theirs.tokens and word[i:] in theirs.tokens for i in range(2, len(word) - 1)):
        return True
    if len(word) < 5 or word[0] not in theirs.long_initials:  # a typo must keep a long word's first letter
        return False
    near = [t for t in theirs.ordered if abs(len(t) - len(word)) <= 1]  # no other token is one edit away
    # In sorted order, so a tie between two one-edit tokens is broken the same way in every run.
    typo = process.extractOne(word, near, scorer=DamerauLevenshtein.distance, score_cutoff=1)
    if typo is None or typo[0][0] != word[0] or len(typo[0]) < 5:
        return False
    # Another last letter is a suffix, not a slip: EFSATB / EFSATS are a stand in black and in silver.
    return not (len(typo[0]) == len(word) and typo[0][:-1] == word[:-1])
