"""A user predictor outside molgen, loaded by ``module:Class`` from a campaign file.

It computes QED like the built-in but sleeps per batch, so that tests can kill a campaign in the
middle of the predict stage.
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
