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

    A row's rank is the length of the longest chain of rows dominating one another that ends
    at it, which is its front in non-dominated sorting. Rows are visited in descending
    lexicographic order, where every dominator of a row comes before it, so each rank is
    ``1 + max(rank of its dominators)`` over the rows already ranked.

    Args:
        d: objective values, shape ``(n, m)``.

    Returns:
        Integer ranks of shape ``(n,)``. ``O(n^2 m)`` time and ``O(n m)`` memory (rows are
        compared in blocks of 64): meant for up to ~10^4 rows.
    """
    d = np.asarray(d, dtype=float)
    n = d.shape[0]
    ranks = np.zeros(n, dtype=int)
    if n == 0:
        return ranks
    order = np.lexsort(d.T[::-1])[::-1]  # descending by column 0, then 1, ...
    rows = np.ascontiguousarray(d[order])
    sorted_ranks = np.zeros(n, dtype=int)
    block = 64  # rows compared at once with all rows before them: (block, n, m) booleans
    for start in range(0, n, block):
        stop = min(start + block, n)
        new, before = rows[start:stop, None, :], rows[None, :stop, :]
        dominated = (before >= new).all(axis=2) & (before > new).any(axis=2)  # (b, stop)
        # the longest chain through the rows of earlier blocks, then through this block's own
        best = (dominated[:, :start] * sorted_ranks[:start]).max(axis=1, initial=0)
        for j in range(stop - start):
            inner = dominated[j, start : start + j] * sorted_ranks[start : start + j]
            sorted_ranks[start + j] = 1 + max(int(best[j]), int(inner.max(initial=0)))
    ranks[order] = sorted_ranks
    return ranks
