"""The launch model's parts: price-aware neighbours and the unit-scale (WAPE) link."""

from __future__ import annotations

import numpy as np
import pytest

from nextdrop.tools.forecasting.launch_regression import UnitLink
from nextdrop.tools.forecasting.newproduct import FOCUSED, _neighbours


def test_closer_price_weighs_more_at_equal_similarity() -> None:
    sims = np.array([0.80, 0.80, 0.50])
    log_prices = np.log(np.array([5.06, 1.95, 2.00]))
    order, weights = _neighbours(sims, log_prices, np.log(2.08), FOCUSED)
    assert order[0] == 1, "the same-similarity neighbour at the same price point comes first"
    assert weights[0] > 2 * weights[list(order).index(0)]
    assert weights.sum() == pytest.approx(1.0)


def test_unknown_prices_leave_similarity_alone() -> None:
    sims = np.array([0.9, 0.7, 0.6])
    order, weights = _neighbours(sims, np.array([np.nan, 0.0, 5.0]), np.nan, FOCUSED)
    assert list(order) == [0, 1, 2]
    expected = np.exp(FOCUSED.sharpness * (sims - 0.9))
    assert weights == pytest.approx(expected / expected.sum())


def test_unit_link_is_a_conditional_median_not_a_mean() -> None:
    """Skewed noise: the median of units given z is exp(1 + 0.8 z), the mean is far above it."""
    rng = np.random.default_rng(3)
    z = rng.uniform(0, 5, 4000)
    units = np.exp(1.0 + 0.8 * z) * rng.lognormal(0.0, 1.0, len(z))
    link = UnitLink.fit(z[:, None], units, penalty=0.0)
    grid = np.array([[1.0], [2.5], [4.0]])
    assert link.predict(grid) == pytest.approx(np.exp(1.0 + 0.8 * grid[:, 0]), rel=0.12)
    # and it is the better WAPE point than the mean-matching fit a smearing correction would give
    median_error = np.abs(units - link.predict(z[:, None])).sum()
    mean_error = np.abs(units - link.predict(z[:, None]) * np.exp(0.5)).sum()
    assert median_error < mean_error


def test_unit_link_does_not_extrapolate_beyond_its_inputs() -> None:
    z = np.linspace(0, 3, 200)[:, None]
    link = UnitLink.fit(z, np.exp(2.0 * z[:, 0]))
    assert link.predict(np.array([[30.0]]))[0] == pytest.approx(link.predict(np.array([[3.0]]))[0])
