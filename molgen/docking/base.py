"""The DockingEngine interface, its registry, and docking settings and results."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import ClassVar, Protocol, runtime_checkable

from molgen.artifacts import hash_json
from molgen.registry import Registry
from molgen.targets import Target


@dataclass(frozen=True)
class DockingSettings:
    """How to dock; everything here changes results and so is part of the cache key.

    Attributes:
        exhaustiveness: Vina's number of Monte Carlo chains.
        n_poses: poses kept per ligand.
        seed: random seed for embedding and search; must be positive (Vina takes 0 to mean
            "choose a random seed", which would make docking irreproducible).
        box_padding: Å added to each edge of the target's box.
        engine: registered engine name (part of the cache key: engines differ).
        ph: ligands are protonated to their most probable state at this pH (Dimorphite-DL)
            before embedding; None (the default) docks the neutral parent as standardized.
        flexible_rings: let meeko open rings of 7+ atoms so that their conformations are
            searched; off by default, so rings keep their embedded conformation as in the usual
            Open Babel preparation.
    """

    exhaustiveness: int = 8
    n_poses: int = 9
    seed: int = 1
    box_padding: float = 0.0
    engine: str = "vina"
    ph: float | None = None
    flexible_rings: bool = False

    def __post_init__(self) -> None:
        if self.seed <= 0:
            raise ValueError(f"docking seed must be positive, got {self.seed} (0 means random)")
        if self.exhaustiveness < 1 or self.n_poses < 1:
            raise ValueError("exhaustiveness and n_poses must be at least 1")
        if self.ph is not None and not 0.0 <= self.ph <= 14.0:
            raise ValueError(f"ligand pH must be between 0 and 14, got {self.ph}")

    def hash(self) -> str:
        """Hash of the settings alone."""
        return hash_json(asdict(self))

    def cache_key(self, engine_version: str) -> str:
        """The docking cache's key for these settings run by an engine of ``engine_version``
        (e.g. ``vina-1.2.7``, or ``cli-qvina2 (...)`` naming the program and its version):
        results of two engines, programs or versions are never shared."""
        return hash_json({"settings": asdict(self), "engine": engine_version})


@dataclass(frozen=True)
class DockResult:
    """One ligand's docking outcome.

    Attributes:
        key: the caller's identifier (an InChIKey in campaigns).
        smiles: the ligand as docked.
        score: best pose's Vina score in kcal/mol (lower is better); None if it failed.
        poses_sdf: all poses as an SD block, best first, each with its score; None if failed.
        reason: why it failed; None on success.
        seconds: wall time spent on this ligand (embedding, preparation and search).
        cacheable: False for failures that may not repeat (timeouts, crashed workers).
    """

    key: str
    smiles: str
    score: float | None
    poses_sdf: str | None
    reason: str | None
    seconds: float
    cacheable: bool = True


@runtime_checkable
class DockingEngine(Protocol):
    """Docks ligands into a target; implementations may run locally or on a cluster."""

    name: ClassVar[str]
    version: str

    def dock(
        self, ligands: Sequence[tuple[str, str]], target: Target, settings: DockingSettings
    ) -> Iterator[DockResult]:
        """Dock ``(key, smiles)`` pairs, yielding results as they finish (in any order).

        A ligand that fails yields a result with ``reason`` set; the rest go on.
        """
        ...


DOCKING_ENGINES: Registry[DockingEngine] = Registry(
    "docking engine", "molgen.docking_engines", DockingEngine
)
