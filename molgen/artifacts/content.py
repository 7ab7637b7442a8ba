"""Content hashes: a file is identified by what it holds, not by where it lies."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any


def sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def by_content(value: Any) -> Any:
    """``value`` (JSON-like data) with every string that names an existing file (an absolute or
    relative path holding a ``/``) replaced by ``{"sha256": ...}`` of the file.

    Used for configuration hashes: a model or seed file decides results by its content, so a
    campaign folder moved elsewhere keeps its checkpoints and its config hash.
    """
    if isinstance(value, dict):
        return {k: by_content(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [by_content(v) for v in value]
    if isinstance(value, str) and "/" in value and Path(value).is_file():
        return {"sha256": sha256(Path(value))}
    return value
