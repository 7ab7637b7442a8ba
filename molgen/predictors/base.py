"""The Predictor interface and its registry."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Protocol, runtime_checkable

import numpy as np
from rdkit import Chem

from molgen.registry import Registry
from molgen.types import OutputSpec


@runtime_checkable
class Predictor(Protocol):
    """Computes one or more values for a batch of molecules.

    Attributes:
        name: registered name; also the key under which predictions are stored.
        version: changes whenever the values it computes could change (library or weights).
        outputs: one :class:`OutputSpec` per column of :meth:`predict`'s result.

    A predictor class that computes on a GPU when there is one says so with a class attribute
    ``uses_gpu = True`` (optional): on a cluster (``[cluster]``), the predict stage's batches
    then go to GPU workers.
    """

    name: ClassVar[str]
    version: str
    outputs: tuple[OutputSpec, ...]

    def predict(self, mols: Sequence[Chem.Mol]) -> np.ndarray:
        """Values for ``mols`` as a float array of shape ``(len(mols), len(self.outputs))``.

        Raises an exception naming the cause if a molecule cannot be handled; the predict stage
        then isolates the failing molecule, records it as rejected and predicts the rest.
        """
        ...


PREDICTORS: Registry[Predictor] = Registry("predictor", "molgen.predictors", Predictor)
