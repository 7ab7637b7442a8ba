"""Build a campaign's components (generator, predictors, filters, objectives) from its config.

This is the one place outside the CLI and flows that reads configuration: it turns validated
config into typed objects that the stage functions take. Generators, predictors and filters are
named the same way (registered name, entry point or ``module:Class``) and go through
:mod:`molgen.pipeline.specs`: resolved, checked against their protocol and their parameters
validated (:func:`component_params`) before anything is constructed.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import molgen.filters  # noqa: F401  (registers the built-in filters)
import molgen.predictors  # noqa: F401  (registers the built-in predictors)
from molgen.config import (
    Campaign,
    CampaignError,
    ComponentEntry,
    DockingConfig,
    LinearTransform,
    ObjectiveConfig,
    SigmoidTransform,
    StepTransform,
    as_entry,
)
from molgen.docking import DOCKING_ENGINES, DockingEngine, DockingSettings
from molgen.filters import FILTERS, Filter
from molgen.generators import GENERATORS, Generator
from molgen.pipeline.specs import ComponentSpec, resolve_spec, takes_argument
from molgen.predictors import PREDICTORS, Predictor
from molgen.registry import Registry, RegistryError
from molgen.resources import data_path
from molgen.scoring import Objective, linear, sigmoid, step
from molgen.scoring.objectives import Bound
from molgen.targets import Target, TargetError, get_target


def default_seeds() -> Path:
    """The bundled seed population: 1,000 MOSES training molecules."""
    return data_path("seeds", "moses_1k.smi")


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
    path = campaign.generator.seeds or default_seeds()
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
        CampaignError: an unknown predictor or filter, invalid parameters, a clash of output
            names, or an objective whose value no predictor produces; the message names the
            field.
    """
    filter_list = filter_specs(campaign)  # every component checked before any is built
    predictors: list[Predictor] = []
    outputs: dict[str, str] = {}
    for i, spec in enumerate(predictor_specs(campaign)):
        predictor: Predictor = spec.build(PREDICTORS)
        name = predictor.name
        for out in predictor.outputs:
            if out.name in outputs:
                raise CampaignError(
                    f"predictors[{i}]: output {out.name!r} of {name!r} clashes with "
                    f"predictor {outputs[out.name]!r}"
                )
            outputs[out.name] = name
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
    filters: list[Filter] = [spec.build(FILTERS) for spec in filter_list]
    return Components(predictors, filters, objectives, bounds)


def predictors_from_specs(specs: list[dict[str, Any]]) -> list[Predictor]:
    """The predictors of ``component_params(campaign)["predictors"]``, built (on a cluster
    worker, which has the specs but not the campaign file).

    Raises:
        CampaignError: as :func:`build_components` for a predictor.
    """
    return [
        resolve_spec(PREDICTORS, f"predictors[{i}]", s["kind"], s["params"]).build(PREDICTORS)
        for i, s in enumerate(specs)
    ]


def uses_gpu(campaign: Campaign) -> bool:
    """Whether a predictor of the campaign computes on a GPU when there is one (its class says
    so with ``uses_gpu = True``): its batches go to GPU workers."""
    return any(getattr(s.cls, "uses_gpu", False) for s in predictor_specs(campaign))


def generator_spec(campaign: Campaign) -> ComponentSpec:
    """The campaign's generator class and validated parameters (nothing is constructed).

    Raises:
        CampaignError: unknown or refused generator, invalid parameters (named
            ``generator.<field>``), or ``generator.seeds`` for a generator that takes none.
    """
    g = campaign.generator
    supplied = {"seeds": []}
    spec = resolve_spec(GENERATORS, "generator", g.kind, g.params, "generator.", supplied)
    if g.seeds is not None and not takes_argument(spec.cls, "seeds"):
        raise CampaignError(f"generator.seeds: generator {g.kind!r} takes no seed molecules")
    return spec


def predictor_specs(campaign: Campaign) -> list[ComponentSpec]:
    """Each entry of ``predictors``, resolved and its parameters validated."""
    entries = enumerate(campaign.predictors)
    return [_entry_spec(PREDICTORS, f"predictors[{i}]", e) for i, e in entries]


def filter_specs(campaign: Campaign) -> list[ComponentSpec]:
    """Each filter (``filters.use``, or the older keys), resolved and its parameters validated."""
    return [_entry_spec(FILTERS, where, e) for where, e in campaign.filters.entries()]


