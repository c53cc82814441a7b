"""A deterministic synthetic store that exercises every part of nextdrop.

About 2,000 products in 12 categories, two years of daily sales with weekly and
yearly seasonality and holiday peaks, launches spread over the whole period
with launch curves, about 60 candidates, and planted duplicates with ground
truth: exact copies, reworded near-duplicates, and colour/size variants.

Demand is driven by what a title says (the product type, its material and
style) times noise, so similar titles really do sell alike: the property that
makes analog forecasts for new products possible, and testable here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from nextdrop.store.ingest import IngestReport, ingest_file
from nextdrop.store.workspace import Workspace

START = date(2024, 11, 18)  # a Monday
END = date(2026, 11, 15)  # a Sunday: two full years of weeks

# category -> (product types with a base weekly demand, materials, peak month, seasonal strength)
CATEGORIES: dict[str, tuple[dict[str, float], list[str], int, float]] = {
    "Mugs & Cups": ({"mug": 9, "espresso cup": 4, "travel mug": 6, "teacup and saucer": 3, "latte bowl": 2,
                     "tumbler": 5, "beaker": 3}, ["ceramic", "stoneware", "enamel", "porcelain", "bamboo"], 12, 0.4),
    "Candles": ({"pillar candle": 7, "tea lights": 12, "scented candle": 9, "candle holder": 4, "wax melts": 5,
                 "dinner candles": 4, "lantern": 3}, ["soy wax", "beeswax", "glass", "metal", "ceramic"], 12, 0.8),
    "Kitchen Textiles": ({"apron": 4, "tea towel": 10, "oven glove": 5, "table runner": 2, "napkins": 6,
                          "tablecloth": 2, "pot holder": 4}, ["linen", "cotton", "organic cotton", "canvas", "jute"],
                         5, 0.2),
    "Stationery": ({"notebook": 11, "greeting card": 15, "pencil set": 7, "wrapping paper": 8, "gift tags": 6,
                    "washi tape": 5, "desk planner": 3}, ["recycled paper", "kraft", "leather", "cardboard",
                                                          "linen"], 11, 0.6),
    "Toys": ({"jigsaw puzzle": 5, "wooden train": 3, "plush rabbit": 6, "skipping rope": 3, "spinning top": 4,
              "building blocks": 4, "kite": 3}, ["wooden", "plush", "cardboard", "tin", "felt"], 12, 0.7),
    "Jewellery": ({"necklace": 5, "earrings": 7, "bracelet": 6, "ring": 4, "brooch": 2, "hair clip": 6,
                   "anklet": 2}, ["silver", "gold plated", "beaded", "enamel", "resin"], 2, 0.3),
    "Bags": ({"tote bag": 8, "shopping bag": 9, "lunch bag": 5, "washbag": 4, "backpack": 3, "purse": 4,
              "jumbo bag": 10}, ["canvas", "jute", "cotton", "leather", "recycled plastic"], 9, 0.2),
    "Home Decor": ({"photo frame": 7, "cushion cover": 6, "wall clock": 3, "vase": 4, "doorstop": 2,
                    "hanging heart": 9, "sign": 5}, ["wooden", "metal", "glass", "ceramic", "velvet"], 11, 0.3),
    "Garden": ({"plant pot": 7, "watering can": 3, "bird feeder": 5, "garden kneeler": 2, "seed tin": 4,
                "string lights": 6, "trowel": 3}, ["terracotta", "zinc", "enamel", "galvanised", "bamboo"], 5, 0.7),
    "Bath & Body": ({"soap bar": 10, "bath bomb": 9, "hand cream": 6, "body scrub": 4, "loofah": 3,
                     "toiletry bag": 3, "bath salts": 5}, ["lavender", "rose", "oatmeal", "citrus", "charcoal"],
                    12, 0.5),
    "Christmas Decorations": ({"bauble": 10, "advent calendar": 5, "tree topper": 3, "wreath": 3, "garland": 4,
                               "stocking": 5, "nativity set": 2}, ["glass", "felt", "wooden", "paper", "tin"],
                              12, 2.5),
    "Lighting": ({"table lamp": 3, "fairy lights": 9, "night light": 5, "lampshade": 3, "torch": 4,
                  "led candle": 6, "light chain": 5}, ["rattan", "metal", "glass", "paper", "ceramic"], 11, 0.5),
}
STYLES = {"vintage": 1.2, "scandi": 1.0, "botanical": 1.1, "retro": 0.9, "rustic": 0.8, "minimalist": 0.9,
          "folk art": 0.7, "art deco": 0.8, "heart": 1.3, "polka dot": 1.0, "woodland": 1.0, "nautical": 0.7,
          "gingham": 0.9, "moroccan": 0.6, "bohemian": 0.8, "classic": 1.0}
MATERIAL_LIFT = [1.3, 1.0, 0.8, 0.7, 0.6]  # the first material of a category sells best
COLOURS = ["red", "blue", "green", "pink", "ivory", "black", "grey", "mustard", "teal", "lilac"]
SIZES = [("small", 0.8), ("medium", 1.0), ("large", 1.2), ("jumbo", 1.4)]
FEATURES = ["hand finished", "gift boxed", "fair trade", "designed in our studio", "sustainably sourced",
            "dishwasher safe", "a customer favourite", "perfect for gifting", "made in small batches"]
# (name, month, day, uplift on the week) - fixed dates keep the demo reproducible
EVENTS = [("Valentine's Day", 2, 14, 0.25, "holiday"), ("Mother's Day", 3, 30, 0.3, "holiday"),
          ("Spring Sale", 4, 20, 0.35, "promo"), ("Summer Sale", 7, 10, 0.3, "promo"),
          ("Black Friday", 11, 27, 0.6, "promo"), ("Christmas", 12, 25, 0.0, "holiday")]


@dataclass
class DemoStore:
    """The demo store's tables, plus the ground truth a real store never has."""

    products: pd.DataFrame
    sales: pd.DataFrame
    candidates: pd.DataFrame
    events: pd.DataFrame
    truth_pairs: pd.DataFrame  # a, b, kind (exact | near_duplicate | variant); a candidate's id comes first
    weekly_rate: pd.Series  # expected units per week at maturity, by product or candidate id


