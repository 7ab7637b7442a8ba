"""datamol's ``medchem`` as a filter: Novartis (NIBR) exclusion rules and complexity outliers.

These are the parts of medchem that molgen's own filters do not already have: ``alerts.py``
offers RDKit's PAINS, BRENK, NIH, ZINC and ChEMBL catalogs (medchem's "common alerts" are the
ChEMBL ones), and ``stability.py`` checks Bredt's rule and the strained rings that medchem's
``bredt`` and ``molecular_graph`` rules target. Both checks read data that ships inside the
medchem wheel (``medchem/data/nibr.csv``, ``medchem/data/complexity/*.csv``); nothing is
downloaded.

- ``nibr``: the NIBR screening-deck rules (Schuffenhauer et al., *J. Med. Chem.* 2020,
  doi:10.1021/acs.jmedchem.0c01332); a molecule is rejected when a rule of severity
  "exclude" matches, as medchem's ``NIBRFilters`` decides, and the reason names those rules.
- ``complexity``: a complexity index (``complexity_metric``, Bertz by default) above the
  ``complexity_limit`` percentile of commercially available ZINC 15 compounds of the same
  molecular-weight bin (medchem's ``ComplexityFilter``).

medchem is an optional extra (``pip install 'molgen[medchem]'``): its datamol dependency brings
about 90 packages (Jupyter, nglview, cloud file systems), too many for a core dependency. It is
imported only when this filter is built, and it is off in the campaign templates.

Failure rule: the constructor raises :class:`ImportError` (saying how to install it) when medchem
is missing and :class:`ValueError` for unknown checks; :meth:`MedchemFilter.check` raises
:class:`ValueError` naming the index of a molecule that is ``None``.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any, ClassVar, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field
from rdkit import Chem

from molgen.filters.base import FILTERS
from molgen.filters.verdicts import PerMolecule

Check = Literal["nibr", "complexity"]
CHECKS: tuple[str, ...] = get_args(Check)
Metric = Literal["bertz", "sas", "qed", "clogp", "whitlock", "barone", "smcm", "twc"]
Limit = Literal["90", "99", "999", "max"]
_EXCLUDE = 2  # NIBR severity that excludes a compound (1 flags it, 0 annotates it)


class MedchemParams(BaseModel):
    """Campaign-file parameters of ``medchem``."""

    model_config = ConfigDict(extra="forbid")

    checks: list[Check] = Field(default_factory=lambda: list(CHECKS), min_length=1)
    complexity_metric: Metric = "bertz"
    complexity_limit: Limit = Field(
        default="999", description="ZINC 15 percentile: 90, 99, 999 (99.9th) or max"
    )


@FILTERS.register("medchem")
class MedchemFilter(PerMolecule):
    """Rejects molecules that NIBR's rules exclude or whose complexity is a ZINC outlier.

    Rejections read ``"medchem NIBR: <rule>; <rule>"`` and ``"medchem complexity: bertz above
    the ZINC 15 999 percentile for its molecular weight"``, joined by ``"; "``.

    Args:
        checks: which of :data:`CHECKS` to run; default both.
        complexity_metric: medchem's complexity index.
        complexity_limit: the ZINC 15 percentile a molecule must stay below.

    Raises:
        ImportError: medchem is not installed.
        ValueError: an unknown or empty check list, metric or limit.
    """

    name: ClassVar[str] = "medchem"
    Params: ClassVar[type[BaseModel]] = MedchemParams

    def __init__(
        self,
        checks: Sequence[str] = CHECKS,
        complexity_metric: str = "bertz",
        complexity_limit: str = "999",
    ) -> None:
        p = MedchemParams(
            checks=list(checks),  # type: ignore[arg-type]
            complexity_metric=complexity_metric,  # type: ignore[arg-type]
            complexity_limit=complexity_limit,  # type: ignore[arg-type]
        )
        try:
            medchem_version = version("medchem")
        except PackageNotFoundError as err:
            raise ImportError(
                "the medchem filter needs datamol's medchem: pip install 'molgen[medchem]'"
            ) from err
        from medchem.catalogs import NamedCatalogs
        from medchem.complexity import ComplexityFilter

        self.checks = tuple(c for c in CHECKS if c in p.checks)
        self.complexity_metric, self.complexity_limit = p.complexity_metric, p.complexity_limit
        self.version = f"medchem-{medchem_version}-{'+'.join(self.checks)}"
        if "complexity" in self.checks:
            self.version += f"-{p.complexity_metric}{p.complexity_limit}"
        self._nibr: Any = NamedCatalogs.nibr() if "nibr" in self.checks else None
        self._complexity: Any = (
            ComplexityFilter(limit=p.complexity_limit, complexity_metric=p.complexity_metric)
            if "complexity" in self.checks
            else None
        )

    def reason(self, mol: Chem.Mol) -> str | None:
        """Why ``mol`` fails (see the class docstring), or ``None``."""
        parts = []
        if self._nibr is not None and (excluded := self._nibr_exclusions(mol)):
            parts.append(f"medchem NIBR: {'; '.join(excluded)}")
        if self._complexity is not None and not self._complexity(mol):
            parts.append(
                f"medchem complexity: {self.complexity_metric} above the ZINC 15 "
                f"{self.complexity_limit} percentile for its molecular weight"
            )
        return "; ".join(parts) if parts else None

    def _nibr_exclusions(self, mol: Chem.Mol) -> list[str]:
        """Names of the matching NIBR rules of severity "exclude", each once, in match order."""
        names: dict[str, None] = {}
        for entry in self._nibr.GetMatches(mol):
            # medchem's label: rule_set || description_min(n) || severity || covalent || special
            _, rule, severity, *_ = entry.GetDescription().split("||")
            if int(severity) == _EXCLUDE:
                names[rule.rsplit("_min(", 1)[0]] = None
        return list(names)
