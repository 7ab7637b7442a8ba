"""The Filter interface and its registry."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Protocol, runtime_checkable

from rdkit import Chem

from molgen.registry import Registry


@runtime_checkable
class Filter(Protocol):
    """Accepts or rejects molecules, giving a reason for each rejection.

    A campaign names a filter in ``filters.use`` by registered name, ``molgen.filters`` entry
    point or ``module:Class``; its ``params`` are constructor keyword arguments, checked first
    against the class's pydantic ``Params`` model when it declares one.

    Attributes:
        name: registered name, used in rejection reasons and provenance.
        version: changes whenever the verdicts could change.
    """

    name: ClassVar[str]
    version: str

    def check(self, mols: Sequence[Chem.Mol]) -> list[str | None]:
        """One entry per molecule: ``None`` if it passes, else the reason it fails."""
        ...


FILTERS: Registry[Filter] = Registry("filter", "molgen.filters", Filter)
