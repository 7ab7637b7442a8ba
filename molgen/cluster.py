"""Where a campaign's heavy work runs: this process, a Dask cluster, or SLURM jobs.

A :class:`Placement` is opened once per flow run from the campaign's ``[cluster]`` section
(:class:`molgen.config.ClusterConfig`):

``local``
    Nothing leaves this process (and the worker processes its stages start themselves).
``dask``
    Work goes to the workers of a running Dask scheduler. GPU work asks for the worker
    resource ``GPU`` (start GPU workers with ``--resources GPU=1``), so it never lands on a
    CPU worker, and CPU work asks for none, so it can run anywhere.
``slurm``
    The flow starts two dask-jobqueue ``SLURMCluster``\\ s of its own when work first needs
    them: CPU jobs (docking chunks) and GPU jobs (``--gres=gpu:N``, worker resource
    ``GPU=N``; batches of GPU predictors). Each scales between no job and its maximum as work
    waits, and a job that SLURM ends (``scancel``, preemption, its walltime) takes only its
    unfinished tasks with it: Dask runs them again on another worker, and the cluster submits
    a new job when none is left. The schedulers run in the flow process, which does the
    orchestration and the store writes only.

Work is sent as plain functions (:meth:`Placement.map`), not Prefect tasks, so workers need
molgen installed (the same version, at a path that holds the same models) but no Prefect API.
A worker keeps what it loaded (models) between tasks: see :func:`worker_cache`.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from molgen.config import ClusterConfig

log = logging.getLogger(__name__)

RETRIES = 2
"""A task whose worker was lost (a SLURM job ended) is sent again this many times."""


class ClusterError(RuntimeError):
    """The cluster could not be started or reached, or a task failed for a reason that is not
    its input's."""


def _lost(err: BaseException) -> bool:
    """Whether ``err`` says the worker was lost, not that the work failed."""
    from concurrent.futures import CancelledError

    from distributed.scheduler import KilledWorker

    return isinstance(err, KilledWorker | CancelledError | ConnectionError)


