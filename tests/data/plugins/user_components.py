"""Components defined outside molgen, named in campaign files as ``user_components:<Name>``.

``ChainExtender`` (a generator) and ``HeavyAtomCap`` (a filter) declare pydantic ``Params``;
``Repeater`` (a generator) declares none and takes no seeds; ``NoPredict`` lacks the predictor's
``predict``; ``make_file`` is a function with a side effect that molgen must never call.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field


class ChainExtenderParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tag: str = Field(min_length=1)
    max_extra: int = Field(default=3, ge=1, le=6)


class ChainExtender:
    """Proposes seeds (and the best scored molecules) with 1 to ``max_extra`` carbons added."""

    name: ClassVar[str] = "chain_extender"
    version: ClassVar[str] = "user-1"
    Params = ChainExtenderParams

    def __init__(self, seeds: Sequence[str], tag: str, max_extra: int = 3) -> None:
        if not seeds:
            raise ValueError("chain_extender needs seed molecules")
        self.seeds = sorted(seeds)
        self.tag, self.max_extra = tag, max_extra
        self.best: dict[str, float] = {}

    def generate(self, n: int, seed: int) -> list[str]:
        rng = random.Random(seed)
        top = sorted(self.best, key=lambda s: (-self.best[s], s))[:10]
        pool = self.seeds + top
        return [rng.choice(pool) + "C" * rng.randint(1, self.max_extra) for _ in range(n)]

    def update(self, smiles: Sequence[str], scores: Sequence[float]) -> None:
        for s, v in zip(smiles, scores, strict=True):
            self.best[s] = max(float(v), self.best.get(s, 0.0))

    def state_dict(self) -> dict[str, Any]:
        return {"best": dict(self.best)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best = dict(state["best"])

    def provenance(self) -> dict[str, Any]:
        return {"generator": self.name, "version": self.version, "tag": self.tag}


class Repeater:
    """Proposes the same molecule ``n`` times; no ``Params``, no seeds."""

    name: ClassVar[str] = "repeater"
    version: ClassVar[str] = "user-1"

    def __init__(self, smiles: str = "CCO") -> None:
        self.smiles = smiles

    def generate(self, n: int, seed: int) -> list[str]:
        return [self.smiles] * n

    def update(self, smiles: Sequence[str], scores: Sequence[float]) -> None:
        pass

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass

    def provenance(self) -> dict[str, Any]:
        return {"generator": self.name, "smiles": self.smiles}


class HeavyAtomCapParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_heavy_atoms: int = Field(ge=1)


class HeavyAtomCap:
    """Rejects molecules with more than ``max_heavy_atoms`` heavy atoms."""

    name: ClassVar[str] = "heavy_atom_cap"
    Params = HeavyAtomCapParams

    def __init__(self, max_heavy_atoms: int) -> None:
        self.max_heavy_atoms = max_heavy_atoms
        self.version = f"user-1+max{max_heavy_atoms}"

    def check(self, mols) -> list[str | None]:
        return [
            f"user cap: {m.GetNumHeavyAtoms()} heavy atoms > {self.max_heavy_atoms}"
            if m.GetNumHeavyAtoms() > self.max_heavy_atoms
            else None
            for m in mols
        ]


class NoPredict:
    """Looks like a predictor but has no ``predict``."""

    name = "no_predict"
    version = "1"
    outputs = ()


def make_file(path: str) -> None:
    """A callable with a side effect: it must be refused, never called."""
    Path(path).write_text("called\n")
