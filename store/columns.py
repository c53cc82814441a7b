"""Which source column feeds which field: aliases per table, or an explicit mapping file.

Names are compared after folding case and dropping everything but letters and
digits, so ``Customer ID``, ``CustomerID`` and ``customer_id`` are one name.
Aliases cover the UCI Online Retail layout, Shopify and WooCommerce exports and
the plain names people use. Where several aliases of a field are present, the
first in the list wins, and the others are kept as fallbacks for empty cells
(a Shopify variant without a SKU falls back to its Handle).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nextdrop.errors import InputError

KINDS = ("products", "sales", "candidates", "reviews", "events")

# field -> aliases, per kind; a field in REQUIRED must be found (or mapped, or defaulted)
ALIASES: dict[str, dict[str, list[str]]] = {
    "sales": {
        "date": ["date", "invoicedate", "invoice date", "order date", "created at", "paid at", "datetime",
                 "timestamp", "orderdate", "transaction date", "sale date"],
        "time": ["time"],
        "product_id": ["product_id", "stockcode", "stock code", "sku", "lineitem sku", "variant sku",
                       "product id", "item code", "product code", "item id", "item", "product"],
        "quantity": ["quantity", "qty", "lineitem quantity", "units", "item quantity", "quantity ordered"],
        "unit_price": ["unit_price", "price", "unitprice", "unit price", "lineitem price", "item cost",
                       "item price", "sale price"],
        "order_id": ["order_id", "invoice", "invoiceno", "invoice no", "order", "order number", "order id",
                     "transaction", "transaction id", "receipt"],
        "customer_id": ["customer_id", "customer id", "customerid", "customer", "email", "customer email",
                        "billing email", "customer user", "customer user id"],
        "country": ["country", "billing country", "shipping country"],
        "description": ["description", "lineitem name", "item name", "product name", "title", "name"],
    },
    "products": {
        "product_id": ["product_id", "sku", "variant sku", "stockcode", "stock code", "product id", "item code",
                       "handle", "id"],
        "title": ["title", "name", "product name", "product title", "description"],
        "description": ["description", "body html", "body", "long description", "short description",
                        "product description"],
        "category": ["category", "categories", "product category", "type", "product type", "department"],
        "price": ["price", "variant price", "regular price", "unit price", "unitprice", "sale price"],
        "cost": ["cost", "cost per item", "unit cost", "purchase price"],
        "launch_date": ["launch_date", "launch date", "published at", "created at", "date created", "release date"],
        "attributes": ["attributes", "tags"],
        "handle": ["handle"],
    },
    "candidates": {
        "candidate_id": ["candidate_id", "candidate id", "id", "sku", "product_id", "product id", "handle"],
        "title": ["title", "name", "product name", "product title"],
        "description": ["description", "body html", "body", "short description", "product description"],
        "category": ["category", "categories", "product category", "type", "product type"],
        "price": ["price", "retail price", "variant price", "regular price", "unit price"],
        "cost": ["cost", "unit cost", "cost per item", "purchase price"],
        "earliest_date": ["earliest_date", "earliest date", "available from", "available date"],
        "lead_time_days": ["lead_time_days", "lead time days", "lead time", "leadtime"],
        "min_order_qty": ["min_order_qty", "moq", "min order qty", "minimum order quantity", "min order"],
        "attributes": ["attributes", "tags"],
    },
    "reviews": {
        "product_id": ["product_id", "product id", "sku", "stockcode", "product", "item"],
        "rating": ["rating", "stars", "score", "review rating"],
        "text": ["text", "review", "body", "comment", "review text", "content"],
        "date": ["date", "review date", "created at", "published at"],
    },
    "events": {
        "date": ["date", "day", "event date", "start date"],
        "name": ["name", "event", "title", "holiday"],
        "kind": ["kind", "type", "event type"],
    },
}

# Shopify and WooCommerce spell attribute pairs as numbered name/value columns.
ATTRIBUTE_PAIR = re.compile(r"^(?:option|attribute)(\d+)(name|values?)$")

REQUIRED: dict[str, set[str]] = {
    "sales": {"date", "product_id", "quantity"},
    "products": {"product_id", "title"},
    "candidates": {"candidate_id", "title", "price"},
    "reviews": {"product_id", "rating"},
    "events": {"date", "name"},
}


def fold(name: str) -> str:
    """Case- and punctuation-insensitive form of a column name."""
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


@dataclass
class Mapping:
    """An explicit mapping file: source columns per field, constant defaults, and reading options."""

    columns: dict[str, str] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    @classmethod
    def load(cls, path: Path) -> Mapping:
        """Read a mapping TOML (sections ``[columns]``, ``[defaults]``, ``[options]``)."""
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(f"mapping file {path} not found; check the --mapping path") from None
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"{path}: not valid TOML ({exc})") from exc
        unknown = set(raw) - {"columns", "defaults", "options"}
        if unknown:
            raise InputError(
                f"{path}: unknown section(s) {sorted(unknown)}; use [columns], [defaults] and [options]"
            )
        return cls(
            columns={k: str(v) for k, v in raw.get("columns", {}).items()},
            defaults=dict(raw.get("defaults", {})),
            options=dict(raw.get("options", {})),
            path=path,
        )


@dataclass(frozen=True)
class ColumnMatch:
    """For each field, the source columns that feed it, best first."""

    sources: dict[str, list[str]]
    defaults: dict[str, Any]
    attribute_pairs: list[tuple[str, str]]  # (name column, value column)

    def source_of(self, field_name: str) -> str | None:
        cols = self.sources.get(field_name)
        return cols[0] if cols else None


def match_columns(kind: str, columns: list[str], file: Path | str, mapping: Mapping | None = None) -> ColumnMatch:
    """Match ``columns`` of ``file`` to the fields of ``kind``; raise naming what is missing."""
    if kind not in ALIASES:
        raise InputError(f"unknown table {kind!r}; choose one of {', '.join(KINDS)}")
    mapping = mapping or Mapping()
    by_fold = {fold(c): c for c in columns}
    aliases = ALIASES[kind]
    unknown_fields = set(mapping.columns) | set(mapping.defaults)
    unknown_fields -= set(aliases)
    if unknown_fields:
        raise InputError(
            f"{mapping.path}: field(s) {sorted(unknown_fields)} do not exist for {kind}; "
            f"fields are {', '.join(aliases)}"
        )
    sources: dict[str, list[str]] = {}
    claimed: set[str] = set()
    for name, source in mapping.columns.items():
        if source not in columns and fold(source) not in by_fold:
            raise InputError(
                f"{mapping.path}: column {source!r} (for {name}) is not in {file}; "
                f"its columns are {', '.join(map(str, columns))}"
            )
        actual = source if source in columns else by_fold[fold(source)]
        sources[name] = [actual]
        claimed.add(actual)
    for name, names in aliases.items():
        if name in sources:
            continue
        found = [by_fold[fold(a)] for a in names if fold(a) in by_fold and by_fold[fold(a)] not in claimed]
        found = list(dict.fromkeys(found))
        if found:
            sources[name] = found
            claimed.add(found[0])
    missing = [f for f in sorted(REQUIRED[kind]) if f not in sources and f not in mapping.defaults]
    if missing:
        details = "; ".join(f"{f} (tried {', '.join(repr(a) for a in aliases[f])})" for f in missing)
        raise InputError(
            f"{file}: no column for required field(s) {details}. Its columns are "
            f"{', '.join(repr(c) for c in columns)}. Rename a column or pass --mapping M.toml "
            f"with e.g. [columns] {missing[0]} = \"<your column>\""
        )
    return ColumnMatch(sources=sources, defaults=dict(mapping.defaults), attribute_pairs=_attribute_pairs(columns))


def _attribute_pairs(columns: list[str]) -> list[tuple[str, str]]:
    """Shopify ``Option1 Name/Option1 Value`` and WooCommerce ``Attribute 1 name/value(s)`` pairs."""
    names: dict[str, str] = {}
    values: dict[str, str] = {}
    for col in columns:
        m = ATTRIBUTE_PAIR.match(fold(col))
        if m:
            (names if m.group(2) == "name" else values)[m.group(1)] = col
    return [(names[i], values[i]) for i in sorted(names) if i in values]
