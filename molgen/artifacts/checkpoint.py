"""Stage checkpoints: a Parquet table plus a manifest under ``<output>/round-<k>/<stage>/``.

Layout of one stage folder::

    data.parquet            the stage's complete output table
    manifest.json           key (input hash, config hash, versions), row counts, output hash
    parts/<key12>-b<size>/  while the stage runs: batch-00000.parquet, ... one file per
                            finished batch of ``size`` items
    files/                  optional extra files (e.g. generator state)

A stage is *complete* when ``manifest.json`` exists and its key matches the key the caller
computes now. A stage killed half way leaves finished batches under ``parts/<key12>-b<size>/``;
a later run with the same key and batch size reuses them and computes only the rest (a run with
another batch size starts its own folder, so batches of two sizes are never mixed; the batch
size is not part of the key, so it never makes a complete stage run again). Every file is
written to a temporary name and renamed into place, so a kill never leaves a half-written file.

Two runs of the same stage at once (the same key) both finish: a batch folder that the other
run removed is made again, a reused batch that vanished is computed again, and each run removes
only its own key's parts, ignoring what the other already removed. Both write the same table.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from molgen import stop

MANIFEST = "manifest.json"
DATA = "data.parquet"
_WRITE_TRIES = 5


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


def _atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """``write`` a temporary file next to ``path`` and rename it into place.

    The temporary name is unique to this call, so two writers of the same file (two runs of a
    stage, in two processes or threads) never write into each other's temporary file.
    """
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    _atomic_write(path, lambda tmp: tmp.write_bytes(data))


def _atomic_parquet(df: pd.DataFrame, path: Path) -> None:
    _atomic_write(path, lambda tmp: df.to_parquet(tmp, index=False))


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

    def _part_folders(self, own: bool) -> list[Path]:
        """This key's batch folders (one per batch size), or (``own=False``) other keys'."""
        try:
            children = list((self.folder / "parts").iterdir())
        except FileNotFoundError:
            return []
        return [c for c in children if (c.name.split("-b")[0] == self.key_hash[:12]) == own]

    def _parts(self, batch_size: int) -> Path:
        return self.folder / "parts" / f"{self.key_hash[:12]}-b{batch_size}"

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
        """Prepare to (re)compute: drop a stale output and partial batches of other keys.

        Batches of this key (of any batch size) are kept: a killed run's, to be reused, or those
        of another run of the same stage that is still writing them.
        """
        (self.folder / MANIFEST).unlink(missing_ok=True)
        for parts in self._part_folders(own=False):
            shutil.rmtree(parts, ignore_errors=True)
        self.files.mkdir(parents=True, exist_ok=True)

    def done_batches(self, *, batch_size: int) -> list[int]:
        """Indices of batches of ``batch_size`` items already written under the current key."""
        try:
            names = [p.name for p in self._parts(batch_size).glob("batch-*.parquet")]
        except OSError:  # the folder is gone: another run of the stage finished
            return []
        return sorted(int(n.removesuffix(".parquet").split("-")[1]) for n in names)

    def read_batch(self, index: int, *, batch_size: int) -> pd.DataFrame:
        return pd.read_parquet(self._parts(batch_size) / f"batch-{index:05d}.parquet")

    def write_batch(self, index: int, df: pd.DataFrame, *, batch_size: int) -> None:
        """Record one finished batch (atomically).

        The folder is made if it is missing, and made again if another run of the stage
        finishes (and removes it) while this batch is being written.
        """
        folder = self._parts(batch_size)
        for attempt in range(_WRITE_TRIES):
            folder.mkdir(parents=True, exist_ok=True)
            try:
                _atomic_parquet(df, folder / f"batch-{index:05d}.parquet")
                return
            except OSError as err:
                removed = isinstance(err, FileNotFoundError) or not folder.exists()
                if not removed or attempt == _WRITE_TRIES - 1:
                    raise

    def finish(self, df: pd.DataFrame, extra: Mapping[str, Any] | None = None) -> str:
        """Write the complete output and the manifest; remove this key's partial batches.

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
        # Only this key's parts: another key's belong to a run of another config. Another run
        # of this key may remove them at the same moment, or write one more batch after.
        for parts in self._part_folders(own=True):
            shutil.rmtree(parts, ignore_errors=True)
        try:
            (self.folder / "parts").rmdir()
        except OSError:  # not empty (another run's parts) or already gone
            pass
        return out_hash


def run_batched(
    ckpt: StageCheckpoint,
    items: Sequence[Any],
    batch_size: int,
    compute: Callable[[Sequence[Any]], pd.DataFrame],
    progress: Callable[[int], None] | None = None,
    submit: Callable[[list[Sequence[Any]]], Iterator[tuple[int, pd.DataFrame]]] | None = None,
) -> tuple[pd.DataFrame, int]:
    """Compute ``items`` in batches, reusing batches finished by an earlier, killed run.

    Only batches of the same ``batch_size`` are reused (batch ``i`` holds items
    ``i * batch_size`` onwards), and a reused batch that another run of the stage removed in
    the meantime is computed again.

    Args:
        ckpt: the stage checkpoint (``start`` must have been called).
        items: the stage's inputs, in a deterministic order.
        batch_size: items per batch.
        compute: maps one batch of items to its output rows.
        progress: called with the number of items finished after each batch.
        submit: computes the batches elsewhere instead (on a cluster): given the batches not
            yet done, yields ``(position in that list, rows)`` as each finishes, in any order;
            each is saved as it arrives, so a run that ends early keeps what finished.

    Returns:
        ``(table, n_reused)``: all batches' rows in order, and how many batches were reused.

    Raises:
        molgen.stop.StopRequested: a stop was requested; the batches finished so far are saved.
    """
    done = set(ckpt.done_batches(batch_size=batch_size))
    where = f"{ckpt.folder.parent.name}/{ckpt.folder.name}"
    batches = [items[start : start + batch_size] for start in range(0, len(items), batch_size)]
    frames: list[pd.DataFrame | None] = [None] * len(batches)
    reused = 0
    for index, batch in enumerate(batches):
        df = _read_batch_if_done(ckpt, index, batch_size) if index in done else None
        if df is not None:
            reused += 1
            frames[index] = df
        elif submit is None:
            df = compute(batch)
            ckpt.write_batch(index, df, batch_size=batch_size)
            frames[index] = df
        else:
            continue
        if progress is not None:
            progress(len(batch))
        stop.check(where)  # after the batch is saved
    todo = [i for i, f in enumerate(frames) if f is None]
    if todo and submit is not None:
        results = submit([batches[i] for i in todo])
        try:
            for position, df in results:
                index = todo[position]
                ckpt.write_batch(index, df, batch_size=batch_size)
                frames[index] = df
                if progress is not None:
                    progress(len(batches[index]))
                stop.check(where)
        finally:
            close = getattr(results, "close", None)
            if close is not None:
                close()  # a stop or an error: what was not finished is cancelled
    nonempty = [f for f in frames if f is not None and len(f)]
    if nonempty:
        table = pd.concat(nonempty, ignore_index=True)
    else:
        table = frames[0] if frames and frames[0] is not None else pd.DataFrame()
    return table, reused


def _read_batch_if_done(ckpt: StageCheckpoint, index: int, batch_size: int) -> pd.DataFrame | None:
    """A finished batch, or None if it is gone (another run of the stage finished and removed
    its parts after this run listed them)."""
    try:
        return ckpt.read_batch(index, batch_size=batch_size)
    except FileNotFoundError:
        return None
