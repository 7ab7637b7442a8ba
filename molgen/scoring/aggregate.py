"""Aggregation of per-objective desirabilities into one score, and Pareto ranks."""

from __future__ import annotations

import numpy as np


def weighted_sum(d: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted arithmetic mean of desirabilities.

    Args:
        d: desirabilities, shape ``(n, m)``, in [0, 1].
        weights: shape ``(m,)``, positive.

    Returns:
        Scores of shape ``(n,)`` in [0, 1].
    """
    w = np.asarray(weights, dtype=float)
    return np.asarray(d, dtype=float) @ (w / w.sum())


def geometric_mean(d: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted geometric mean of desirabilities (REINVENT's product); any 0 gives 0."""
    w = np.asarray(weights, dtype=float)
    d = np.clip(np.asarray(d, dtype=float), 0.0, 1.0)
    with np.errstate(divide="ignore"):
        logs = np.where(d > 0, np.log(np.where(d > 0, d, 1.0)), -np.inf)
    return np.exp(logs @ (w / w.sum()))


AGGREGATIONS = {"weighted_sum": weighted_sum, "geometric_mean": geometric_mean}


def pareto_ranks(d: np.ndarray) -> np.ndarray:
    """Non-dominated sorting rank of each row (1 = on the Pareto front), all columns maximized.

    Args:
        d: objective values, shape ``(n, m)``.

    Returns:
        Integer ranks of shape ``(n,)``; ``O(n^2 m)`` time, meant for up to ~10^4 candidates.
    """
    d = np.asarray(d, dtype=float)
    n = d.shape[0]
    if n == 0:
        return np.zeros(0, dtype=int)
    ge = (d[:, None, :] >= d[None, :, :]).all(axis=2)
    gt = (d[:, None, :] > d[None, :, :]).any(axis=2)
    dominates = ge & gt  # dominates[i, j]: i dominates j
    dominated_by = dominates.sum(axis=0)
    ranks = np.zeros(n, dtype=int)
    remaining = np.ones(n, dtype=bool)
    level = 0
    while remaining.any():
        level += 1
        front = remaining & (dominated_by == 0)
        ranks[front] = level
        remaining &= ~front
        dominated_by = dominated_by - dominates[front].sum(axis=0)
    return ranks