def generate_demo(seed: int = 7, n_products: int = 2000, n_candidates: int = 60) -> DemoStore:
    """Build the demo store; the same seed gives the same store, byte for byte."""
    rng = np.random.default_rng(seed)
    base = _base_products(rng, n_products)
    catalog, truth = _plant_duplicates(rng, base)
    catalog = catalog.reset_index(drop=True)
    candidates, candidate_truth = _candidates(rng, base, n_candidates)
    events = _events()
    sales = _sales(rng, catalog, events)
    rates = pd.concat([catalog.set_index("product_id")["rate"], candidates.set_index("candidate_id")["rate"]])
    return DemoStore(
        products=catalog.drop(columns=["rate", "combo"]),
        sales=sales,
        candidates=candidates.drop(columns=["rate"]),
        events=events,
        truth_pairs=pd.concat([truth, candidate_truth], ignore_index=True),
        weekly_rate=rates.rename("weekly_rate"),
    )


def write_demo_files(demo: DemoStore, folder: Path) -> dict[str, Path]:
    """The demo as the CSV exports a merchant would have, plus the ground truth."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for name in ("products", "sales", "candidates", "events"):
        files[name] = folder / f"{name}.csv"
        getattr(demo, name).to_csv(files[name], index=False)
    demo.truth_pairs.to_csv(folder / "truth_pairs.csv", index=False)
    return files


def create_demo_workspace(
    directory: Path, seed: int = 7, n_products: int = 2000
) -> tuple[Workspace, list[IngestReport]]:
    """A workspace in ``directory`` with the demo store ingested through the normal ingest path.

    Returns the workspace and the ingest reports, in ingest order.
    """
    ws = Workspace.init(directory)
    demo = generate_demo(seed=seed, n_products=n_products)
    files = write_demo_files(demo, directory / "demo-data")
    reports = [ingest_file(ws, kind, files[kind]) for kind in ("products", "sales", "candidates", "events")]
    return ws, reports


# --- catalog -----------------------------------------------------------------------------------------


def _base_products(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Distinct (style, material, type) combinations; no two base products are variants of each other."""
    combos = [(cat, noun, mat_i, style) for cat, (nouns, mats, _, _) in CATEGORIES.items()
              for noun in nouns for mat_i in range(len(mats)) for style in STYLES]
    picks = rng.choice(len(combos), size=n, replace=False)
    rows = []
    for number, pick in enumerate(sorted(picks)):
        cat, noun, mat_i, style = combos[pick]
        nouns, mats, _, _ = CATEGORIES[cat]
        material = mats[mat_i]
        rate = nouns[noun] * MATERIAL_LIFT[mat_i] * STYLES[style] * float(rng.lognormal(0.0, 0.35))
        price = round(float(2.5 + nouns[noun] ** 0.3 * rng.uniform(1.5, 6.0) * (1.4 if mat_i == 3 else 1.0)), 2)
        rows.append({
            "product_id": f"P{10000 + number}",
            "title": f"{style.title()} {material.title()} {noun.title()}",
            "description": _description(rng, style, material, noun),
            "category": cat,
            "price": price,
            "cost": round(price * float(rng.uniform(0.35, 0.6)), 2),
            "launch_date": _launch_date(rng),
            "attributes": json.dumps({"material": material, "style": style}),
            "rate": round(rate, 3),
            "combo": (cat, noun, material, style),
        })
    return pd.DataFrame(rows)


