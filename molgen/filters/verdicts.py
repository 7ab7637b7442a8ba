"""The base of filters that judge one molecule at a time.

Failure rule: :meth:`PerMolecule.check` raises :class:`ValueError` naming the filter and the
index of the first molecule that is ``None``; what :meth:`PerMolecule.reason` raises propagates.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rdkit import Chem


class PerMolecule:
    """A filter whose verdict on each molecule is :meth:`reason`; subclasses define it."""

    name: ClassVar[str]

    def check(self, mols: Sequence[Chem.Mol]) -> list[str | None]:
        """One entry per molecule: ``None`` if it passes, else the reason it fails.

        Raises:
            ValueError: a molecule is ``None``; the message names the filter and its index.
        """
        verdicts: list[str | None] = []
        for i, mol in enumerate(mols):
            if mol is None:
                raise ValueError(f"filter {self.name!r}: molecule {i} is None")
            verdicts.append(self.reason(mol))
        return verdicts

    def reason(self, mol: Chem.Mol) -> str | None:
        """Why ``mol`` (not ``None``) fails, or ``None`` if it passes."""
        raise NotImplementedError
