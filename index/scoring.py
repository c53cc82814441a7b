"""Score one pair of titles and say what kind of pair it is, and why.

The score blends meaning (embedding cosine) with surface evidence (character 3-gram
Jaccard, token-set ratio), adds a bonus for a shared model code and subtracts a penalty
for conflicting codes or attributes. One fixed configuration serves every catalog; the
weights were set by hand, the threshold on WDC computers (see BENCHMARKS.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz

from nextdrop.index.text import TextFeatures, related_codes, shared_code

COSINE_WEIGHT = 0.5
JACCARD_WEIGHT = 0.25
TOKEN_SET_WEIGHT = 0.25
CODE_BONUS = 0.12
CODE_PENALTY = 0.25
ATTRIBUTE_PENALTY = 0.15
SIMILAR_MARGIN = 0.15  # pairs this far below the threshold are still "similar"

KINDS = ("exact", "near_duplicate", "variant", "similar")


@dataclass(frozen=True)
class Evidence:
    """What was measured for a pair; enough to re-classify it at any threshold."""

    cosine: float
    jaccard: float
    token_set: float
    same_text: bool
    shared_code: str | None
    code_conflict: tuple[str, str] | None
    attribute_conflicts: tuple[tuple[str, str, str], ...]  # (attribute, a's values, b's values)

    @property
    def base(self) -> float:
        """Similarity before any conflict penalty."""
        blend = COSINE_WEIGHT * self.cosine + JACCARD_WEIGHT * self.jaccard + TOKEN_SET_WEIGHT * self.token_set
        return min(1.0, blend + (CODE_BONUS if self.shared_code else 0.0))

    @property
    def conflicted(self) -> bool:
        return self.code_conflict is not None or bool(self.attribute_conflicts)

    @property
    def score(self) -> float:
        """The pair's score: 1.0 for the same text, else the base minus conflict penalties."""
        if self.same_text:
            return 1.0
        penalty = (CODE_PENALTY if self.code_conflict else 0.0) + ATTRIBUTE_PENALTY * len(self.attribute_conflicts)
        return max(0.0, self.base - penalty)

    def kind(self, threshold: float) -> str | None:
        """exact / near_duplicate / variant / similar, or None when the pair is unrelated."""
        if self.same_text:
            return "exact"
        if self.base >= threshold:
            return "variant" if self.conflicted else "near_duplicate"
        if self.base >= threshold - SIMILAR_MARGIN:
            return "similar"
        return None

    def reason(self) -> str:
        """One line a merchant can check against the two titles."""
        if self.same_text:
            return "same text after normalisation"
        parts = [f"cosine {self.cosine:.2f}, text overlap {self.jaccard:.2f}"]
        if self.shared_code:
            parts.append(f"shared code {self.shared_code}")
        if self.code_conflict:
            parts.append(f"different codes {self.code_conflict[0]} / {self.code_conflict[1]}")
        for name, a, b in self.attribute_conflicts:
            parts.append(f"{name} {a} / {b}")
        return "; ".join(parts)


def evidence(a: TextFeatures, b: TextFeatures, cosine: float) -> Evidence:
    """Measure one pair (``cosine`` comes from the embeddings, already computed in bulk)."""
    same = bool(a.key) and a.key == b.key
    union = len(a.grams | b.grams)
    jaccard = len(a.grams & b.grams) / union if union else 0.0
    token_set = fuzz.token_set_ratio(" ".join(sorted(a.tokens)), " ".join(sorted(b.tokens))) / 100.0
    shared = shared_code(a.codes, b.codes)
    attribute_conflicts = tuple(
        (name.split(":")[0], "+".join(sorted(a.attrs[name])), "+".join(sorted(b.attrs[name])))
        for name in sorted(a.attrs.keys() & b.attrs.keys())
        if not a.attrs[name] & b.attrs[name]
    )
    return Evidence(
        cosine=float(cosine),
        jaccard=jaccard,
        token_set=token_set,
        same_text=same,
        shared_code=shared,
        code_conflict=related_codes(a.codes, b.codes),
        attribute_conflicts=attribute_conflicts,
    )
