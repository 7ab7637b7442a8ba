"""Graph-network predictors: batched, streaming inference of a molgen graph model.

:class:`GraphModelPredictor` serves any molgen graph checkpoint; ``solubility`` and
``hydration_free_energy`` are the checkpoints shipped in ``models/``. Inference runs on CUDA with
bfloat16 autocast when a GPU is present, otherwise on CPU. :meth:`predict_smiles` streams any
number of SMILES: worker processes featurize chunks while the main process runs the network,
with a bounded number of chunks in flight, so memory does not grow with the input.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator
from rdkit import Chem

from molgen.predictors.base import PREDICTORS
from molgen.predictors.gnn.featurize import GraphChunk, featurize_mols, featurize_smiles, to_batch
from molgen.resources import model_file
from molgen.types import Direction, OutputSpec

# Atoms per network pass on CPU: a chunk is split into parts of about this size (some 180
# drug-like molecules), small enough for the per-edge tensors of a part to stay in cache.
CPU_PART_ATOMS = 4096


class GraphModelParams(BaseModel):
    """Campaign-file parameters of a graph-network predictor."""

    model_config = ConfigDict(extra="forbid")

    path: Path | None = Field(
        default=None, description="model file (.safetensors), or a shipped model's name"
    )
    device: str = Field(default="auto", description="auto, cpu, cuda or cuda:N")
    batch_size: int = Field(default=1024, ge=1, le=65536)
    uncertainty: bool = Field(
        default=False, description="add a <task>_std column: the ensemble members' spread"
    )

    @field_validator("path", mode="before")
    @classmethod
    def _find(cls, value: Any) -> Any:
        """A shipped model's name becomes its installed file (so stage keys see its content)."""
        return model_file(value, "predictor") if isinstance(value, str | Path) else value


def resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} asked for, but torch sees no CUDA device")
    return device


