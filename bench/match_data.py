"""Loaders for the labelled matching sets in ../shared/data (Abt-Buy, WDC computers), and the quality benches' CLI."""

from __future__ import annotations

import argparse
import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd

# beside the repository; NEXTDROP_SHARED_DATA points a worktree elsewhere at the shared copy
DATA = Path(os.environ.get("NEXTDROP_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
_WDC_TITLE = re.compile(r'^COL title VAL\s+"?(.*?)"?(?:@\w+(?:-\w+)?)?\s*$')


def abt_buy(data: Path = DATA) -> tuple[pd.DataFrame, pd.DataFrame, set[tuple[str, str]]]:
    """(abt, buy, true pairs as (buy id, abt id)); ids as strings, names stripped."""
    folder = data / "abt_buy"
    abt = pd.read_csv(folder / "Abt.csv", encoding="latin-1", dtype={"id": str})
    buy = pd.read_csv(folder / "Buy.csv", encoding="latin-1", dtype={"id": str})
    truth = pd.read_csv(folder / "abt_buy_perfectMapping.csv", dtype=str)
    for frame in (abt, buy):
        frame["name"] = frame["name"].fillna("").str.strip()
    return abt, buy, set(zip(truth["idBuy"], truth["idAbt"], strict=True))


def wdc(split: str = "test", data: Path = DATA) -> pd.DataFrame:
    """WDC computers pairs: columns ``left``, ``right`` (titles) and ``label`` (0/1)."""
    name = {"test": "test.txt", "train": "train.txt.medium", "valid": "valid.txt.medium"}[split]
    rows = []
    for line in (data / "wdc_computers" / name).read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) == 3:
            rows.append((_title(parts[0]), _title(parts[1]), int(parts[2])))
    return pd.DataFrame(rows, columns=["left", "right", "label"])


def _title(cell: str) -> str:
    match = _WDC_TITLE.match(cell.strip())
    return (match.group(1) if match else cell).replace('"', " ").strip()


def prf(predicted: set, truth: set) -> dict[str, float]:
    """Precision, recall and F1 of a predicted pair set."""
    hits = len(predicted & truth)
    precision = hits / len(predicted) if predicted else 0.0
    recall = hits / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "predicted": len(predicted), "true": len(truth)}


def quality_main(run: Callable[[str, float | None], dict], description: str | None) -> None:
    """The shared command line of the quality benches: ``--model``, ``--threshold``, JSON on stdout."""
    from nextdrop.index.embedder import DEFAULT_MODEL

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--threshold", type=float, default=None)
    args = parser.parse_args()
    print(json.dumps(run(args.model, args.threshold), indent=2))
