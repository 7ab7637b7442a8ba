"""A user predictor with parameters, loaded as ``user_predictor:ScaledHeavyAtoms``.

It declares a pydantic ``Params`` model, so that molgen validates its campaign-file parameters
before a campaign starts.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from molgen.types import OutputSpec


class ScaledHeavyAtomsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scale: float = Field(gt=0)


class ScaledHeavyAtoms:
    name = "scaled_heavy_atoms"
    Params = ScaledHeavyAtomsParams

    def __init__(self, scale: float) -> None:
        self.scale = scale
        self.version = f"user-1+scale{scale:g}"
        self.outputs = (OutputSpec("scaled_heavy_atoms"),)

    def predict(self, mols):
        return np.array([[self.scale * m.GetNumHeavyAtoms()] for m in mols], dtype=float)
