"""Model files: safetensors weights plus string metadata, never unpickled.

Every molgen model file records ``format`` and ``format_version`` in its safetensors metadata;
readers check both, so a file of another program, or of another kind of molgen model, is refused
with a message naming the file.

Failure rule: :func:`read_metadata` and :func:`load_tensors` raise :class:`ModelFileError`
naming the file and the reason (missing, not safetensors, wrong format or version).
"""

from __future__ import annotations

from pathlib import Path

import torch

from molgen.artifacts.content import sha256

__all__ = ["ModelFileError", "sha256"]


class ModelFileError(ValueError):
    """A model file that molgen cannot load, with the file and the reason."""


def save_tensors(
    state: dict[str, torch.Tensor], path: Path, fmt: str, version: str, metadata: dict[str, str]
) -> str:
    """Write ``state`` with ``metadata`` (plus format and version) atomically; returns sha256."""
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in state.items()}
    tmp = path.with_suffix(path.suffix + ".tmp")
    save_file(tensors, str(tmp), metadata={"format": fmt, "format_version": version, **metadata})
    tmp.chmod(0o644)  # a model is meant to be shared; safetensors writes it owner-only
    tmp.replace(path)
    return sha256(path)


def read_metadata(path: Path, fmt: str, version: str, what: str) -> dict[str, str]:
    """The metadata of ``path``, checked to be a ``fmt`` file of ``version``.

    ``what`` names the kind of model in messages (e.g. "molgen graph model").
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
    if metadata.get("format") != fmt:
        raise ModelFileError(
            f"model file {path}: a safetensors file but not a {what} "
            f"(metadata format is {metadata.get('format')!r}, expected {fmt!r})"
        )
    if metadata.get("format_version") != version:
        raise ModelFileError(
            f"model file {path}: format version {metadata.get('format_version')!r}; this molgen "
            f"reads version {version}"
        )
    return metadata


def load_tensors(path: Path) -> dict[str, torch.Tensor]:
    """The tensors of a file already checked by :func:`read_metadata`."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as err:
        raise ModelFileError(f"model file {path}: unreadable tensors ({err})") from err
