"""Build a campaign's components (generator, predictors, filters, objectives) from its config.

This is the one place outside the CLI and flows that reads configuration: it turns validated
config into typed objects that the stage functions take.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import ValidationError

import molgen.filters  # noqa: F401  (registers the built-in filters)
import molgen.predictors  # noqa: F401  (registers the built-in predictors)
from molgen.config import (
    Campaign,
    CampaignError,
    GraphGAConfig,
    LinearTransform,
    ObjectiveConfig,
    PredictorEntry,
    SelfiesRLConfig,
    SigmoidTransform,
    StepTransform,
)
from molgen.docking import DOCKING_ENGINES, DockingEngine, DockingSettings
from molgen.filters import FILTERS, Filter
from molgen.generators import GENERATORS, Generator
from molgen.predictors import PREDICTORS, Predictor
from molgen.registry import RegistryError
from molgen.scoring import Objective, linear, sigmoid, step
from molgen.scoring.objectives import Bound
from molgen.targets import Target, TargetError, get_target

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
DEFAULT_SEEDS = DATA_DIR / "seeds" / "moses_1k.smi"


DOCKING_SCORE = "docking_score"


@dataclass(frozen=True)
class Components:
    predictors: list[Predictor]
    filters: list[Filter]
    objectives: list[Objective]
    bounds: list[Bound]

    def pre_docking_objectives(self) -> list[Objective]:
        """Objectives computable before docking (used to choose what to dock)."""
        return [o for o in self.objectives if o.value != DOCKING_SCORE]

    def filter_bounds(self) -> list[Objective | Bound]:
        """Hard limits the filter stage applies: pre-docking objectives' and filters.bounds."""
        return [*self.pre_docking_objectives(), *self.bounds]

    def docking_objectives(self) -> list[Objective]:
        return [o for o in self.objectives if o.value == DOCKING_SCORE]


def seeds_path(campaign: Campaign) -> Path:
    """The generator's seed SMILES file: the campaign's, or the bundled MOSES sample."""
    path = getattr(campaign.generator, "seeds", None) or DEFAULT_SEEDS
    if not path.exists():
        raise CampaignError(f"generator.seeds: file not found: {path}")
    return path


def _transform(cfg: ObjectiveConfig):  # noqa: ANN202
    t = cfg.transform
    if isinstance(t, LinearTransform):
        return functools.partial(linear, low=t.low, high=t.high)
    if isinstance(t, SigmoidTransform):
        return functools.partial(sigmoid, low=t.low, high=t.high, k=t.k)
    if isinstance(t, StepTransform):
        return functools.partial(step, low=t.low, high=t.high)
    raise TypeError(f"unhandled transform {t!r}")


def build_components(campaign: Campaign) -> Components:
    """Instantiate predictors and filters and check that every objective has a value.

    Raises:
        CampaignError: an unknown predictor, a clash of output names, or an objective whose
            value no predictor produces; the message names the field.
    """
    predictors: list[Predictor] = []
    outputs: dict[str, str] = {}
    for i, entry in enumerate(campaign.predictors):
        predictor = build_predictor(i, entry)
        name = predictor.name
        for spec in predictor.outputs:
            if spec.name in outputs:
                raise CampaignError(
                    f"predictors[{i}]: output {spec.name!r} of {name!r} clashes with "
                    f"predictor {outputs[spec.name]!r}"
                )
            outputs[spec.name] = name
        predictors.append(predictor)

    if campaign.budget.dock_per_round > 0:
        outputs[DOCKING_SCORE] = f"docking ({campaign.docking.engine})"
    objectives = []
    for i, obj in enumerate(campaign.objectives):
        if obj.value == DOCKING_SCORE and DOCKING_SCORE not in outputs:
            raise CampaignError(
                f"objectives[{i}].value: {DOCKING_SCORE!r} needs budget.dock_per_round > 0"
            )
        if obj.value not in outputs:
            raise CampaignError(
                f"objectives[{i}].value: no predictor produces {obj.value!r} "
                f"(available: {', '.join(outputs)})"
            )
        b = obj.bounds
        objectives.append(
            Objective(
                value=obj.value,
                transform=_transform(obj),
                weight=obj.weight,
                lower=b.min if b else None,
                upper=b.max if b else None,
            )
        )

    f = campaign.filters
    bounds = []
    for value, b in f.bounds.items():
        if value not in outputs or value == DOCKING_SCORE:
            raise CampaignError(
                f"filters.bounds.{value}: no predictor produces {value!r} before docking "
                f"(available: {', '.join(k for k in outputs if k != DOCKING_SCORE)})"
            )
        bounds.append(Bound(value, b.min, b.max))
    filters: list[Filter] = []
    if f.alerts:
        filters.append(FILTERS.get("structural_alerts")(catalogs=f.alerts))
    for rule in f.rules:
        if rule == "lipinski":
            filters.append(FILTERS.get("lipinski")(max_violations=f.lipinski_max_violations))
        else:
            filters.append(FILTERS.get(rule)())
    return Components(predictors, filters, objectives, bounds)


