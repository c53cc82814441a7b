"""How much to order for a launch: the newsvendor quantity under a lognormal launch demand.

A new-product forecast gives a median total and an interval on the log scale;
that is a lognormal demand ``D = exp(N(mu, sigma))``. Ordering ``Q`` units
sells ``min(D, Q)`` and pays for all ``Q``; both have closed forms, so the
order quantity and its expected profit need no simulation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri  # the normal cdf and its inverse (scipy.stats takes seconds to import)

Z80 = float(ndtri(0.9))  # the 80% interval's upper bound is the 90th percentile


@dataclass(frozen=True)
class Demand:
    """Lognormal demand over the horizon: ``log D ~ N(mu, sigma)``."""

    mu: float
    sigma: float

    @classmethod
    def from_forecast(cls, median: float, upper80: float, scale: float = 1.0) -> Demand:
        """From a forecast's median total and 80% upper bound, both multiplied by ``scale``."""
        median, upper80 = max(median * scale, 1e-6), max(upper80 * scale, 1e-6)
        sigma = max(np.log(max(upper80, median)) - np.log(median), 1e-6) / Z80
        return cls(float(np.log(median)), float(sigma))

    @property
    def mean(self) -> float:
        return float(np.exp(self.mu + self.sigma**2 / 2))

    def quantile(self, level: float) -> float:
        return float(np.exp(self.mu + self.sigma * ndtri(level)))

    def expected_sales(self, q: float) -> float:
        """``E[min(D, q)]``: units sold when ``q`` are stocked."""
        if q <= 0:
            return 0.0
        z = (np.log(q) - self.mu) / self.sigma
        return float(self.mean * ndtr(z - self.sigma) + q * ndtr(-z))


def order_quantity(demand: Demand, service_level: float, min_order: float = 0.0) -> float:
    """Units to stock so that demand is met with probability ``service_level`` (at least ``min_order``).

    Rounded up to whole units.
    """
    if not 0.0 < service_level < 1.0:
        raise ValueError(f"service level must be between 0 and 1 (exclusive), not {service_level}")
    return float(max(np.ceil(demand.quantile(service_level)), np.ceil(min_order), 0.0))


def expected_profit(demand: Demand, q: float, price: float, cost: float) -> float:
    """Expected revenue of the units sold minus the cost of all ``q`` ordered (unsold stock is lost)."""
    return price * demand.expected_sales(q) - cost * q


def critical_ratio(price: float, cost: float) -> float:
    """The profit-maximising service level, ``(price - cost) / price``: a reference beside the chosen one."""
    return float(np.clip((price - cost) / price, 0.0, 1.0)) if price > 0 else 0.0
