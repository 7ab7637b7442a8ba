"""Docking fanned out over a Dask cluster through Prefect's DaskTaskRunner (prefect-dask).

Ligands are split into chunks; each chunk is one Prefect task run on a Dask worker, which docks
it with the configured local engine (Vina in a one-process pebble pool, so the per-ligand
timeout still kills a stuck ligand). Results stream back as chunks finish, so the caller can
commit them to the docking cache one chunk at a time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

import dask
from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.futures import as_completed
from prefect_dask import DaskTaskRunner

from molgen.docking.base import DOCKING_ENGINES, DockingSettings, DockResult
from molgen.targets import Target


def _dock_chunk(
    engine: str,
    timeout_s: float,
    ligands: list[tuple[str, str]],
    target: Target,
    settings: DockingSettings,
    options: dict[str, str] | None = None,
) -> list[DockResult]:
    """Dock one chunk on a Dask worker with one local worker process.

    Raises:
        RuntimeError: the worker's engine is another version than the one the caller keys
            its cache with (``options["version"]``): its results would be cached wrongly.
    """
    options = dict(options or {})
    expected = options.pop("version", None)
    local = DOCKING_ENGINES.get(engine)(workers=1, timeout_s=timeout_s, **options)
    if expected is not None and local.version != expected:
        raise RuntimeError(
            f"Dask worker runs docking engine {local.version!r}, the campaign expects "
            f"{expected!r}: install the same version on the workers"
        )
    return list(local.dock(ligands, target, settings))


# The plain function stays importable under its own name so Dask pickles it by reference.
dock_chunk = task(_dock_chunk, name="dock-chunk", cache_policy=NO_CACHE, persist_result=False)


@contextmanager
def _env(key: str, value: str | None) -> Iterator[None]:
    old = os.environ.get(key)
    if value is not None:
        os.environ[key] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = old


class _Chunked:
    """What the engines below share: the engine each worker runs, its version (checked on
    the workers), and the ligands cut into chunks."""

    def __init__(self, engine: str, timeout_s: float, chunk_size: int, program: str | None) -> None:
        self.engine = engine
        self.timeout_s = timeout_s
        self.chunk_size = chunk_size
        self.options = {"program": program} if program else {}
        self.version = DOCKING_ENGINES.get(engine)(workers=1, **self.options).version

    def _chunks(self, ligands: Sequence[tuple[str, str]]) -> list[list[tuple[str, str]]]:
        size = self.chunk_size
        return [list(ligands[i : i + size]) for i in range(0, len(ligands), size)]

    def _call(
        self, chunk: list[tuple[str, str]], target: Target, settings: DockingSettings
    ) -> dict[str, Any]:
        """The keyword arguments of :func:`dock_chunk` for one chunk."""
        return {
            "engine": self.engine,
            "timeout_s": self.timeout_s,
            "ligands": chunk,
            "target": target,
            "settings": settings,
            "options": {**self.options, "version": self.version},
        }


def _unfinished(chunk: list[tuple[str, str]], reason: str) -> list[DockResult]:
    """A chunk that could not be docked on the cluster: rejected with ``reason``, uncached."""
    return [DockResult(k, s, None, None, reason, 0.0, cacheable=False) for k, s in chunk]


class DaskFanOut(_Chunked):
    """A docking engine that runs another engine's chunks on Dask workers.

    Args:
        engine: registered name of the engine each worker runs (e.g. ``"vina"``).
        timeout_s: per-ligand limit on the workers.
        address: a Dask scheduler address (``tcp://host:8786``); or
        local_workers: start a local cluster with this many single-threaded worker processes.
        chunk_size: ligands per task run.
        program: for ``vina-cli``, the program the workers run (on their ``PATH``).

    Workers must be allowed to start processes (``distributed.worker.daemon: False``, set here
    for a local cluster; set ``DASK_DISTRIBUTED__WORKER__DAEMON=False`` on a remote cluster's
    workers) and must have molgen installed.
    """

    name: ClassVar[str] = "dask"

    def __init__(
        self,
        engine: str = "vina",
        timeout_s: float = 600.0,
        address: str | None = None,
        local_workers: int = 0,
        chunk_size: int = 4,
        program: str | None = None,
    ) -> None:
        if bool(address) == bool(local_workers):
            raise ValueError("give a Dask scheduler address or a number of local workers")
        super().__init__(engine, timeout_s, chunk_size, program)
        self.address = address
        self.local_workers = local_workers

    def dock(
        self, ligands: Sequence[tuple[str, str]], target: Target, settings: DockingSettings
    ) -> Iterator[DockResult]:
        """Dock on the cluster, yielding each chunk's results as the chunk finishes."""
        if not ligands:
            return
        if self.address:
            runner = DaskTaskRunner(address=self.address)
        else:
            runner = DaskTaskRunner(
                cluster_kwargs={
                    "n_workers": self.local_workers,
                    "threads_per_worker": 1,
                    "processes": True,
                }
            )
        chunks = self._chunks(ligands)
        # Local workers report to this process's Prefect API instead of each starting a server.
        api = get_client(sync_client=True).api_url
        with (
            _env("PREFECT_API_URL", str(api) if api else None),
            dask.config.set({"distributed.worker.daemon": False}),
            runner,
        ):
            futures = {
                runner.submit(dock_chunk, parameters=self._call(chunk, target, settings)): chunk
                for chunk in chunks
            }
            for future in as_completed(list(futures)):
                try:
                    results = future.result()
                except Exception as err:  # a lost worker or task: reject its chunk, go on
                    reason = f"Dask task failed: {type(err).__name__}: {err}"
                    results = _unfinished(futures[future], reason)
                yield from results


class ClusterFanOut(_Chunked):
    """A docking engine that runs another engine's chunks on the CPU workers of a campaign's
    :class:`molgen.cluster.Placement` (a Dask scheduler, or SLURM jobs the flow starts).

    Chunks go as plain function calls (no Prefect API needed on the workers); results stream
    back chunk by chunk as they finish, so the caller commits each to the docking cache. A
    chunk whose worker was lost is sent again (:data:`molgen.cluster.RETRIES`); one that
    still fails is rejected with the reason, not cached, and the rest go on.
    """

    name: ClassVar[str] = "cluster"

    def __init__(
        self,
        placement: Any,
        engine: str = "vina",
        timeout_s: float = 600.0,
        chunk_size: int = 4,
        program: str | None = None,
    ) -> None:
        super().__init__(engine, timeout_s, chunk_size, program)
        self.placement = placement

    def dock(
        self, ligands: Sequence[tuple[str, str]], target: Target, settings: DockingSettings
    ) -> Iterator[DockResult]:
        """Dock on the cluster, yielding each chunk's results as the chunk finishes."""
        from molgen.cluster import ClusterError

        chunks = self._chunks(ligands)
        calls = [tuple(self._call(c, target, settings).values()) for c in chunks]
        done: set[int] = set()
        try:
            for i, results in self.placement.map(_dock_chunk, calls):
                done.add(i)
                yield from results
        except ClusterError as err:  # lost too often: reject what is left, uncached
            for i, chunk in enumerate(chunks):
                if i not in done:
                    yield from _unfinished(chunk, f"cluster: {err}")
