"""Molecule generators behind one interface (see :mod:`molgen.generators.base`)."""

from molgen.generators.base import GENERATORS, Generator
from molgen.generators.graph_ga import GraphGA

__all__ = ["GENERATORS", "Generator", "GraphGA"]
