"""Recognising lines that are not products: postage, fees, vouchers, manual adjustments.

These lines are real money but not demand for anything a merchant launches, so
they are kept in their own table, out of the catalog and out of forecasts, and
counted in every ingest summary.
"""

from __future__ import annotations

import re

import pandas as pd

from nextdrop.store.parse import per_unique

# Stock codes that are never products (UCI Online Retail and common shop-system codes). Online
# Retail's one-letter codes (M, D, S, B) are caught by their descriptions instead: elsewhere "B" may be a SKU.
CODE_PATTERN = re.compile(
    r"^(?:POST|DOT|C2|CRUK|PADS|BANK CHARGES|AMAZONFEE|ADJUST\d*|TEST\d*|GIFT|GIFT_\d+_\d+"
    r"|SHIPPING|DELIVERY|FEE|DISCOUNT|TIP|GIFTCARD|GIFT CARD)$",
    re.IGNORECASE,
)
# Descriptions that name a service or a bookkeeping line rather than goods.
DESCRIPTION_PATTERN = re.compile(
    r"^(?:postage|dotcom postage|carriage|shipping|delivery( charge)?|manual|discount|bank charges|"
    r"amazon fee|adjust(ment)?\b.*|adjust bad debt|samples|cruk commission|.*gift voucher.*|gift card.*|"
    r"this is a test product\.?)$",
    re.IGNORECASE,
)


def non_product_reason(codes: pd.Series, descriptions: pd.Series | None,
                       extra_codes: list[str] | None = None) -> pd.Series:
    """Per line, why it is not a product (``None`` for product lines)."""
    extra = {c.strip().upper() for c in (extra_codes or [])}

    def by_code(domain: pd.Series) -> pd.Series:
        text = domain.astype(str).str.strip()
        hit = text.str.match(CODE_PATTERN) | text.str.upper().isin(extra)
        return ("non-product code " + text.map(_code_label)).where(hit, None)

    def by_description(domain: pd.Series) -> pd.Series:
        text = domain.astype(str).str.strip()
        return ("non-product description " + text.str.lower().str.slice(0, 40)).where(
            text.str.match(DESCRIPTION_PATTERN), None)

    reason = per_unique(codes, by_code)
    if descriptions is not None:
        reason = reason.fillna(per_unique(descriptions, by_description))
    return reason


def _code_label(code: str) -> str:
    """One label per family of codes, so summaries stay short (every gift voucher is one line)."""
    upper = code.upper()
    for prefix, label in (("GIFT_", "GIFT voucher"), ("ADJUST", "ADJUST"), ("TEST", "TEST")):
        if upper.startswith(prefix):
            return label
    return upper
