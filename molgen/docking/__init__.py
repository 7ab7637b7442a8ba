"""Docking: ligand preparation, engines (Vina by default) and receptor preparation."""

from molgen.docking.base import DOCKING_ENGINES, DockingEngine, DockingSettings, DockResult
from molgen.docking.cli_engine import VinaCLIEngine
from molgen.docking.vina_engine import VinaEngine

__all__ = [
    "DOCKING_ENGINES",
    "DockResult",
    "DockingEngine",
    "DockingSettings",
    "VinaCLIEngine",
    "VinaEngine",
]
