"""Predictors: the :class:`Predictor` interface, its registry and the built-in predictors.

Importing this package registers the built-ins: the RDKit properties (``qed``, ``sa_score``,
``logp``, ``mw``, ``tpsa``, ``hbd``, ``hba``, ``rotatable_bonds``), molgen's graph models
(``solubility``, ``hydration_free_energy``, ``graph_model`` for any molgen model file), ADMET-AI
(``admet_ai``) and DeepChem models (``deepchem``). Heavy libraries (torch, ADMET-AI, DeepChem)
are imported only when such a predictor is built.
"""

from molgen.predictors import admet, deepchem_adapter, rdkit_props  # noqa: F401  (register)
from molgen.predictors.base import PREDICTORS, Predictor
from molgen.predictors.gnn import predictor as _gnn  # noqa: F401  (registers graph models)

__all__ = ["PREDICTORS", "Predictor"]
