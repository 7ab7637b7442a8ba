import numpy as np
import pandas as pd
import pytest

from molgen.scoring import (
    Objective,
    geometric_mean,
    linear,
    pareto_ranks,
    score_table,
    sigmoid,
    step,
    weighted_sum,
)


def test_linear_maps_and_clips_both_directions():
    np.testing.assert_allclose(linear(np.array([-1, 0, 0.5, 1, 2]), 0, 1), [0, 0, 0.5, 1, 1])
    np.testing.assert_allclose(linear(np.array([0, 5, 10]), 10, 0), [1, 0.5, 0])


def test_sigmoid_is_half_at_midpoint_and_monotone():
    x = np.linspace(0, 10, 11)
    up, down = sigmoid(x, 2, 8), sigmoid(x, 8, 2)
    assert up[5] == pytest.approx(0.5) and down[5] == pytest.approx(0.5)
    assert np.all(np.diff(up) > 0) and np.all(np.diff(down) < 0)
    assert up[0] < 0.05 and up[-1] > 0.95


def test_step_keeps_nan():
    out = step(np.array([1.0, 3.0, np.nan]), 2, 4)
    assert out[0] == 0 and out[1] == 1 and np.isnan(out[2])


def test_aggregations():
    d = np.array([[1.0, 0.0], [0.5, 0.5]])
    np.testing.assert_allclose(weighted_sum(d, np.array([3, 1])), [0.75, 0.5])
    np.testing.assert_allclose(geometric_mean(d, np.array([1, 1])), [0.0, 0.5])


def test_pareto_ranks():
    d = np.array([[1, 0], [0, 1], [0.5, 0.5], [0.4, 0.4], [0, 0], [0.4, 0.4]])
    assert pareto_ranks(d).tolist() == [1, 1, 1, 2, 3, 2]


def test_score_table_and_bounds():
    values = pd.DataFrame({"qed": [0.9, 0.1], "sa": [2.0, 8.0]})
    objectives = [
        Objective("qed", lambda x: linear(x, 0, 1), weight=1.0),
        Objective("sa", lambda x: linear(x, 10, 1), weight=1.0, upper=6.0),
    ]
    out = score_table(values, objectives, "weighted_sum")
    assert out["score"].iloc[0] > out["score"].iloc[1]
    assert out["pareto_rank"].tolist() == [1, 2]
    assert objectives[1].violation(8.0) == "sa 8 > max 6"
    assert objectives[1].violation(5.0) is None
    with pytest.raises(KeyError, match="logp"):
        score_table(values, [Objective("logp", lambda x: x)], "weighted_sum")
