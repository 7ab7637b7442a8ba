"""Predictors: the :class:`Predictor` interface, its registry and the built-in RDKit properties.

Importing this package registers the built-ins (``qed``, ``sa_score``, ``logp``, ``mw``,
``tpsa``, ``hbd``, ``hba``, ``rotatable_bonds``).
"""

from molgen.predictors import rdkit_props  # noqa: F401  (registers the built-in predictors)
from molgen.predictors.base import PREDICTORS, Predictor

__all__ = ["PREDICTORS", "Predictor"]
