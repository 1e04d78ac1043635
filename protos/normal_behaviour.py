"""The normal-behaviour model's closed-form solve, the same wherever a model is fitted.

The aggregator fits a cohort's model from the summed centred moments (server/baselines.py); a
site's own or pooled references fit the same model from rows. Both must solve it one way.
"""

from __future__ import annotations

import numpy as np


def ridge_coefficients(gram: np.ndarray, moment: np.ndarray, n: float, ridge_lambda: float) -> np.ndarray:
    """Ridge coefficients beta = (X^T X + lambda n I)^-1 X^T y: the ridge regression on centred data (closed form)."""
    return np.linalg.solve(gram + ridge_lambda * n * np.eye(len(moment)), moment)


def residual_variance(
    gram: np.ndarray, moment: np.ndarray, response_squares: float, n: int, n_turbines: int, beta: np.ndarray
) -> float:
    """Residual variance of the centred fit, RSS / (n - p - turbines) [target unit^2]."""
    rss = response_squares - 2.0 * beta @ moment + beta @ gram @ beta
    dof = n - len(beta) - n_turbines
    return float(max(rss, 0.0) / dof) if dof > 0 else float("nan")
