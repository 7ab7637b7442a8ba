"""Graph-network checkpoints: one safetensors file holding the weights, the spec and the card.

The file's metadata (a string map, per the safetensors format) carries ``format``
(``molgen-graph-ensemble``), ``format_version``, ``spec`` (JSON of :class:`ModelSpec`) and
``card`` (JSON: training data, split, metrics). Loading never unpickles anything.

Failure rule: :func:`load_model` raises :class:`ModelFileError` naming the file and the reason
for a missing file, a file that is not safetensors, a safetensors file of another program, or
weights that do not fit the stored spec.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from molgen.artifacts.model_files import (
    ModelFileError,
    load_tensors,
    save_tensors,
    sha256,
)
from molgen.artifacts.model_files import read_metadata as _read_metadata
from molgen.predictors.gnn.model import GraphEnsemble, ModelSpec

__all__ = ["ModelFileError", "load_model", "read_metadata", "save_model", "sha256"]

FORMAT = "molgen-graph-ensemble"
FORMAT_VERSION = "1"


def save_model(model: GraphEnsemble, path: Path, card: dict[str, Any]) -> str:
    """Write ``model`` and its ``card`` to ``path``; returns the file's sha256."""
    metadata = {
        "spec": json.dumps(model.spec.to_dict(), sort_keys=True),
        "card": json.dumps(card, sort_keys=True, default=str),
    }
    return save_tensors(model.state_dict(), path, FORMAT, FORMAT_VERSION, metadata)


def read_metadata(path: Path) -> dict[str, str]:
    """The metadata of a molgen graph model file, checked for format and version.

    Raises:
        ModelFileError: as described in the module docstring.
    """
    return _read_metadata(path, FORMAT, FORMAT_VERSION, "molgen graph model")


def load_model(path: Path, device: str | torch.device = "cpu") -> tuple[GraphEnsemble, dict]:
    """The model stored in ``path`` (in eval mode, on ``device``) and its card.

    Raises:
        ModelFileError: as described in the module docstring.
    """
    metadata = read_metadata(path)
    try:
        spec = ModelSpec.from_dict(json.loads(metadata["spec"]))
        card = json.loads(metadata.get("card", "{}"))
        model = GraphEnsemble(spec)
    except (KeyError, TypeError, ValueError) as err:
        raise ModelFileError(f"model file {path}: unreadable spec or card ({err})") from err
    try:
        model.load_state_dict(load_tensors(path), strict=True)
    except RuntimeError as err:
        first = str(err).strip().splitlines()[0]
        raise ModelFileError(f"model file {path}: weights do not fit its spec ({first})") from err
    return model.to(device).eval(), card
