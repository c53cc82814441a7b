"""Does a small learned pair decision beat the hand-set score across labelled sets? A transfer matrix.

Run: HF_HUB_OFFLINE=1 nice -n 10 .venv/bin/python bench/match_transfer.py [/tmp/or]
     (``--export`` instead refits the shipped decision, index/decision.json, on WDC train + valid)

Every set's pairs become ``index.scoring.Evidence`` features (cheap ones only: cosine,
lexical overlaps, codes, conflicts, range flags; no cross-encoder). Sets and splits:
- WDC computers: fit on train + valid, evaluate on test (never fitted on);
- Abt-Buy: matched pairs plus hard negatives (the nearest non-matching Abt records of the
  same brand); evaluated as bench/match_abt_buy.py does it, one-to-one over the mined
  candidates; fitting on it uses the Buy records of one hash half;
- Online Retail labelled pairs (bench/labels; duplicate = positive, the rest negative),
  demo store planted pairs (exact / near_duplicate positive; variants and nearest unplanted
  neighbours negative): each 50/50 by a seeded hash of the pair, fit on one half, evaluate
  on the other.
Models: logistic regression with a few interactions, and a depth-limited gradient boosting
with monotone constraints; each one's probability threshold is the F1-best on the data it
was fitted on. The reference row is the hand-set score at the default threshold, run on
the same pairs in the same run.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from match_data import abt_buy, prf, wdc
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from nextdrop.index.assign import one_to_one
from nextdrop.index.axes import variant_words
from nextdrop.index.catalog import catalog_texts
from nextdrop.index.decision import DECISION_FILE, FEATURES, columns, interactions
from nextdrop.index.dedup import DUPLICATE_KINDS
from nextdrop.index.embedder import DEFAULT_MODEL, load_embedder
from nextdrop.index.mining import Records, mine_across
from nextdrop.index.scoring import KINDS, UNRELATED, Evidence, classify, evidence
from nextdrop.index.text import TextFeatures, has_title
from nextdrop.index.vectors import VectorIndex
from nextdrop.settings import IndexSettings
from nextdrop.store.demo import generate_demo
from nextdrop.store.workspace import Workspace

LABELS = Path(__file__).parent / "labels"
# +1: more of it never makes a match less likely; -1: never more likely; 0: free (``decision.FEATURES`` order).
MONOTONE = (1, 1, 1, 1, -1, -1, 0, -1, -1, -1, -1, -1)


@dataclass
class Labelled:
    """A set's pairs: evidence, labels, and which pairs may be fitted on."""

    name: str
    found: list[Evidence]
    label: np.ndarray
    fit: np.ndarray  # bool per pair: in the fitting part
    same_source: bool

    @property
    def x(self) -> np.ndarray:
        return columns(self.found)


def _half(keys: list[str]) -> np.ndarray:
    """A seeded 50/50 split by hash: True = fitting half."""
    return np.array([hashlib.sha256(f"19:{k}".encode()).digest()[0] < 128 for k in keys])


def _measure(pairs: list[tuple[str, str]], embedder, axes=frozenset()) -> list[Evidence]:
    texts = sorted({t for p in pairs for t in p})
    vectors = dict(zip(texts, embedder.encode(texts), strict=True))
    feats = {t: TextFeatures(t) for t in texts}
    return [evidence(feats[a], feats[b], float(vectors[a] @ vectors[b]), axes=axes) for a, b in pairs]


def wdc_sets(embedder) -> tuple[Labelled, Labelled]:
    fitted, test = [], None
    for split in ("train", "valid", "test"):
        frame = wdc(split)
        found = _measure(list(zip(frame["left"], frame["right"], strict=True)), embedder)
        labelled = Labelled(f"wdc {split}", found, frame["label"].to_numpy() == 1,
                            np.full(len(found), split != "test"), False)
        if split == "test":
            test = labelled
        else:
            fitted.append(labelled)
    train, valid = fitted
    found = train.found + valid.found
    label = np.concatenate([train.label, valid.label])
    merged = Labelled("WDC train+valid", found, label, np.ones(len(found), bool), False)
    return merged, test


def online_retail(workspace: Path, embedder) -> Labelled:
    read = csv.DictReader((LABELS / "online_retail_labels.csv").open(encoding="utf-8"))
    labels = {r["pair"]: r["label"] for r in read}
    rows = list(csv.DictReader((LABELS / "online_retail_pairs.csv").open(encoding="utf-8")))
    titles = catalog_texts(Workspace.find(workspace))[1]
    axes = variant_words(t for t in titles if has_title(t))
    rows = [r for r in rows if labels[r["pair"]] != "no_title"]  # never text-matched: the product says "no title"
    found = _measure([(r["title_a"], r["title_b"]) for r in rows], embedder, axes)
    label = np.array([labels[r["pair"]] == "duplicate" for r in rows])
    return Labelled("Online Retail", found, label, _half([r["pair"] for r in rows]), True)


