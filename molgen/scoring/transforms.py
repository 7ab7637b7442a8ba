"""Transforms from a raw value to a desirability in [0, 1].

All functions take and return float arrays of the same shape; NaN stays NaN.
"""

from __future__ import annotations

import numpy as np


def linear(x: np.ndarray, low: float, high: float) -> np.ndarray:
    """0 at ``low``, 1 at ``high``, linear between and clipped outside (``low > high`` reverses)."""
    return np.clip((np.asarray(x, dtype=float) - low) / (high - low), 0.0, 1.0)


def sigmoid(x: np.ndarray, low: float, high: float, k: float = 0.25) -> np.ndarray:
    """REINVENT's sigmoid: 0.5 at the midpoint of ``low`` and ``high``.

    ``1 / (1 + 10 ** (k * (mid - x) * 10 / (high - low)))``; ``low > high`` makes it decreasing.
    """
    x = np.asarray(x, dtype=float)
    mid = (high + low) / 2.0
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.power(10.0, k * (mid - x) * 10.0 / (high - low)))


def step(x: np.ndarray, low: float = -np.inf, high: float = np.inf) -> np.ndarray:
    """1 inside ``[low, high]``, 0 outside."""
    x = np.asarray(x, dtype=float)
    out = ((x >= low) & (x <= high)).astype(float)
    out[np.isnan(x)] = np.nan
    return out
