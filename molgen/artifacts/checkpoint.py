"""Stage checkpoints: a Parquet table plus a manifest under ``<output>/round-<k>/<stage>/``.

Layout of one stage folder::

    data.parquet      the stage's complete output table
    manifest.json     key (input hash, config hash, versions), row counts, output hash
    parts/<key12>/    while the stage runs: batch-00000.parquet, ... one file per finished batch
    files/            optional extra files (e.g. generator state)

A stage is *complete* when ``manifest.json`` exists and its key matches the key the caller
computes now. A stage killed half way leaves finished batches under ``parts/<key12>/``; a later
run with the same key reuses them and computes only the rest. Every file is written to a
temporary name and renamed into place, so a kill never leaves a half-written file behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

MANIFEST = "manifest.json"
DATA = "data.parquet"


def hash_json(obj: Any) -> str:
    """SHA-256 of ``obj`` serialized as canonical JSON."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def hash_frame(df: pd.DataFrame) -> str:
    """SHA-256 of a table's column names and values (independent of Parquet encoding)."""
    h = hashlib.sha256(json.dumps(list(map(str, df.columns))).encode())
    if len(df):
        h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    return h.hexdigest()


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _atomic_parquet(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    df.to_parquet(tmp, index=False)
    os.replace(tmp, path)


class StageCheckpoint:
    """The checkpoint of one stage in one round.

    Args:
        folder: ``<output>/round-<k>/<stage>``.
        input_hash: hash of everything the stage reads (upstream output hashes, seeds).
        config_hash: hash of the configuration sections the stage depends on.
        versions: versions of the code and models the stage uses.
    """

    def __init__(
        self,
        folder: Path,
        input_hash: str,
        config_hash: str,
        versions: Mapping[str, str],
    ) -> None:
        self.folder = Path(folder)
        self.key = {
            "input_hash": input_hash,
            "config_hash": config_hash,
            "versions": dict(sorted(versions.items())),
        }
        self.key_hash = hash_json(self.key)

    @property
    def files(self) -> Path:
        """Folder for the stage's extra files."""
        return self.folder / "files"

    @property
    def _parts(self) -> Path:
        return self.folder / "parts" / self.key_hash[:12]

    def manifest(self) -> dict[str, Any] | None:
        """The manifest on disk, or None if there is none or it is unreadable."""
        try:
            return json.loads((self.folder / MANIFEST).read_text())
        except (OSError, json.JSONDecodeError):
            return None

    def is_complete(self) -> bool:
        """True if the stage finished under the same key (inputs, config, versions)."""
        m = self.manifest()
        return (
            m is not None and m.get("key_hash") == self.key_hash and (self.folder / DATA).exists()
        )

    def read(self) -> pd.DataFrame:
        """The complete output table."""
        return pd.read_parquet(self.folder / DATA)

    def output_hash(self) -> str:
        """Hash of the complete output, as recorded in the manifest."""
        m = self.manifest()
        if m is None:
            raise FileNotFoundError(f"{self.folder}: stage has no manifest")
        return m["output_hash"]

    def start(self) -> None:
        """Prepare to (re)compute: drop a stale output and partial batches of other keys."""
        if (self.folder / MANIFEST).exists():
            (self.folder / MANIFEST).unlink()
        parts_root = self.folder / "parts"
        if parts_root.exists():
            for child in parts_root.iterdir():
                if child != self._parts:
                    shutil.rmtree(child)
        self._parts.mkdir(parents=True, exist_ok=True)
        self.files.mkdir(parents=True, exist_ok=True)

    def done_batches(self) -> list[int]:
        """Indices of batches already written under the current key."""
        if not self._parts.exists():
            return []
        return sorted(int(p.stem.split("-")[1]) for p in self._parts.glob("batch-*.parquet"))

    def read_batch(self, index: int) -> pd.DataFrame:
        return pd.read_parquet(self._parts / f"batch-{index:05d}.parquet")

    def write_batch(self, index: int, df: pd.DataFrame) -> None:
        """Record one finished batch (atomically)."""
        _atomic_parquet(df, self._parts / f"batch-{index:05d}.parquet")

    def finish(self, df: pd.DataFrame, extra: Mapping[str, Any] | None = None) -> str:
        """Write the complete output and the manifest; remove partial batches.

        Returns:
            The output hash recorded in the manifest.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        _atomic_parquet(df, self.folder / DATA)
        out_hash = hash_frame(df)
        manifest = {
            "key_hash": self.key_hash,
            **self.key,
            "output_hash": out_hash,
            "rows": len(df),
            "finished_at": datetime.now(UTC).isoformat(),
            **(dict(extra) if extra else {}),
        }
        _atomic_write_bytes(self.folder / MANIFEST, json.dumps(manifest, indent=2).encode())
        shutil.rmtree(self.folder / "parts", ignore_errors=True)
        return out_hash


def run_batched(
    ckpt: StageCheckpoint,
    items: Sequence[Any],
    batch_size: int,
    compute: Callable[[Sequence[Any]], pd.DataFrame],
    progress: Callable[[int], None] | None = None,
) -> tuple[pd.DataFrame, int]:
    """Compute ``items`` in batches, reusing batches finished by an earlier, killed run.

    Args:
        ckpt: the stage checkpoint (``start`` must have been called).
        items: the stage's inputs, in a deterministic order.
        batch_size: items per batch.
        compute: maps one batch of items to its output rows.
        progress: called with the number of items finished after each batch.

    Returns:
        ``(table, n_reused)``: all batches' rows in order, and how many batches were reused.
    """
    done = set(ckpt.done_batches())
    frames: list[pd.DataFrame] = []
    reused = 0
    for index, start in enumerate(range(0, len(items), batch_size)):
        batch = items[start : start + batch_size]
        if index in done:
            frames.append(ckpt.read_batch(index))
            reused += 1
        else:
            df = compute(batch)
            ckpt.write_batch(index, df)
            frames.append(df)
        if progress is not None:
            progress(len(batch))
    nonempty = [f for f in frames if len(f)]
    if nonempty:
        table = pd.concat(nonempty, ignore_index=True)
    else:
        table = frames[0] if frames else pd.DataFrame()
    return table, reused