def _description(rng: np.random.Generator, style: str, material: str, noun: str) -> str:
    features = rng.choice(FEATURES, size=2, replace=False)
    return (f"A {style} {noun} in {material}, {features[0]}. "
            f"Part of our {style} range; {features[1]}.")


def _launch_date(rng: np.random.Generator) -> str:
    """A third were selling before the data starts; the rest launch throughout the two years."""
    if rng.random() < 0.33:
        return (START - timedelta(days=int(rng.integers(60, 900)))).isoformat()
    return (START + timedelta(days=int(rng.integers(0, (END - START).days - 20)))).isoformat()


def _plant_duplicates(rng: np.random.Generator, base: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Add exact copies, reworded near-duplicates and variant groups, with their labels."""
    extra, truth = [], []
    next_id = 20000
    order = rng.permutation(len(base))
    exact_src, near_src, variant_src = order[:30], order[30:90], order[90:150]
    for i in exact_src:
        row = base.iloc[i].to_dict()
        copy = {**row, "product_id": f"P{next_id}", "launch_date": _launch_date(rng)}
        extra.append(copy)
        truth.append((row["product_id"], copy["product_id"], "exact"))
        next_id += 1
    for i in near_src:
        row = base.iloc[i].to_dict()
        copy = {**row, "product_id": f"P{next_id}", "title": reword(rng, row["title"]),
                "description": reword(rng, row["description"]), "launch_date": _launch_date(rng),
                "rate": round(row["rate"] * float(rng.uniform(0.6, 1.2)), 3)}
        extra.append(copy)
        truth.append((row["product_id"], copy["product_id"], "near_duplicate"))
        next_id += 1
    for i in variant_src:
        row = base.iloc[i].to_dict()
        group = [row["product_id"]]
        for variant_title, lift in _variant_titles(rng, row["title"]):
            copy = {**row, "product_id": f"P{next_id}", "title": variant_title,
                    "rate": round(row["rate"] * lift, 3), "launch_date": _launch_date(rng)}
            extra.append(copy)
            truth.extend((other, copy["product_id"], "variant") for other in group)
            group.append(copy["product_id"])
            next_id += 1
    catalog = pd.concat([base, pd.DataFrame(extra)], ignore_index=True)
    return catalog, pd.DataFrame(truth, columns=["a", "b", "kind"])


REWORDINGS = [("And", "&"), ("Set", "Set Of"), ("Mug", "Coffee Mug"), ("Lights", "Light"),
              ("Vintage", "Vintage-Style"), ("Scandi", "Scandinavian"), ("Tea Towel", "Teatowel")]


def reword(rng: np.random.Generator, text: str) -> str:
    """The same product, written by someone else: case, a typo, a synonym, a marketing word."""
    out = text
    for old, new in REWORDINGS:
        if old in out and rng.random() < 0.7:
            out = out.replace(old, new, 1)
    move = rng.integers(0, 4)
    if move == 0:
        out = out.upper()
    elif move == 1:
        out = "New " + out
    elif move == 2 and len(out) > 8:
        k = int(rng.integers(2, len(out) - 2))
        out = out[:k] + out[k + 1] + out[k] + out[k + 2:]  # swapped letters
    else:
        out = out + " (Gift Edition)" if "." not in out else out.replace(".", "!", 1)
    return out if out != text else text + " "  # never byte-identical: that would be an exact duplicate


def _variant_titles(rng: np.random.Generator, title: str) -> list[tuple[str, float]]:
    """Two or three colour or size variants of one product line."""
    count = int(rng.integers(2, 4))
    if rng.random() < 0.5:
        colours = rng.choice(COLOURS, size=count, replace=False)
        return [(f"{title} - {c.title()}", float(rng.uniform(0.6, 1.1))) for c in colours]
    sizes = [SIZES[j] for j in sorted(rng.choice(len(SIZES), size=count, replace=False))]
    return [(f"{s.title()} {title}", lift) for s, lift in sizes]


# --- candidates --------------------------------------------------------------------------------------


def _candidates(rng: np.random.Generator, base: pd.DataFrame, n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """New ideas (mostly unseen combinations), some of which duplicate or vary the catalog."""
    used = set(base["combo"])
    fresh = [(cat, noun, mi, style) for cat, (nouns, mats, _, _) in CATEGORIES.items()
             for noun in nouns for mi in range(len(mats)) for style in STYLES
             if (cat, noun, mats[mi], style) not in used]
    n_dupes = n // 6
    picks = rng.choice(len(fresh), size=n - 2 * n_dupes, replace=False)
    rows, truth = [], []
    for number, pick in enumerate(picks):
        cat, noun, mi, style = fresh[pick]
        nouns, mats, _, _ = CATEGORIES[cat]
        rate = nouns[noun] * MATERIAL_LIFT[mi] * STYLES[style] * float(rng.lognormal(0.0, 0.35))
        price = round(float(2.5 + nouns[noun] ** 0.3 * rng.uniform(1.5, 6.0)), 2)
        rows.append(_candidate_row(rng, f"C{100 + number}", f"{style.title()} {mats[mi].title()} {noun.title()}",
                                   _description(rng, style, mats[mi], noun), cat, price, rate))
    sources = base.iloc[rng.choice(len(base), size=2 * n_dupes, replace=False)]
    for k, (_, src) in enumerate(sources.iterrows()):
        cid = f"C{100 + len(rows)}"
        if k < n_dupes // 2:
            title, desc, kind = src["title"], src["description"], "exact"
        elif k < n_dupes:
            title, desc, kind = reword(rng, src["title"]), reword(rng, src["description"]), "near_duplicate"
        else:
            title, desc, kind = _variant_titles(rng, src["title"])[0][0], src["description"], "variant"
        rows.append(_candidate_row(rng, cid, title, desc, src["category"], src["price"], src["rate"]))
        truth.append((cid, src["product_id"], kind))
    return pd.DataFrame(rows), pd.DataFrame(truth, columns=["a", "b", "kind"])


def _candidate_row(rng: np.random.Generator, cid: str, title: str, desc: str, cat: str, price: float,
                   rate: float) -> dict:
    earliest = END + timedelta(days=int(rng.integers(1, 60))) if rng.random() < 0.3 else None
    return {"candidate_id": cid, "title": title, "description": desc, "category": cat, "price": price,
            "cost": round(price * float(rng.uniform(0.35, 0.6)), 2),
            "earliest_date": earliest.isoformat() if earliest else "",
            "lead_time_days": int(rng.choice([7, 14, 21, 28, 42])), "min_order_qty": int(rng.choice([12, 24, 48, 96])),
            "rate": round(rate, 3)}


# --- sales -------------------------------------------------------------------------------------------


def _events() -> pd.DataFrame:
    rows = [(date(year, month, day).isoformat(), name, kind)
            for year in (2024, 2025, 2026) for name, month, day, _, kind in EVENTS
            if START <= date(year, month, day) <= END + timedelta(days=60)]
    return pd.DataFrame(rows, columns=["date", "name", "kind"])


def _sales(rng: np.random.Generator, catalog: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """Daily Poisson sales: rate x launch curve x yearly season x weekday x events, plus a few returns."""
    days = pd.date_range(START, END, freq="D")
    day_of_year = days.dayofyear.to_numpy()
    weekday = np.array([0.8, 0.85, 0.9, 0.95, 1.1, 1.25, 1.15])[days.weekday]
    event_lift = np.ones(len(days))
    for _, month, day, lift, _ in EVENTS:
        for year in (2024, 2025, 2026):
            centre = pd.Timestamp(year, month, day)
            window = (days >= centre - pd.Timedelta(days=6)) & (days <= centre)
            event_lift[window] += lift
    closed = ((days.month == 12) & (days.day >= 24)) | ((days.month == 1) & (days.day <= 2))
    christmas_dip = np.where(closed, 0.2, 1.0)
    launch = pd.to_datetime(catalog["launch_date"]).to_numpy()
    age_weeks = (days.to_numpy()[None, :] - launch[:, None]) / np.timedelta64(7, "D")
    ramp = 1.0 - np.exp(-(age_weeks + 1.0) / 2.0)
    curve = np.where(age_weeks >= 0, ramp * (1.0 + 1.2 * np.exp(-np.clip(age_weeks, 0, None) / 6.0)), 0.0)
    peaks = np.array([CATEGORIES[c][2] for c in catalog["category"]])
    strength = np.array([CATEGORIES[c][3] for c in catalog["category"]])
    phase = 2 * np.pi * (day_of_year[None, :] - (peaks[:, None] - 0.5) * 30.4) / 365.25
    season = np.clip(1.0 + strength[:, None] * (0.5 + 0.5 * np.cos(phase)) ** 3 - strength[:, None] * 0.15, 0.1, None)
    daily = catalog["rate"].to_numpy()[:, None] / 7.0 * curve * season * weekday * event_lift * christmas_dip
    units = rng.poisson(daily)
    product_idx, day_idx = np.nonzero(units)
    qty = units[product_idx, day_idx]
    prices = catalog["price"].to_numpy()[product_idx]
    sales = pd.DataFrame({
        "date": days[day_idx].strftime("%Y-%m-%d"),
        "product_id": catalog["product_id"].to_numpy()[product_idx],
        "quantity": qty,
        "unit_price": prices,
        "order_id": [f"D{n:07d}" for n in range(len(qty))],
        "customer_id": rng.integers(100000, 100000 + 8000, size=len(qty)).astype(str),
    })
    returns = sales.sample(frac=0.015, random_state=int(rng.integers(1 << 31)))
    returns = returns.assign(quantity=-1, order_id="C" + returns["order_id"].str.slice(1))
    return pd.concat([sales, returns], ignore_index=True).sort_values(["date", "order_id"], kind="stable")
