"""The two small fits the launch model chains (``newproduct._LaunchModel``).

A ridge on log units ranks launches well; an exponential link fitted to absolute
unit errors turns its predictions into units that minimise WAPE. Both are plain
array-in, array-out regressions that know nothing about products.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sklearn.linear_model import RidgeCV


class Ridge:
    """Standardised ridge, penalty chosen by leave-one-out (GCV); predictions kept within the targets' range."""

    def __init__(self, model: RidgeCV, mean: np.ndarray, scale: np.ndarray, low: float, high: float) -> None:
        self.model, self.mean, self.scale, self.low, self.high = model, mean, scale, low, high

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, alphas: Sequence[float] = (0.1, 1.0, 10.0, 100.0, 1000.0)
            ) -> Ridge:
        from sklearn.linear_model import RidgeCV

        mean, scale = x.mean(axis=0), x.std(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        model = RidgeCV(alphas=tuple(alphas)).fit((x - mean) / scale, y)
        return cls(model, mean, scale, float(y.min()), float(y.max()))

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.clip(self.model.predict((x - self.mean) / self.scale), self.low, self.high)


class UnitLink:
    """``units = exp(b0 + b·z)`` minimising sum |units - prediction| (smoothed), with a small ridge penalty.

    Minimising absolute error makes it a conditional median: the point that
    minimises WAPE, not the mean that a big seller's tail would pull up.
    """

    def __init__(self, mean: np.ndarray, scale: np.ndarray, coef: np.ndarray, low: np.ndarray,
                 high: np.ndarray) -> None:
        self.mean, self.scale, self.coef, self.low, self.high = mean, scale, coef, low, high

    @classmethod
    def fit(cls, z: np.ndarray, units: np.ndarray, penalty: float = 1.0) -> UnitLink:
        from scipy.optimize import minimize

        mean, scale = z.mean(axis=0), z.std(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        zs = np.column_stack([np.ones(len(z)), (z - mean) / scale])
        norm = max(float(units.mean()), 1e-9)  # errors per mean unit: the penalty means the same in any store
        ridge = np.r_[0.0, np.full(z.shape[1], penalty)]

        def loss(b: np.ndarray) -> tuple[float, np.ndarray]:
            pred = np.exp(np.clip(zs @ b, -10.0, 20.0))
            gap = pred - units
            smooth = np.sqrt(gap * gap + 1.0)
            grad = zs.T @ (gap / smooth * pred) / norm + 2 * ridge * b
            return float(smooth.sum() / norm + np.sum(ridge * b * b)), grad

        start = np.r_[np.log1p(np.median(units)), np.zeros(z.shape[1])]
        coef = minimize(loss, start, jac=True, method="L-BFGS-B").x
        return cls(mean, scale, coef, z.min(axis=0), z.max(axis=0))

    def predict(self, z: np.ndarray) -> np.ndarray:
        """Inputs are held within the range it was fitted on: an exponential must not extrapolate."""
        z = np.clip(z, self.low, self.high)
        return np.exp(np.clip(self.coef[0] + ((z - self.mean) / self.scale) @ self.coef[1:], -10.0, 20.0))
