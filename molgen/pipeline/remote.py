"""The generator's work on a cluster's workers.

On a cluster (``[cluster] kind = "dask"`` or ``"slurm"``) the flow process orchestrates and
writes the store; a generator's sampling and learning (the SELFIES agent's forward passes and
RL steps, the genetic algorithm's matings) run on a worker: a GPU worker when the generator's
class says ``uses_gpu = True``, a CPU worker otherwise.

The generator travels as its state: :class:`RemoteGenerator` holds the JSON state the
:class:`~molgen.generators.Generator` protocol defines, sends it with each call, and keeps the
state the worker sends back. The worker builds the generator once (its model loaded once per
worker process) and loads the state before each call, so a call depends on its arguments
only: a lost worker's call is sent again (:meth:`molgen.cluster.Placement.map`) and gives the
same answer.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Sequence
from typing import Any

from molgen.artifacts import hash_json
from molgen.generators import Generator

_lock = threading.Lock()  # one generator call at a time in a worker process


def sampling_device(generator: Any) -> str:
    """The kind of device a generator samples on (``"cpu"``, ``"cuda"``), from its ``device``
    attribute; a generator without one samples on the CPU.

    The same seed draws other molecules on a GPU than on the CPU (another random number
    generator, other rounding), so the generate stage's key names a device other than the CPU.
    """
    device = getattr(generator, "device", None)
    return str(device).split(":", 1)[0] if device else "cpu"


def _worker_generator(spec: dict[str, Any], seeds: list[str]) -> Generator:
    from molgen.cluster import worker_cache
    from molgen.pipeline.components import generator_from_spec

    return worker_cache(
        f"generator:{hash_json([spec, seeds])}", lambda: generator_from_spec(spec, seeds)
    )


def generate_on_worker(
    spec: dict[str, Any], seeds: list[str], state: dict[str, Any], n: int, seed: int
) -> tuple[list[str], dict[str, Any]]:
    """``generate(n, seed)`` from ``state``: the SMILES and the state after it."""
    with _lock:
        generator = _worker_generator(spec, seeds)
        generator.load_state_dict(state)
        return generator.generate(n, seed), generator.state_dict()


def update_on_worker(
    spec: dict[str, Any],
    seeds: list[str],
    state: dict[str, Any],
    smiles: list[str],
    scores: list[float],
) -> dict[str, Any]:
    """``update(smiles, scores)`` from ``state``: the state after it."""
    with _lock:
        generator = _worker_generator(spec, seeds)
        generator.load_state_dict(state)
        generator.update(smiles, scores)
        return generator.state_dict()


class RemoteGenerator:
    """A campaign's generator whose calls run on a cluster worker (see the module's text).

    Args:
        local: the generator built in this process, fresh or holding the previous round's
            state: it gives the name, version, provenance and the first state, and computes
            nothing.
        placement: the flow run's :class:`molgen.cluster.Placement`.
        spec: the generator as ``component_params(campaign)["generator"]``.
        seeds: the seed SMILES the generator is built with.
        gpu: send the calls to GPU workers.
    """

    def __init__(
        self,
        local: Generator,
        placement: Any,
        spec: dict[str, Any],
        seeds: list[str],
        gpu: bool,
    ) -> None:
        self.name, self.version = local.name, local.version
        self._local = local
        self._placement = placement
        self._spec, self._seeds, self.gpu = spec, list(seeds), gpu
        self._state: dict[str, Any] | None = None

    def _call(self, fn: Any, *args: Any) -> Any:
        # the state goes with each call (the SELFIES agent's, with its optimizer's moments,
        # is about 23 MB), so a lost worker's call can be sent again as it is; Dask warns of
        # a "large graph" above 10 MB. (dask.config.set would be the direct way, but leaving
        # it restores the configuration as it was, without the "distributed" defaults that a
        # cluster started inside it loaded, and the scheduler fails.)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Sending large graph", UserWarning)
            return self._placement.call(fn, self._spec, self._seeds, *args, gpu=self.gpu)

    @property
    def device(self) -> str:
        """Where the generator samples: ``cuda`` on GPU workers, else where this process's
        generator would. Taken from the placement rather than asked of a worker, so that
        checking a finished round's key starts no job; a GPU job without CUDA samples on its
        CPU under a ``cuda`` key, which at worst generates a round again or fails the update
        stage's replay check (it never reuses another device's draw as its own)."""
        return "cuda" if self.gpu else sampling_device(self._local)

    def generate(self, n: int, seed: int) -> list[str]:
        smiles, self._state = self._call(generate_on_worker, self.state_dict(), n, seed)
        return smiles

    def update(self, smiles: Sequence[str], scores: Sequence[float]) -> None:
        state = self.state_dict()
        self._state = self._call(update_on_worker, state, list(smiles), list(map(float, scores)))

    def state_dict(self) -> dict[str, Any]:
        if self._state is None:
            self._state = self._local.state_dict()
        return self._state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._state = state

    def provenance(self) -> dict[str, Any]:
        return self._local.provenance()