def _entry_spec(registry: Registry[Any], where: str, entry: str | ComponentEntry) -> ComponentSpec:
    e = as_entry(entry)
    return resolve_spec(registry, where, e.kind, e.params)


def component_params(campaign: Campaign) -> dict[str, Any]:
    """The validated parameters of the generator, predictors and filters, defaults filled in.

    Cheap (no model is loaded) and deterministic: the same campaign gives equal data. Shape::

        {"generator": {"kind": ..., "params": {...}},
         "predictors": [{"kind": ..., "params": {...}}, ...],
         "filters": [{"kind": ..., "params": {...}}, ...]}

    All values are JSON-able (paths as strings).

    Raises:
        CampaignError: as :func:`generator_spec`, for any component.
    """
    return {
        "generator": generator_spec(campaign).as_json(),
        "predictors": [s.as_json() for s in predictor_specs(campaign)],
        "filters": [s.as_json() for s in filter_specs(campaign)],
    }


def build_generator(campaign: Campaign, seeds: list[str]) -> Generator:
    """The campaign's generator, given prepared seed SMILES if its constructor takes ``seeds``.

    Raises:
        CampaignError: as :func:`generator_spec`, or a generator that cannot start (e.g. a
            prior file that is not a prior); the message names ``generator``.
    """
    return _with_seeds(generator_spec(campaign), seeds)


def _with_seeds(spec: ComponentSpec, seeds: list[str]) -> Generator:
    extra = {"seeds": seeds} if takes_argument(spec.cls, "seeds") else {}
    return spec.build(GENERATORS, **extra)


def generator_from_spec(spec: dict[str, Any], seeds: list[str]) -> Generator:
    """The generator of ``component_params(campaign)["generator"]``, built with ``seeds`` if
    its constructor takes them (on a cluster worker, which has the spec but not the campaign
    file).

    Raises:
        CampaignError: as :func:`build_generator`.
    """
    kind, params = spec["kind"], spec["params"]
    resolved = resolve_spec(GENERATORS, "generator", kind, params, "generator.", {"seeds": []})
    return _with_seeds(resolved, seeds)


def generator_uses_gpu(campaign: Campaign) -> bool:
    """Whether the campaign's generator computes on a GPU when there is one (its class says so
    with ``uses_gpu = True``, as the SELFIES agent does): its calls go to GPU workers."""
    return bool(getattr(generator_spec(campaign).cls, "uses_gpu", False))


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


def build_docking(
    campaign: Campaign, placement: Any = None
) -> tuple[DockingEngine, DockingSettings]:
    """The docking engine and settings the campaign asks for; docking on the CPU workers of
    ``placement`` (a :class:`molgen.cluster.Placement`) unless it is local."""
    d = campaign.docking
    try:
        cls = DOCKING_ENGINES.get(d.engine)
    except RegistryError as err:
        raise CampaignError(f"docking.engine: {err}") from err
    engine: DockingEngine
    if placement is not None and not placement.local:
        from molgen.docking.dask_fanout import ClusterFanOut

        engine = ClusterFanOut(placement, d.engine, d.timeout_s, program=d.program)
    elif d.dask_address or d.dask_local_workers:
        from molgen.docking.dask_fanout import DaskFanOut

        engine = DaskFanOut(
            d.engine,
            d.timeout_s,
            address=d.dask_address,
            local_workers=d.dask_local_workers,
            program=d.program,
        )
    else:
        extra = {"program": d.program} if d.program else {}
        try:
            engine = cls(workers=d.workers or None, timeout_s=d.timeout_s, **extra)
        except (TypeError, RuntimeError) as err:
            raise CampaignError(f"docking: cannot start engine {d.engine!r}: {err}") from err
    return engine, docking_settings(d)


def docking_settings(d: DockingConfig) -> DockingSettings:
    """The :class:`DockingSettings` of a campaign's ``[docking]`` section."""
    return DockingSettings(
        exhaustiveness=d.exhaustiveness,
        n_poses=d.n_poses,
        seed=d.seed,
        box_padding=d.box_padding,
        engine=d.engine,
        ph=d.ligand_ph,
        flexible_rings=d.flexible_rings,
    )