def build_predictor(i: int, entry: str | PredictorEntry) -> Predictor:
    """Instantiate ``predictors[i]``, validating its parameters against the class's ``Params``.

    Raises:
        CampaignError: unknown predictor, invalid parameters, or a predictor that cannot start
            (e.g. a model file that is not a model); the message names ``predictors[i]``.
    """
    kind, params = (entry, {}) if isinstance(entry, str) else (entry.kind, entry.params)
    where = f"predictors[{i}] ({kind})"
    try:
        cls = PREDICTORS.get(kind)
    except RegistryError as err:
        raise CampaignError(f"predictors[{i}]: {err}") from err
    schema = getattr(cls, "Params", None)
    if schema is not None:
        try:
            schema(**params)
        except ValidationError as err:
            problems = "; ".join(
                f"params.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors()
            )
            raise CampaignError(f"{where}: {problems}") from err
    try:
        return cls(**params)
    except (TypeError, ValueError, OSError, ImportError, RuntimeError) as err:
        raise CampaignError(f"{where}: {err}") from err


def build_generator(campaign: Campaign, seeds: list[str]) -> Generator:
    """The campaign's generator, initialized with prepared seed SMILES."""
    g = campaign.generator
    if isinstance(g, GraphGAConfig):
        cls = GENERATORS.get("graph_ga")
        return cls(
            seeds=seeds,
            population_size=g.population_size,
            mutation_rate=g.mutation_rate,
            max_heavy_atoms=g.max_heavy_atoms,
        )
    if isinstance(g, SelfiesRLConfig):
        from molgen.artifacts.model_files import ModelFileError
        from molgen.generators.selfies_lm import agent  # noqa: F401  (registers selfies_rl)

        try:
            return GENERATORS.get("selfies_rl")(
                prior=g.prior,
                sigma=g.sigma,
                learning_rate=g.learning_rate,
                temperature=g.temperature,
                bucket_size=g.bucket_size,
                replay_size=g.replay_size,
                replay_samples=g.replay_samples,
                minibatch=g.minibatch,
            )
        except ModelFileError as err:
            raise CampaignError(f"generator.prior: {err}") from err
    raise TypeError(f"unhandled generator config {g!r}")


def round_seed(seed: int, round_: int, stage: str) -> int:
    """A seed for one stage of one round, derived from the campaign seed."""
    tag = int.from_bytes(hashlib.sha256(stage.encode()).digest()[:4], "little")
    return int(np.random.SeedSequence([seed, round_, tag]).generate_state(1)[0])


def resolve_target(campaign: Campaign) -> Target:
    """The campaign's docking target: bundled, or the user's PDB prepared (and cached).

    Raises:
        CampaignError: an unknown bundled target or a PDB that cannot be prepared.
    """
    t = campaign.target
    try:
        if t.pdb is None:
            return get_target(t.name)
        from molgen.docking.receptor import prepare_receptor
    except TargetError as err:
        raise CampaignError(f"target.name: {err}") from err
    try:
        return prepare_receptor(
            t.pdb,
            campaign.output / "receptors",
            box_center=t.center,
            box_size=t.size,
            ligand_resname=t.ligand,
            padding=t.padding,
            ph=t.ph,
            minimize=t.minimize,
            name=t.name,
        )
    except (ValueError, OSError) as err:  # ReceptorError is a ValueError
        raise CampaignError(f"target.pdb: {err}") from err


def build_docking(campaign: Campaign) -> tuple[DockingEngine, DockingSettings]:
    """The docking engine and settings the campaign asks for."""
    d = campaign.docking
    try:
        cls = DOCKING_ENGINES.get(d.engine)
    except RegistryError as err:
        raise CampaignError(f"docking.engine: {err}") from err
    engine: DockingEngine
    if d.dask_address or d.dask_local_workers:
        from molgen.docking.dask_fanout import DaskFanOut

        engine = DaskFanOut(
            d.engine, d.timeout_s, address=d.dask_address, local_workers=d.dask_local_workers
        )
    else:
        extra = {"program": d.program} if d.program else {}
        try:
            engine = cls(workers=d.workers or None, timeout_s=d.timeout_s, **extra)
        except (TypeError, RuntimeError) as err:
            raise CampaignError(f"docking: cannot start engine {d.engine!r}: {err}") from err
    settings = DockingSettings(
        exhaustiveness=d.exhaustiveness,
        n_poses=d.n_poses,
        seed=d.seed,
        box_padding=d.box_padding,
        engine=d.engine,
        ph=d.ligand_ph,
        flexible_rings=d.flexible_rings,
    )
    return engine, settings