class GraphModelPredictor:
    """A molgen graph model as a :class:`~molgen.predictors.Predictor`.

    Outputs one column per task of the model, in the model's units (and ``<task>_std``
    columns when ``uncertainty`` is on).

    Raises:
        ModelFileError: the model file is missing or is not a molgen model.
    """

    name: ClassVar[str] = "graph_model"
    Params: ClassVar[type[BaseModel]] = GraphModelParams
    default_model: ClassVar[str | None] = None  # a shipped model's name (molgen.resources)
    uses_gpu: ClassVar[bool] = True  # on a cluster, its batches go to GPU workers
    directions: ClassVar[dict[str, Direction]] = {}

    def __init__(self, **params: Any) -> None:
        from molgen.predictors.gnn.checkpoint import load_model, sha256

        p = GraphModelParams(**params)
        path = p.path or self.default_model
        if path is None:
            raise ValueError(f"predictor {self.name!r} needs a model file: give 'path'")
        self.path = model_file(path, "predictor")
        self.device = resolve_device(p.device)
        self.model, self.card = load_model(self.path, self.device)
        self.batch_size = p.batch_size
        self.uncertainty = p.uncertainty
        self.sha256 = sha256(self.path)
        self.version = f"{self.model.spec.featurizer}+{self.sha256[:12]}"
        spec = self.model.spec
        units = spec.units or ("",) * len(spec.tasks)
        outs = [
            OutputSpec(t, u, self.directions.get(t, Direction.NONE))
            for t, u in zip(spec.tasks, units, strict=True)
        ]
        if self.uncertainty:
            outs += [OutputSpec(f"{t}_std", u) for t, u in zip(spec.tasks, units, strict=True)]
        self.outputs = tuple(outs)
        self._amp = self.device.startswith("cuda")

    def _infer(self, chunk: GraphChunk) -> np.ndarray:
        """Values for the featurized molecules of ``chunk``, ``(len(chunk.index), k)``.

        On CPU the chunk goes through the network in parts of about :data:`CPU_PART_ATOMS`
        atoms, whose tensors stay in cache (each molecule's values do not depend on the part);
        on a GPU in one batch.
        """
        if len(chunk.index) == 0:
            return np.zeros((0, len(self.outputs)))
        if self.device == "cpu":
            parts = chunk.split(CPU_PART_ATOMS)
            if len(parts) > 1:
                return np.concatenate([self._infer_batch(part) for part in parts])
        return self._infer_batch(chunk)

    def _infer_batch(self, chunk: GraphChunk) -> np.ndarray:
        import torch

        batch = to_batch(chunk).to(self.device, non_blocking=True)
        with torch.inference_mode(), torch.autocast("cuda", torch.bfloat16, enabled=self._amp):
            out = self.model(batch).float()  # (members, n, tasks)
        mean = out.mean(0)
        if self.uncertainty:
            spread = out.std(0, unbiased=False)
            mean = torch.cat([mean, spread], dim=1)
        return mean.cpu().numpy().astype(np.float64)

    def predict(self, mols: Sequence[Chem.Mol]) -> np.ndarray:
        """Values for ``mols``, float64 ``(len(mols), len(self.outputs))``.

        Raises:
            ValueError: a molecule is None or empty (the message gives its index).
        """
        out = np.empty((len(mols), len(self.outputs)))
        for start in range(0, len(mols), self.batch_size):
            part = mols[start : start + self.batch_size]
            chunk = featurize_mols(part, descriptors=self.model.spec.descriptors)
            out[start : start + len(part)] = self._infer(chunk)
        return out

    def predict_smiles(
        self, smiles: Iterable[str], workers: int | None = None, in_flight: int = 4
    ) -> Iterator[tuple[np.ndarray, list[tuple[int, str]]]]:
        """Stream predictions for any number of SMILES, one chunk of ``batch_size`` at a time.

        Yields ``(values, rejected)`` per chunk, in input order: ``values`` is float64
        ``(chunk size, k)`` with NaN rows for molecules that could not be read, and ``rejected``
        lists their ``(position in the chunk, reason)``. ``workers`` featurizing processes
        (default: one per CPU; 0 featurizes in this process) keep at most
        ``in_flight`` chunks each ahead of the network.

        With featurizing workers on CPU, the network runs on the CPUs they leave, at least
        one: torch's intra-op threads are lowered to ``cpu_count - workers`` (never raised)
        for each chunk's inference and restored after it, since threads that wait for busy
        cores are slower than one that does not.
        """
        if workers is None:
            workers = os.cpu_count() or 1
        chunks = _chunked(iter(smiles), self.batch_size)
        desc = self.model.spec.descriptors
        if workers == 0:
            for part in chunks:
                yield self._assemble(featurize_smiles(part, desc))
            return
        threads = max(1, (os.cpu_count() or 1) - workers) if self.device == "cpu" else None
        with ProcessPoolExecutor(max_workers=workers) as pool:
            pending: deque[Future[GraphChunk]] = deque()
            for part in islice(chunks, workers * in_flight):
                pending.append(pool.submit(featurize_smiles, part, desc))
            while pending:
                chunk = pending.popleft().result()
                nxt = next(chunks, None)
                if nxt is not None:
                    pending.append(pool.submit(featurize_smiles, nxt, desc))
                yield self._assemble(chunk, threads)

    def _assemble(
        self, chunk: GraphChunk, threads: int | None = None
    ) -> tuple[np.ndarray, list[tuple[int, str]]]:
        values = np.full((chunk.size, len(self.outputs)), np.nan)
        with _torch_threads(threads):
            values[chunk.index] = self._infer(chunk)
        return values, chunk.reasons


@contextmanager
def _torch_threads(limit: int | None) -> Iterator[None]:
    """Run the block with at most ``limit`` torch intra-op threads (None: as they are), then
    restore the process's setting."""
    import torch

    before = torch.get_num_threads()
    if limit is None or limit >= before:
        yield
        return
    torch.set_num_threads(limit)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _chunked(items: Iterator[str], size: int) -> Iterator[list[str]]:
    while part := list(islice(items, size)):
        yield part


@PREDICTORS.register("graph_model")
class _RegisteredGraphModel(GraphModelPredictor):
    """Any molgen graph model file, given by ``path``."""


@PREDICTORS.register("solubility")
class SolubilityPredictor(GraphModelPredictor):
    """Aqueous solubility, log10(mol/L), from molgen's shipped model (Huuskonen set)."""

    name: ClassVar[str] = "solubility"
    default_model: ClassVar[str | None] = "solubility"
    directions: ClassVar[dict[str, Direction]] = {"log_solubility": Direction.MAXIMIZE}


@PREDICTORS.register("hydration_free_energy")
class HydrationFreeEnergyPredictor(GraphModelPredictor):
    """Hydration free energy, kcal/mol, from molgen's shipped model (FreeSolv)."""

    name: ClassVar[str] = "hydration_free_energy"
    default_model: ClassVar[str | None] = "hydration_free_energy"
    directions: ClassVar[dict[str, Direction]] = {"hydration_free_energy": Direction.NONE}
