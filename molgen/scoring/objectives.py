"""Objectives: which raw value, its transform, weight and hard bounds."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from molgen.scoring.aggregate import AGGREGATIONS, pareto_ranks


def bound_violation(value: str, lower: float | None, upper: float | None, x: float) -> str | None:
    """Why raw value ``x`` of ``value`` breaks ``[lower, upper]``, or None if it does not."""
    if np.isnan(x):
        return f"{value} could not be computed"
    if lower is not None and x < lower:
        return f"{value} {x:.3g} < min {lower:g}"
    if upper is not None and x > upper:
        return f"{value} {x:.3g} > max {upper:g}"
    return None


@dataclass(frozen=True)
class Bound:
    """A hard limit on a raw value that is not an objective (e.g. an ADMET endpoint).

    Attributes:
        value: the column of raw values it reads.
        lower, upper: the limits (None for none).
    """

    value: str
    lower: float | None = None
    upper: float | None = None

    def violation(self, x: float) -> str | None:
        """Why raw value ``x`` breaks the bound, or None if it does not."""
        return bound_violation(self.value, self.lower, self.upper, x)


@dataclass(frozen=True)
class Objective:
    """One objective.

    Attributes:
        value: the column of raw values it reads (a predictor output).
        transform: maps raw values (n,) to desirabilities (n,) in [0, 1].
        weight: its weight in the aggregate.
        lower, upper: hard bounds on the raw value (None for none).
    """

    value: str
    transform: Callable[[np.ndarray], np.ndarray]
    weight: float = 1.0
    lower: float | None = None
    upper: float | None = None

    def violation(self, x: float) -> str | None:
        """Why raw value ``x`` breaks a hard bound, or None if it does not."""
        return bound_violation(self.value, self.lower, self.upper, x)


def score_table(
    values: pd.DataFrame, objectives: Sequence[Objective], aggregation: str
) -> pd.DataFrame:
    """Desirabilities, aggregate score and Pareto rank for each row of ``values``.

    Args:
        values: one row per molecule; must hold a column for each objective's ``value``.
        objectives: at least one.
        aggregation: a key of :data:`AGGREGATIONS`.

    A missing raw value (NaN, e.g. a molecule that was not docked) has desirability 0.

    Returns:
        A frame indexed like ``values`` with columns ``d_<value>`` (desirabilities),
        ``score`` and ``pareto_rank``.
    """
    if len(objectives) == 0:
        raise ValueError("at least one objective is required")
    missing = [o.value for o in objectives if o.value not in values.columns]
    if missing:
        raise KeyError(f"no values for objectives: {', '.join(missing)}")
    d = np.column_stack(
        [o.transform(values[o.value].to_numpy(dtype=float)) for o in objectives]
    ).reshape(len(values), len(objectives))
    d = np.nan_to_num(d, nan=0.0)  # a value that is missing (e.g. not docked) is undesirable
    weights = np.array([o.weight for o in objectives])
    out = pd.DataFrame(
        {f"d_{o.value}": d[:, i] for i, o in enumerate(objectives)}, index=values.index
    )
    out["score"] = AGGREGATIONS[aggregation](d, weights)
    out["pareto_rank"] = pareto_ranks(d)
    return out
