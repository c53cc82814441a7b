"""Quality on real labelled data and the demo store, at the default settings (slow: the real model)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest
from conftest import shared_file

BENCH = Path(__file__).resolve().parents[1] / "bench"


def bench(name: str):
    sys.path.insert(0, str(BENCH))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(BENCH))


@pytest.mark.slow
def test_abt_buy_f1_reaches_the_target() -> None:
    shared_file("abt_buy", "Abt.csv")
    figures = bench("match_abt_buy").run()
    assert figures["one_to_one"]["f1"] >= 0.90
    assert figures["candidate_recall"] >= 0.97


@pytest.mark.slow
def test_wdc_computers_pairwise_f1() -> None:
    shared_file("wdc_computers", "test.txt")
    assert bench("match_wdc").run()["test"]["f1"] >= 0.72


@pytest.mark.slow
def test_demo_store_planted_duplicates_and_variants() -> None:
    figures = bench("dedup_demo").run()
    assert figures["duplicates"]["recall"] >= 0.95
    assert figures["variants"]["recall"] >= 0.9
    assert figures["variant_called_duplicate"] <= 0.08
    assert figures["candidate_duplicates"]["recall"] >= 0.8
