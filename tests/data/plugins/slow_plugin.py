"""User predictors outside molgen, loaded by ``module:Class`` from a campaign file.

``SlowQED`` computes QED like the built-in but sleeps per batch, so that tests can kill a
campaign in the middle of the predict stage; ``Pause`` only sleeps (``seconds`` per batch).
"""

from __future__ import annotations

import time

import numpy as np
from rdkit.Chem import QED

from molgen.types import Direction, OutputSpec


class SlowQED:
    name = "slow_qed"
    version = "1"
    outputs = (OutputSpec("slow_qed", "", Direction.MAXIMIZE),)

    def predict(self, mols):
        time.sleep(0.4)
        return np.array([[QED.qed(m)] for m in mols], dtype=float)


class Pause:
    """Outputs a constant after sleeping ``seconds`` per batch: makes a stage last long enough
    for a test to act in its middle, without changing any other value."""

    name = "pause"
    version = "1"
    outputs = (OutputSpec("pause", ""),)

    def __init__(self, seconds: float = 1.0) -> None:
        self.seconds = float(seconds)

    def predict(self, mols):
        time.sleep(self.seconds)
        return np.zeros((len(mols), 1))
