"""DeepChem models as molgen predictors.

A trained DeepChem model (its ``model_dir`` with a checkpoint) and the featurizer it was trained
with become a :class:`~molgen.predictors.Predictor`. Supported: ``DMPNNModel`` with
``DMPNNFeaturizer``, and ``MultitaskRegressor`` with ``CircularFingerprint`` (ECFP). DeepChem's
dgl-based models do not run with this torch and are not offered. DeepChem is an optional
dependency (``pip install 'molgen[deepchem]'``); its import messages are kept out of molgen's
output. Checkpoints are read by DeepChem's ``restore``, i.e. ``torch.load`` with torch's default
``weights_only=True``: state dicts only, nothing unpickled.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from rdkit import Chem

from molgen.predictors.base import PREDICTORS
from molgen.types import OutputSpec


class DeepChemParams(BaseModel):
    """Campaign-file parameters of the ``deepchem`` predictor."""

    model_config = ConfigDict(extra="forbid")

    model: Literal["DMPNNModel", "MultitaskRegressor"] = "DMPNNModel"
    model_dir: Path = Field(description="the folder DeepChem saved the model's checkpoints in")
    outputs: list[str] = Field(min_length=1, description="one output name per task")
    model_params: dict[str, Any] = Field(
        default_factory=dict, description="the constructor arguments the model was trained with"
    )
    fingerprint_size: int = Field(default=2048, ge=64, description="ECFP bits (MultitaskRegressor)")
    batch_size: int = Field(default=256, ge=1)


def import_deepchem():  # -> module
    """``deepchem``, imported without its import-time messages.

    Raises:
        ImportError: DeepChem is not installed (the message says how to install it).
    """
    logging.getLogger("deepchem").setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            import deepchem
    except ImportError as err:
        raise ImportError("DeepChem models need: pip install 'molgen[deepchem]'") from err
    logging.getLogger("deepchem").setLevel(logging.ERROR)
    return deepchem


def build_deepchem(
    model: str, n_tasks: int, model_dir: Path | None, model_params: dict[str, Any], batch_size: int
):  # -> (featurizer, model)
    """A DeepChem featurizer and (untrained) model, as :class:`DeepChemPredictor` uses them."""
    dc = import_deepchem()
    params = dict(model_params)
    if model == "DMPNNModel":
        featurizer = dc.feat.DMPNNFeaturizer()
        net = dc.models.DMPNNModel(
            n_tasks=n_tasks, mode="regression", batch_size=batch_size, model_dir=model_dir, **params
        )
    else:
        size = params.pop("fingerprint_size", 2048)
        featurizer = dc.feat.CircularFingerprint(size=size, radius=2)
        net = dc.models.MultitaskRegressor(
            n_tasks=n_tasks, n_features=size, batch_size=batch_size, model_dir=model_dir, **params
        )
    return featurizer, net


@PREDICTORS.register("deepchem")
class DeepChemPredictor:
    """A trained DeepChem model; its outputs are named in the campaign file.

    Raises:
        ImportError: DeepChem is not installed.
        ValueError: ``model_dir`` holds no checkpoint, or the checkpoint does not fit the model
            built from ``model_params``.
    """

    name: ClassVar[str] = "deepchem"
    Params: ClassVar[type[BaseModel]] = DeepChemParams

    def __init__(self, **params: Any) -> None:
        p = DeepChemParams(**params)
        model_params = dict(p.model_params)
        if p.model == "MultitaskRegressor":
            model_params["fingerprint_size"] = p.fingerprint_size
        self.featurizer, self.model = build_deepchem(
            p.model, len(p.outputs), p.model_dir, model_params, p.batch_size
        )
        try:
            self.model.restore(model_dir=str(p.model_dir))
        except (ValueError, RuntimeError, KeyError, OSError) as err:
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise ValueError(
                f"DeepChem {p.model} in {p.model_dir}: cannot restore a checkpoint ({first})"
            ) from err
        self.version = f"deepchem-{version('deepchem')}+{p.model}"
        self.outputs = tuple(OutputSpec(o) for o in p.outputs)

    def predict(self, mols: Sequence[Chem.Mol]) -> np.ndarray:
        """Values for ``mols``, float64 ``(len(mols), len(self.outputs))``.

        Raises:
            ValueError: a molecule is None or DeepChem cannot featurize it (index named).
        """
        dc = import_deepchem()
        for i, mol in enumerate(mols):
            if mol is None or mol.GetNumAtoms() == 0:
                raise ValueError(f"predictor 'deepchem': molecule {i} is None or empty")
        if not mols:
            return np.zeros((0, len(self.outputs)))
        with contextlib.redirect_stdout(io.StringIO()):
            features = self.featurizer.featurize(list(mols))
        for i, f in enumerate(features):
            if isinstance(f, np.ndarray) and f.size == 0:
                raise ValueError(f"predictor 'deepchem': molecule {i} cannot be featurized")
        if isinstance(features, np.ndarray) and features.dtype != object:
            features = features.astype(np.float32)
        out = self.model.predict(dc.data.NumpyDataset(features))
        return np.asarray(out, dtype=np.float64).reshape(len(mols), len(self.outputs))