class Placement:
    """Where a flow run's heavy work goes (see the module's description).

    Args:
        config: the campaign's ``[cluster]``.
        folder: where SLURM jobs write their logs (``folder/slurm-logs``).
        name: the campaign's name, in SLURM job names (``molgen-<name>-cpu``/``-gpu``).
    """

    def __init__(self, config: ClusterConfig, folder: Path, name: str = "campaign") -> None:
        self.config = config
        self.folder = folder
        self.name = name
        self._clients: dict[bool, Any] = {}
        self._clusters: list[Any] = []
        self._lock = threading.Lock()

    @property
    def local(self) -> bool:
        return self.config.kind == "local"

    def __enter__(self) -> Placement:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the clients, and the SLURM clusters with their jobs."""
        for client in self._clients.values():
            client.close()
        for cluster in self._clusters:
            cluster.close()
        self._clients.clear()
        self._clusters.clear()

    def client(self, gpu: bool = False) -> Any:
        """The Dask client for CPU or GPU work, connecting (or starting the SLURM cluster) on
        first use.

        Raises:
            ClusterError: the scheduler cannot be reached, or SLURM's commands fail.
        """
        if self.local:
            raise ClusterError("a local placement has no cluster")
        with self._lock:
            if self.config.kind == "dask":
                gpu = False  # one scheduler; GPU tasks ask for the resource instead
            if gpu not in self._clients:
                self._clients[gpu] = self._connect(gpu)
            return self._clients[gpu]

    def _connect(self, gpu: bool) -> Any:
        from distributed import Client

        c = self.config
        if c.kind == "dask":
            try:
                return Client(c.address, timeout="30s")
            except OSError as err:
                raise ClusterError(f"cluster.address {c.address}: {err}") from err
        cluster = self._slurm_cluster(gpu)
        self._clusters.append(cluster)
        return Client(cluster)

    def _slurm_cluster(self, gpu: bool) -> Any:
        """A dask-jobqueue SLURMCluster of CPU or GPU jobs, scaled as work waits."""
        SLURMCluster = slurm_cluster_class()  # noqa: N806
        c = self.config
        logs = self.folder / "slurm-logs"
        logs.mkdir(parents=True, exist_ok=True)
        prologue = [
            # docking workers start processes of their own (one per ligand, for its timeout)
            "export DASK_DISTRIBUTED__WORKER__DAEMON=False",
            *c.prologue,
        ]
        directives = list(c.job_directives)
        worker_args: list[str] = []
        kind = "gpu" if gpu else "cpu"
        if gpu:
            directives.insert(0, f"--gres=gpu:{c.gpus}")
            worker_args = ["--resources", f"GPU={c.gpus}"]
        try:
            cluster = SLURMCluster(
                job_name=f"molgen-{self.name}-{kind}",
                queue=(c.gpu_partition or c.partition) if gpu else c.partition,
                account=c.account,
                cores=c.gpu_cores if gpu else c.cores,
                processes=1,
                memory=c.gpu_memory if gpu else c.memory,
                walltime=c.walltime,
                job_extra_directives=directives,
                job_script_prologue=prologue,
                worker_extra_args=worker_args,
                python=c.python or sys.executable,
                interface=c.interface,
                log_directory=str(logs),
                local_directory=str(self.folder / "dask-worker-space"),
            )
        except Exception as err:  # dask-jobqueue raises what sbatch or the config gave it
            raise ClusterError(f"cluster: cannot start SLURM {kind} jobs: {err}") from err
        cluster.adapt(minimum_jobs=0, maximum_jobs=c.max_gpu_jobs if gpu else c.max_jobs)
        log.info(
            "SLURM %s jobs of campaign %s, scheduler %s", kind, self.name, cluster.scheduler_address
        )
        return cluster

    def map(
        self, fn: Callable[..., Any], calls: Sequence[tuple[Any, ...]], gpu: bool = False
    ) -> Iterator[tuple[int, Any]]:
        """Run ``fn(*args)`` for each ``args`` of ``calls`` on the cluster, yielding ``(index,
        result)`` as each finishes (any order).

        A call whose worker was lost (a SLURM job cancelled, preempted or out of walltime) is
        sent again, up to :data:`RETRIES` times. Leaving the iteration early (a stop request)
        cancels the calls not finished.

        Raises:
            ClusterError: a call was lost more than :data:`RETRIES` times.
            Exception: what ``fn`` raised, for a call that failed on a live worker.
        """
        from distributed import as_completed

        client = self.client(gpu)
        resources = {"GPU": 1} if gpu and self.config.kind in ("dask", "slurm") else None
        tries = [0] * len(calls)
        index_of: dict[Any, int] = {}

        def send(i: int) -> Any:
            future = client.submit(fn, *calls[i], resources=resources, pure=False)
            index_of[future] = i
            return future

        pending = as_completed([send(i) for i in range(len(calls))], with_results=False)
        try:
            for future in pending:
                i = index_of.pop(future)
                try:
                    result = future.result()
                except Exception as err:
                    if not _lost(err):
                        raise
                    tries[i] += 1
                    if tries[i] > RETRIES:
                        raise ClusterError(
                            f"a task was lost {tries[i]} times with its worker: {err}"
                        ) from err
                    log.warning("worker lost (%s); sending the task again", err)
                    pending.add(send(i))
                    continue
                yield i, result
        finally:
            for future in list(index_of):
                future.cancel()

    def call(self, fn: Callable[..., Any], *args: Any, gpu: bool = False) -> Any:
        """``fn(*args)`` on one worker (see :meth:`map`), returning its result."""
        ((_, result),) = self.map(fn, [args], gpu=gpu)
        return result


def slurm_cluster_class() -> type:
    """dask-jobqueue's ``SLURMCluster``, imported without its side effect on signals.

    dask-jobqueue 0.9.0 sets a SIGINT handler (``sys.exit``) when its runner module is imported:
    it would replace ``molgen run``'s own (the first Ctrl-C asks the stages to stop after their
    batch), and outside the main thread (where Prefect may run the flow) ``signal.signal``
    raises ``ValueError``. The import keeps whatever handler was there.

    Raises:
        ClusterError: dask-jobqueue is not installed.
    """
    import signal

    if "dask_jobqueue" not in sys.modules:
        main = threading.current_thread() is threading.main_thread()
        previous = signal.getsignal(signal.SIGINT) if main else None
        original = signal.signal
        if not main:  # no handler can be set here: let the import's call do nothing
            signal.signal = lambda *_args, **_kw: None  # type: ignore[assignment]
        try:
            import dask_jobqueue  # noqa: F401
        except ImportError as err:
            raise ClusterError(
                "cluster.kind = 'slurm' needs dask-jobqueue: pip install 'molgen[slurm]'"
            ) from err
        finally:
            signal.signal = original
            if main and previous is not None:
                signal.signal(signal.SIGINT, previous)
    from dask_jobqueue import SLURMCluster

    return SLURMCluster


_worker_objects: dict[str, Any] = {}
_worker_lock = threading.Lock()


def worker_cache(key: str, build: Callable[[], Any]) -> Any:
    """What ``build()`` returns, built once per worker process for ``key`` (models are loaded
    once per worker, not once per task)."""
    with _worker_lock:
        if key not in _worker_objects:
            _worker_objects[key] = build()
        return _worker_objects[key]