def demo(embedder) -> Labelled:
    store = generate_demo()
    title = dict(zip(store.products["product_id"], store.products["title"], strict=True))
    title |= dict(zip(store.candidates["candidate_id"], store.candidates["title"], strict=True))
    truth = store.truth_pairs
    pairs = [(title[a], title[b]) for a, b in zip(truth["a"], truth["b"], strict=True)]
    positive = [k != "variant" for k in truth["kind"]]
    planted = {frozenset(p) for p in zip(truth["a"], truth["b"], strict=True)}
    ids = list(title)
    texts = [title[i] for i in ids]
    vectors = embedder.encode(texts)
    row = {pid: n for n, pid in enumerate(ids)}
    for a in sorted({x for p in planted for x in p}):  # each planted record's nearest unplanted neighbours
        sims = vectors @ vectors[row[a]]
        taken = 0
        for n in np.argsort(-sims)[1:10].tolist():
            if frozenset((a, ids[n])) not in planted and title[a] != texts[n] and taken < 2:
                pairs.append((title[a], texts[n]))
                positive.append(False)
                taken += 1
    found = _measure(pairs, embedder)
    return Labelled("demo", found, np.array(positive), _half([f"{a}|{b}" for a, b in pairs]), True)


def abt_buy_sets(embedder) -> tuple[Labelled, Callable[[Callable[[list[Evidence]], np.ndarray]], dict]]:
    """Pairs to fit on (one hash half of Buy records) and the one-to-one evaluation over mined candidates."""
    abt, buy, truth = abt_buy()
    abt_name = dict(zip(abt["id"], abt["name"], strict=True))
    buy_name = dict(zip(buy["id"], buy["name"], strict=True))
    abt_vec = embedder.encode(list(abt["name"]))
    buy_vec = embedder.encode(list(buy["name"]))
    catalog = Records(list(abt["id"]), list(abt["name"]), abt_vec)
    feed = Records(list(buy["id"]), list(buy["name"]), buy_vec)
    index = VectorIndex(embedder.dim)
    index.add(catalog.ids, catalog.vectors)
    mined = mine_across(feed, catalog, index, threshold=IndexSettings().threshold)
    cand = [(mined.left_ids[a], mined.right_ids[b]) for a, b in zip(mined.a.tolist(), mined.b.tolist(), strict=True)]
    cand_found = _measure([(buy_name[a], abt_name[b]) for a, b in cand], embedder)

    brand = {pid: name.split()[0].lower() if name else "" for pid, name in abt_name.items()}
    buy_row = {pid: n for n, pid in enumerate(buy["id"])}
    pairs, label = [], []
    for b, a in sorted(truth):
        pairs.append((b, a))
        label.append(True)
        sims = abt_vec @ buy_vec[buy_row[b]]
        taken = 0
        for n in np.argsort(-sims)[:30].tolist():
            other = abt["id"].iat[n]
            if other != a and brand[other] == brand[a] and (b, other) not in truth and taken < 3:
                pairs.append((b, other))
                label.append(False)
                taken += 1
    found = _measure([(buy_name[b], abt_name[a]) for b, a in pairs], embedder)
    fit = _half([b for b, _ in pairs])
    fitting = Labelled("Abt-Buy (half)", found, np.array(label), fit, False)

    def evaluate(decide: Callable[[list[Evidence]], np.ndarray]) -> dict:
        score = decide(cand_found)  # a duplicate where score >= 0; higher is better
        chosen = [(a, b, float(s)) for (a, b), s in zip(cand, score, strict=True) if s >= 0]
        return prf(one_to_one(chosen), truth)

    return fitting, evaluate


def hand_set(threshold: float, same_source: bool) -> Callable[[list[Evidence]], np.ndarray]:
    """The hand-set rule (no learned probability): the score where the kind is a merge kind, else -1."""
    def decide(found: list[Evidence]) -> np.ndarray:
        base = np.array([e.base for e in found])
        flags = np.array([e.flags for e in found], dtype=np.uint8)
        codes = classify(base, flags, threshold, same_source)
        merge = np.array([c != UNRELATED and KINDS[c] in DUPLICATE_KINDS for c in codes.tolist()], dtype=bool)
        return np.where(merge, [e.score for e in found], -1.0)
    return decide


def shipped(threshold: float) -> Callable[[list[Evidence]], np.ndarray]:
    """The package's cross-source decision as it stands (learned when ``index/decision.json`` ships)."""
    def decide(found: list[Evidence]) -> np.ndarray:
        return np.array([e.score if e.kind(threshold, False) in DUPLICATE_KINDS else -1.0 for e in found])
    return decide


