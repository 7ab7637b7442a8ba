"""Scoring: raw values -> desirabilities in [0, 1] -> one aggregate score, plus Pareto ranks."""

from molgen.scoring.aggregate import AGGREGATIONS, geometric_mean, pareto_ranks, weighted_sum
from molgen.scoring.objectives import Objective, score_table
from molgen.scoring.transforms import linear, sigmoid, step

__all__ = [
    "AGGREGATIONS",
    "Objective",
    "geometric_mean",
    "linear",
    "pareto_ranks",
    "score_table",
    "sigmoid",
    "step",
    "weighted_sum",
]
