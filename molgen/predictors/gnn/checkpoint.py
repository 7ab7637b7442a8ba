"""Graph-network checkpoints: one safetensors file holding the weights, the spec and the card.

The file's metadata (a string map, per the safetensors format) carries ``format``
(``molgen-graph-ensemble``), ``format_version``, ``spec`` (JSON of :class:`ModelSpec`) and
``card`` (JSON: training data, split, metrics). Loading never unpickles anything.

Failure rule: :func:`load_model` raises :class:`ModelFileError` naming the file and the reason
for a missing file, a file that is not safetensors, a safetensors file of another program, or
weights that do not fit the stored spec.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch

from molgen.predictors.gnn.model import GraphEnsemble, ModelSpec

FORMAT = "molgen-graph-ensemble"
FORMAT_VERSION = "1"


class ModelFileError(ValueError):
    """A model file that molgen cannot load, with the file and the reason."""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_model(model: GraphEnsemble, path: Path, card: dict[str, Any]) -> str:
    """Write ``model`` and its ``card`` to ``path``; returns the file's sha256."""
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "spec": json.dumps(model.spec.to_dict(), sort_keys=True),
        "card": json.dumps(card, sort_keys=True, default=str),
    }
    tmp = path.with_suffix(path.suffix + ".tmp")
    save_file(state, str(tmp), metadata=metadata)
    tmp.chmod(0o644)  # a model is meant to be shared; safetensors writes it owner-only
    tmp.replace(path)
    return sha256(path)


def read_metadata(path: Path) -> dict[str, str]:
    """The metadata of a molgen model file, checked for format and version.

    Raises:
        ModelFileError: as described in the module docstring.
    """
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"model file {path}: no such file")
    try:
        with safe_open(str(path), framework="pt") as fh:
            metadata = fh.metadata() or {}
    except (SafetensorError, OSError, ValueError) as err:
        raise ModelFileError(f"model file {path}: not a safetensors file ({err})") from err
    if metadata.get("format") != FORMAT:
        raise ModelFileError(
            f"model file {path}: a safetensors file but not a molgen graph model "
            f"(metadata format is {metadata.get('format')!r}, expected {FORMAT!r})"
        )
    if metadata.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(
            f"model file {path}: format version {metadata.get('format_version')!r}; this molgen "
            f"reads version {FORMAT_VERSION}"
        )
    return metadata


def load_model(path: Path, device: str | torch.device = "cpu") -> tuple[GraphEnsemble, dict]:
    """The model stored in ``path`` (in eval mode, on ``device``) and its card.

    Raises:
        ModelFileError: as described in the module docstring.
    """
    from safetensors.torch import load_file

    metadata = read_metadata(path)
    try:
        spec = ModelSpec.from_dict(json.loads(metadata["spec"]))
        card = json.loads(metadata.get("card", "{}"))
    except (KeyError, TypeError, ValueError) as err:
        raise ModelFileError(f"model file {path}: unreadable spec or card ({err})") from err
    model = GraphEnsemble(spec)
    try:
        state = load_file(str(path))
        model.load_state_dict(state, strict=True)
    except (RuntimeError, ValueError) as err:
        first = str(err).strip().splitlines()[0]
        raise ModelFileError(f"model file {path}: weights do not fit its spec ({first})") from err
    return model.to(device).eval(), card
