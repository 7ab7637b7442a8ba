"""Structural-alert filter over RDKit's FilterCatalog (PAINS, Brenk, NIH, ZINC, ChEMBL).

Failure rule: the constructor raises :class:`ValueError` for an unknown or empty catalog list;
:meth:`StructuralAlerts.check` raises :class:`ValueError` naming the index of a molecule that is
``None``; otherwise it returns one verdict per molecule.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator
from rdkit import Chem
from rdkit.Chem.FilterCatalog import FilterCatalog, FilterCatalogParams

from molgen.filters.base import FILTERS
from molgen.filters.verdicts import PerMolecule
from molgen.predictors.rdkit_props import RDKIT_VERSION

_Catalogs = FilterCatalogParams.FilterCatalogs
CATALOGS: dict[str, _Catalogs] = {
    "PAINS_A": _Catalogs.PAINS_A,
    "PAINS_B": _Catalogs.PAINS_B,
    "PAINS_C": _Catalogs.PAINS_C,
    "PAINS": _Catalogs.PAINS,
    "BRENK": _Catalogs.BRENK,
    "NIH": _Catalogs.NIH,
    "ZINC": _Catalogs.ZINC,
    "CHEMBL": _Catalogs.CHEMBL,
}
"""Catalog names accepted by :class:`StructuralAlerts`; ``PAINS`` is A, B and C together."""

DEFAULT_CATALOGS = ("PAINS", "BRENK", "NIH")
"""The catalogs :class:`StructuralAlerts` uses when none are given."""


def check_catalogs(catalogs: Sequence[str]) -> list[str]:
    """``catalogs`` without repeats, in order.

    Raises:
        TypeError: if ``catalogs`` is a single string rather than a sequence of names.
        ValueError: if it is empty or names a catalog not in :data:`CATALOGS`.
    """
    if isinstance(catalogs, str):
        raise TypeError(f"structural_alerts: catalogs must be a list of names, not {catalogs!r}")
    names = list(dict.fromkeys(catalogs))
    if not names:
        raise ValueError("structural_alerts: catalogs is empty")
    for catalog in names:
        if catalog not in CATALOGS:
            raise ValueError(
                f"structural_alerts: unknown catalog {catalog!r} (known: {', '.join(CATALOGS)})"
            )
    return names


class StructuralAlertsParams(BaseModel):
    """Campaign-file parameters of ``structural_alerts``."""

    model_config = ConfigDict(extra="forbid")

    catalogs: list[str] = Field(default_factory=lambda: list(DEFAULT_CATALOGS))

    @field_validator("catalogs")
    @classmethod
    def _known(cls, catalogs: list[str]) -> list[str]:
        check_catalogs(catalogs)
        return catalogs


def _catalog(name: str) -> FilterCatalog:
    params = FilterCatalogParams()
    params.AddCatalog(CATALOGS[name])
    return FilterCatalog(params)


@FILTERS.register("structural_alerts")
class StructuralAlerts(PerMolecule):
    """Rejects molecules that match any alert of the chosen catalogs.

    A rejection reads ``"structural alert PAINS: ene_rhod_A(235); structural alert BRENK:
    Michael_acceptor_1; Thiocarbonyl_group"``: every matching alert, grouped by the catalog
    name as given, each description reported once (for the first catalog that matched it).

    Args:
        catalogs: names from :data:`CATALOGS`; duplicates are ignored. Default:
            :data:`DEFAULT_CATALOGS`.

    Raises:
        TypeError: if ``catalogs`` is a single string rather than a sequence of names.
        ValueError: if ``catalogs`` is empty or names an unknown catalog.
    """

    name: ClassVar[str] = "structural_alerts"
    Params: ClassVar[type[BaseModel]] = StructuralAlertsParams

    def __init__(self, catalogs: Sequence[str] = DEFAULT_CATALOGS) -> None:
        names = check_catalogs(catalogs)
        self.catalogs = tuple(names)
        self.version = f"{RDKIT_VERSION}-{'+'.join(names)}"
        self._filters = [(catalog, _catalog(catalog)) for catalog in names]

    def reason(self, mol: Chem.Mol) -> str | None:
        """The matching alerts, or ``None`` if none matches."""
        seen: set[str] = set()
        parts: list[str] = []
        for catalog, filter_catalog in self._filters:
            found = []
            for entry in filter_catalog.GetMatches(mol):
                description = entry.GetDescription()
                if description not in seen:
                    seen.add(description)
                    found.append(description)
            if found:
                parts.append(f"structural alert {catalog}: {'; '.join(found)}")
        return "; ".join(parts) if parts else None