def export(path: Path = DECISION_FILE) -> None:
    """Fit the logistic decision on WDC computers train + valid only and write it where the package reads it."""
    embedder = load_embedder(DEFAULT_MODEL)
    wdc_fit, _ = wdc_sets(embedder)
    x, y = wdc_fit.x, wdc_fit.label
    model = LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced").fit(interactions(x), y)
    p = model.predict_proba(interactions(x))[:, 1]
    best = max(np.unique(np.round(p, 3)), key=lambda t: _f1(p >= t, y))
    found = {
        "fitted_on": "WDC computers train.txt.medium + valid.txt.medium (never test), by bench/match_transfer.py",
        "model": DEFAULT_MODEL,
        "features": list(FEATURES),
        "interactions": ["cosine*shared_code", "cosine*code_conflict", "jaccard*token_set"],
        "coef": [round(float(c), 6) for c in model.coef_[0]],
        "intercept": round(float(model.intercept_[0]), 6),
        "cutoff": float(best),
        "default_threshold": IndexSettings().threshold,
    }
    path.write_text(json.dumps(found, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path}: cutoff {best}")


def fit(kind: str, x: np.ndarray, y: np.ndarray) -> Callable[[list[Evidence]], np.ndarray]:
    """A model fitted on (x, y), thresholded at its F1-best probability there."""
    if kind == "logistic":
        model = LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced").fit(interactions(x), y)
        prob = lambda f: model.predict_proba(interactions(f))[:, 1]  # noqa: E731
    else:
        model = HistGradientBoostingClassifier(max_depth=3, max_iter=150, learning_rate=0.1,
                                               monotonic_cst=list(MONOTONE), random_state=0).fit(x, y)
        prob = lambda f: model.predict_proba(f)[:, 1]  # noqa: E731
    p = prob(x)
    grid = np.unique(np.round(p, 3))
    best = max(grid, key=lambda t: _f1(p >= t, y))

    def decide(found: list[Evidence]) -> np.ndarray:
        q = prob(columns(found))
        return np.where(q >= best, q, -1.0)
    return decide


def _f1(predicted: np.ndarray, y: np.ndarray) -> float:
    tp = int((predicted & y).sum())
    return 2 * tp / max(int(predicted.sum()) + int(y.sum()), 1)


def _pairwise(decide: Callable[[list[Evidence]], np.ndarray], s: Labelled) -> str:
    held = ~s.fit if s.fit.any() and not s.fit.all() else np.ones(len(s.found), bool)
    found = [e for e, h in zip(s.found, held, strict=True) if h]
    predicted, y = decide(found) >= 0, s.label[held]
    tp = int((predicted & y).sum())
    precision = tp / max(int(predicted.sum()), 1)
    return f"{_f1(predicted, y):.3f} (P {precision:.2f})"


def main(workspace: Path) -> None:
    embedder = load_embedder(DEFAULT_MODEL)
    threshold = IndexSettings().threshold
    wdc_fit, wdc_test = wdc_sets(embedder)
    abt_fit, abt_eval = abt_buy_sets(embedder)
    retail, planted = online_retail(workspace, embedder), demo(embedder)
    for s in (wdc_fit, wdc_test, abt_fit, retail, planted):
        print(f"{s.name}: {len(s.found)} pairs, {int(s.label.sum())} positive, {int(s.fit.sum())} in the fitting part")
    rows: list[tuple[str, Callable[[list[Evidence]], np.ndarray], Callable[[list[Evidence]], np.ndarray]]] = [
        (f"hand-set score >= {threshold} (reference)", hand_set(threshold, False), hand_set(threshold, True)),
        ("hand-set, cross-source rules on OR and demo", hand_set(threshold, False), hand_set(threshold, False)),
        ("shipped cross-source decision (package)", shipped(threshold), shipped(threshold)),
    ]
    sources = [wdc_fit, abt_fit, retail, planted]
    combined = (wdc_fit, retail, planted)
    for kind in ("logistic", "gbm"):
        for s in sources:
            x, y = s.x[s.fit], s.label[s.fit]
            decide = fit(kind, x, y)
            rows.append((f"{kind} on {s.name}", decide, decide))
        x = np.vstack([s.x[s.fit] for s in combined])
        y = np.concatenate([s.label[s.fit] for s in combined])
        decide = fit(kind, x, y)
        rows.append((f"{kind} on WDC train+valid + OR + demo", decide, decide))
    print("\npairwise F1 (precision) on each held-out part; Abt-Buy one-to-one F1 over mined candidates")
    print(f"{'fitted on':<46} {'WDC test':>16} {'Abt-Buy 1:1':>16} {'Abt-Buy pairs':>16} {'OR held-out':>16} "
          f"{'demo held-out':>16}")
    for name, across, within in rows:
        abt = abt_eval(across)
        print(f"{name:<46} {_pairwise(across, wdc_test):>16} {abt['f1']:>8.3f} (P {abt['precision']:.2f}) "
              f"{_pairwise(across, abt_fit):>16} {_pairwise(within, retail):>16} {_pairwise(within, planted):>16}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--export"]:
        export()
    else:
        main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/or"))
