"""The campaign file: a TOML document validated by pydantic before anything runs.

Only the CLI and the flows read configuration; library functions take typed arguments.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from molgen.resources import SHIPPED_MODELS

PREDICTOR_NAMES_DEFAULT = ("qed", "sa_score", "logp", "mw", "tpsa", "hbd", "hba", "rotatable_bonds")


class CampaignError(ValueError):
    """A campaign file that cannot be used; the message names the file, field and reason."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TargetConfig(_Model):
    """The protein target: a bundled one by name, or a user's PDB file and pocket.

    For a user PDB, give the pocket either as ``ligand`` (residue name of a co-crystallized
    ligand; the box is its extent plus ``padding``) or as ``center`` and ``size`` (Å).
    """

    name: str = Field(description="bundled target name (molgen targets), or a label for pdb")
    pdb: Path | None = Field(default=None, description="a raw PDB file to prepare")
    ligand: str | None = Field(default=None, min_length=1, max_length=3)
    center: tuple[float, float, float] | None = None
    size: tuple[float, float, float] | None = None
    padding: float = Field(default=8.0, ge=0, le=30)
    ph: float = Field(default=7.4, ge=0, le=14)
    minimize: bool = False

    @model_validator(mode="after")
    def _pocket(self) -> TargetConfig:
        box = self.center is not None or self.size is not None
        if self.pdb is None:
            if box or self.ligand:
                raise ValueError("ligand, center and size apply only with pdb")
        elif (self.center is None) != (self.size is None):
            raise ValueError("give both center and size for a box")
        elif box == bool(self.ligand):
            raise ValueError("give the pocket as either ligand or center and size, not both")
        return self


class ComponentEntry(_Model):
    """A component with parameters: ``{kind = "solubility"}`` or
    ``{kind = "mypackage.models:MyModel", params = {path = "model.pt"}}``.

    ``kind`` is a registered name, an entry point of the kind's group (``molgen.predictors``,
    ``molgen.filters``) or ``package.module:Class``. ``params`` are checked against the class's
    own ``Params`` model (if it declares one) before the campaign starts. Parameters named
    ``path`` or ending in ``_path`` or ``_dir`` are paths, resolved against the campaign file's
    folder.
    """

    kind: str = Field(description="registered name, entry point, or module:Class")
    params: dict[str, Any] = Field(default_factory=dict)


def as_entry(entry: str | ComponentEntry) -> ComponentEntry:
    """A bare name as ``{kind = name}``; an entry as it is."""
    return ComponentEntry(kind=entry) if isinstance(entry, str) else entry


class GeneratorConfig(_Model):
    """The generator: ``kind`` names it (registered name such as ``graph_ga`` or
    ``selfies_rl``, a ``molgen.generators`` entry point, or ``module:Class``); every other key of
    the ``[generator]`` table is one of its parameters, checked against the class's ``Params``
    before the campaign starts. The parameters and their defaults live with the generator class.
    """

    kind: str = Field(description="registered name, entry point, or module:Class")
    seeds: Path | None = Field(
        default=None,
        description="SMILES file (one per line, first column) for generators that take seed "
        "molecules; default: bundled MOSES sample",
    )
    params: dict[str, Any] = Field(
        default_factory=dict, description="the table's other keys: the generator's parameters"
    )

    @model_validator(mode="before")
    @classmethod
    def _collect_params(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        rest = {k: v for k, v in data.items() if k not in {"kind", "seeds", "params"}}
        if not rest:
            return data
        if "params" in data:
            raise ValueError(
                "give the generator's parameters as keys of [generator] or as "
                "generator.params, not both"
            )
        return {**{k: data[k] for k in ("kind", "seeds") if k in data}, "params": rest}


# Budgets a round can finish: every stage checkpoints in batches, but generate holds a round's
# molecules in memory and the store writes a round in one transaction.
MAX_MOLECULES_PER_ROUND = 1_000_000
MAX_DOCK_PER_ROUND = 100_000
MAX_ROUNDS = 100_000


class BudgetConfig(_Model):
    rounds: int | str = Field(
        description='rounds in all; "unlimited": no end (a schedule, or molgen run --rounds N, '
        "says how many a run adds)"
    )

    @field_validator("rounds")
    @classmethod
    def _rounds(cls, value: int | str) -> int | str:
        if value == "unlimited" or (isinstance(value, int) and 1 <= value <= MAX_ROUNDS):
            return value
        raise ValueError(f'give a number of rounds from 1 to {MAX_ROUNDS}, or "unlimited"')

    molecules_per_round: int = Field(
        ge=1,
        le=MAX_MOLECULES_PER_ROUND,
        description="molecules generated per round; run more rounds for more molecules",
    )
    dock_per_round: int = Field(default=0, ge=0, le=MAX_DOCK_PER_ROUND)

    @property
    def unlimited(self) -> bool:
        return self.rounds == "unlimited"

    @model_validator(mode="after")
    def _dock_what_is_generated(self) -> BudgetConfig:
        if self.dock_per_round > self.molecules_per_round:
            raise ValueError(
                f"dock_per_round ({self.dock_per_round}) is more than molecules_per_round "
                f"({self.molecules_per_round}): a round docks molecules it generated"
            )
        return self


class SurrogateConfig(_Model):
    """How ``[docking] selection = "surrogate"`` picks what to dock (``[docking.surrogate]``).

    Each round a model is trained on every molecule docked so far into the target with the
    campaign's docking settings (the store's docking cache, shared by the campaigns on that
    target), predicts a docking score and its uncertainty for each filtered molecule, and the
    acquisition picks the ``dock_per_round`` molecules to dock.
    """

    model: Literal["fingerprint", "graph"] = Field(
        default="fingerprint",
        description="fingerprint: a random forest on Morgan count fingerprints and a few "
        "descriptors, the spread of its trees the uncertainty; graph: an ensemble of molgen's "
        "graph networks, the spread of its members the uncertainty (slower to train)",
    )
    acquisition: Literal["greedy", "ucb", "thompson"] = Field(
        default="ucb",
        description="greedy: best predicted score; ucb: best score less beta uncertainties; "
        "thompson: best draw from each prediction",
    )
    beta: float = Field(default=2.0, ge=0, le=100, description="ucb's weight on uncertainty")
    trees: int = Field(default=100, ge=8, le=2000, description="trees of the random forest")
    members: int = Field(default=4, ge=2, le=16, description="networks of the graph ensemble")
    random_fraction: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description="share of each round's docking picked at random among the filtered "
        "molecules (exploration); the rest by the acquisition",
    )
    min_training: int = Field(
        default=64,
        ge=2,
        description="a round with fewer docked molecules to learn from docks a random sample: "
        "the initial random batch",
    )
    feedback: bool = Field(
        default=True,
        description="the generator learns from predicted docking scores of molecules not "
        "docked (the ranking never uses them)",
    )

    @model_validator(mode="after")
    def _graph_needs_a_split(self) -> SurrogateConfig:
        if self.model == "graph" and self.min_training < 10:
            raise ValueError(
                "min_training must be at least 10 for the graph model (it keeps a tenth of "
                "the docked molecules for early stopping)"
            )
        return self


class DockingConfig(_Model):
    """Docking settings, used when ``budget.dock_per_round`` > 0."""

    engine: str = Field(
        default="vina",
        description="vina (Python API), vina-cli (a Vina-compatible program), or module:Class",
    )
    program: str | None = Field(
        default=None, description="for vina-cli: the executable (vina, qvina2, smina...)"
    )
    exhaustiveness: int = Field(default=1, ge=1, le=64)
    n_poses: int = Field(default=9, ge=1, le=20)
    seed: int = Field(
        default=1,
        ge=1,
        description="docking seed (>= 1; Vina reads 0 as random), not the campaign's",
    )
    box_padding: float = Field(default=0.0, ge=0, le=20, description="Å added to each box edge")
    ligand_ph: float | None = Field(
        default=None,
        ge=0,
        le=14,
        description="protonate ligands at this pH before docking (Dimorphite-DL); omit to skip",
    )
    flexible_rings: bool = Field(
        default=False, description="let meeko open rings of 7+ atoms and search their shape"
    )
    timeout_s: float = Field(default=600.0, gt=0, description="per-ligand wall-clock limit")
    workers: int = Field(default=0, ge=0, description="worker processes; 0 = one per CPU")
    dask_address: str | None = Field(default=None, description="Dask scheduler to fan out to")
    dask_local_workers: int = Field(
        default=0, ge=0, description="start a local Dask cluster with this many workers"
    )
    selection: Literal["objectives", "surrogate"] = Field(
        default="objectives",
        description="what decides which molecules are docked: the other objectives' score, or "
        "a surrogate model of the docking score ([docking.surrogate])",
    )
    surrogate: SurrogateConfig = Field(default_factory=SurrogateConfig)

    @model_validator(mode="after")
    def _one_cluster(self) -> DockingConfig:
        if self.dask_address and self.dask_local_workers:
            raise ValueError("give dask_address or dask_local_workers, not both")
        return self


class LinearTransform(_Model):
    """Maps ``low`` to 0 and ``high`` to 1, linearly, clipped; ``low > high`` reverses it."""

    kind: Literal["linear"] = "linear"
    low: float
    high: float


class SigmoidTransform(_Model):
    """REINVENT's sigmoid: 0.5 at the midpoint of ``low`` and ``high``; ``k`` sets steepness."""

    kind: Literal["sigmoid"] = "sigmoid"
    low: float
    high: float
    k: float = Field(default=0.25, gt=0)


class StepTransform(_Model):
    """Step desirability: 1 inside ``[low, high]``, 0 outside."""

    kind: Literal["step"] = "step"
    low: float = float("-inf")
    high: float = float("inf")


Transform = Annotated[
    LinearTransform | SigmoidTransform | StepTransform, Field(discriminator="kind")
]


class Bounds(_Model):
    """Hard limits on a raw value; a molecule outside them is rejected in the filter stage."""

    min: float | None = None
    max: float | None = None


class ObjectiveConfig(_Model):
    value: str = Field(description="a predictor output, e.g. qed")
    transform: Transform
    weight: float = Field(default=1.0, gt=0)
    bounds: Bounds | None = None

    @model_validator(mode="after")
    def _transform_has_range(self) -> ObjectiveConfig:
        t = self.transform
        if isinstance(t, LinearTransform | SigmoidTransform) and t.low == t.high:
            raise ValueError("transform low and high must differ")
        return self


DEFAULT_FILTERS = ("structural_alerts", "lipinski", "veber")
"""The filters a campaign runs when its file names none (each with its own default params)."""


class FiltersConfig(_Model):
    """Filters and hard bounds. ``use`` lists the filters, like ``predictors``::

        [filters]
        use = ["veber", { kind = "structural_alerts", params = { catalogs = ["PAINS"] } }]

    The older keys ``alerts``, ``rules`` and ``lipinski_max_violations`` still work (they stand
    for ``structural_alerts``, ``lipinski`` and ``veber`` with those parameters) but cannot be
    mixed with ``use``.
    """

    use: list[str | ComponentEntry] | None = Field(
        default=None,
        description="filters, in order: registered name, entry point or module:Class, bare or "
        "as {kind, params}; default: structural_alerts, lipinski, veber",
    )
    alerts: list[str] | None = Field(
        default=None, description="older form: structural_alerts catalogs ([] for none)"
    )
    rules: list[Literal["lipinski", "veber"]] | None = Field(
        default=None, description="older form: which of lipinski and veber to apply"
    )
    lipinski_max_violations: int | None = Field(
        default=None, description="older form: lipinski's max_violations"
    )
    bounds: dict[str, Bounds] = Field(
        default_factory=dict,
        description="hard limits on predictor outputs that are not objectives, e.g. "
        "hERG = {max = 0.5}",
    )

    @model_validator(mode="after")
    def _one_form(self) -> FiltersConfig:
        older = [k for k in _OLDER_FILTER_KEYS if getattr(self, k) is not None]
        if self.use is not None and older:
            raise ValueError(f"give use or the older {', '.join(older)}, not both")
        return self

    def entries(self) -> list[tuple[str, ComponentEntry]]:
        """Each filter, in the order they run, with the field path that names it in errors."""
        if self.use is not None:
            return [(f"filters.use[{i}]", as_entry(e)) for i, e in enumerate(self.use)]
        if all(getattr(self, k) is None for k in _OLDER_FILTER_KEYS):
            return [("filters.use", ComponentEntry(kind=k)) for k in DEFAULT_FILTERS]
        found: list[tuple[str, ComponentEntry]] = []
        if self.alerts is None:
            found.append(("filters", ComponentEntry(kind="structural_alerts")))
        elif self.alerts:
            alerts = ComponentEntry(kind="structural_alerts", params={"catalogs": self.alerts})
            found.append(("filters.alerts", alerts))
        rules = self.rules if self.rules is not None else ["lipinski", "veber"]
        for i, rule in enumerate(rules):
            where = f"filters.rules[{i}]" if self.rules is not None else "filters"
            params: dict[str, Any] = {}
            if rule == "lipinski" and self.lipinski_max_violations is not None:
                where = "filters.lipinski_max_violations"
                params = {"max_violations": self.lipinski_max_violations}
            found.append((where, ComponentEntry(kind=rule, params=params)))
        return found


_OLDER_FILTER_KEYS = ("alerts", "rules", "lipinski_max_violations")


class ScoringConfig(_Model):
    aggregation: Literal["weighted_sum", "geometric_mean"] = "weighted_sum"


class RuntimeConfig(_Model):
    batch_size: int = Field(default=256, ge=1, description="molecules per checkpointed batch")


_MEMORY = r"^[0-9]+(\.[0-9]+)?\s*([KMGT]i?B?|[kmgt]b?)?$"
_WALLTIME = r"^([0-9]+-)?[0-9]{1,2}(:[0-9]{2}){1,2}$"


class ClusterConfig(_Model):
    """Where the heavy stages run; results do not depend on it (not part of the config hash).

    ``local``: in this process and its worker processes. ``dask``: on the workers of a running
    Dask scheduler at ``address`` (GPU work on workers started with ``--resources GPU=1``).
    ``slurm``: on SLURM jobs the flow starts for itself through dask-jobqueue, CPU jobs for
    docking chunks and GPU jobs (``--gres=gpu:N``) for GPU predictors' batches, scaled between
    none and ``max_jobs`` / ``max_gpu_jobs`` as work waits.
    """

    kind: Literal["local", "dask", "slurm"] = "local"
    address: str | None = Field(default=None, description="dask: the scheduler, tcp://host:8786")
    partition: str | None = Field(default=None, description="slurm: partition of CPU jobs")
    gpu_partition: str | None = Field(
        default=None, description="slurm: partition of GPU jobs (default: partition)"
    )
    account: str | None = Field(default=None, description="slurm: account jobs are charged to")
    walltime: str = Field(default="01:00:00", pattern=_WALLTIME, description="slurm: per job")
    cores: int = Field(default=1, ge=1, le=512, description="slurm: cores per CPU job")
    memory: str = Field(default="4GB", pattern=_MEMORY, description="slurm: memory per CPU job")
    gpus: int = Field(default=1, ge=1, le=16, description="slurm: GPUs per GPU job (--gres)")
    gpu_cores: int = Field(default=1, ge=1, le=512, description="slurm: cores per GPU job")
    gpu_memory: str = Field(default="8GB", pattern=_MEMORY, description="slurm: per GPU job")
    max_jobs: int = Field(default=4, ge=1, le=10_000, description="slurm: CPU jobs at once")
    max_gpu_jobs: int = Field(default=1, ge=0, le=1_000, description="slurm: GPU jobs at once")
    job_directives: list[str] = Field(
        default_factory=list, description="slurm: extra #SBATCH options of every job"
    )
    prologue: list[str] = Field(
        default_factory=list,
        description="slurm: shell lines run first in each job (module load, source a venv)",
    )
    python: str | None = Field(
        default=None, description="slurm: the Python on compute nodes (default: this one)"
    )
    interface: str | None = Field(
        default=None, description="network interface the workers and scheduler use (ib0)"
    )

    @model_validator(mode="after")
    def _fields_of_the_kind(self) -> ClusterConfig:
        if self.kind == "dask" and not self.address:
            raise ValueError("kind = 'dask' needs the scheduler's address")
        if self.kind != "dask" and self.address:
            raise ValueError(f"address is for kind = 'dask', not {self.kind!r}")
        slurm_only = {
            name
            for name in ("partition", "gpu_partition", "account", "python")
            if getattr(self, name) is not None
        } | {name for name in ("job_directives", "prologue") if getattr(self, name)}
        if self.kind != "slurm" and slurm_only:
            raise ValueError(f"{', '.join(sorted(slurm_only))}: only for kind = 'slurm'")
        for line in self.job_directives:
            if not line.startswith("-") or "\n" in line:
                raise ValueError(f"job_directives: {line!r} is not an sbatch option (--x=y)")
        return self


class Campaign(_Model):
    """A validated campaign. Paths are absolute (resolved against the campaign file's folder)."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=100)
    seed: int = Field(ge=0)
    output: Path
    store: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite file")
    target: TargetConfig
    generator: GeneratorConfig
    budget: BudgetConfig
    predictors: list[str | ComponentEntry] = Field(
        default_factory=lambda: list(PREDICTOR_NAMES_DEFAULT)
    )
    objectives: list[ObjectiveConfig] = Field(min_length=1)
    filters: FiltersConfig = Field(default_factory=FiltersConfig)
    docking: DockingConfig = Field(default_factory=DockingConfig)
    scoring: ScoringConfig = Field(default_factory=ScoringConfig)
    runtime: RuntimeConfig = Field(default_factory=RuntimeConfig)
    cluster: ClusterConfig = Field(default_factory=ClusterConfig)

    @model_validator(mode="after")
    def _one_place_for_docking(self) -> Campaign:
        d = self.docking
        if self.cluster.kind != "local" and (d.dask_address or d.dask_local_workers):
            raise ValueError(
                "docking.dask_address / dask_local_workers and a [cluster] both say where "
                "docking runs: keep the [cluster]"
            )
        return self

    @property
    def store_url(self) -> str:
        return self.store or f"sqlite:///{self.output / 'molgen.sqlite'}"

    def section_hash(self, *sections: str) -> str:
        """SHA-256 of the named top-level sections, for stage manifests."""
        data = self.model_dump(mode="json")
        payload = {s: data[s] for s in sections}
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def config_hash(self) -> str:
        """SHA-256 of everything that affects results: all but the output folder, the store,
        the runtime settings (batch size), the cluster and where docking runs
        (:data:`DOCKING_PLACEMENT`).
        Files named in the campaign (seeds, prior, model files, receptor PDB) count by their
        content, not their path."""
        from molgen.artifacts.content import by_content

        data = self.model_dump(mode="json")
        for key in ("output", "store", "runtime", "cluster"):
            data.pop(key)
        data["docking"] = docking_results_data(data["docking"])
        text = json.dumps(by_content(data), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


DOCKING_PLACEMENT = frozenset({"workers", "dask_address", "dask_local_workers"})
"""Docking settings that decide where ligands are docked, not their results."""


def docking_results_data(docking: dict[str, Any]) -> dict[str, Any]:
    """The ``[docking]`` settings (as ``model_dump(mode="json")`` gives them) that change
    results: not where ligands are docked (:data:`DOCKING_PLACEMENT`), and not the surrogate's
    settings when the selection is by objectives (campaigns from before the surrogate keep their
    hashes)."""
    out = {k: v for k, v in docking.items() if k not in DOCKING_PLACEMENT}
    if out.get("selection") == "objectives":
        out.pop("selection")
        out.pop("surrogate", None)
    return out


def _format_error(path: Path, err: ValidationError) -> str:
    lines = [f"{path}: invalid campaign file"]
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"]) or "(top level)"
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown field"
        elif e["type"] == "missing":
            msg = "required field is missing"
        lines.append(f"  {loc}: {msg}" + (f" (got {e['input']!r})" if _show(e) else ""))
    return "\n".join(lines)


def _show(e: dict[str, Any]) -> bool:
    return e["type"] not in {"missing", "extra_forbidden"} and not isinstance(
        e.get("input"), dict | list
    )


def _resolve(data: dict[str, Any], base: Path) -> dict[str, Any]:
    """Resolve relative paths against the campaign file's folder: ``output``, ``target.pdb``,
    ``generator.seeds`` and ``generator.prior``, and every component parameter that
    :func:`_is_path_param` names."""
    out = dict(data)
    if isinstance(out.get("output"), str):
        out["output"] = str((base / out["output"]).resolve())
    target = out.get("target")
    if isinstance(target, dict) and isinstance(target.get("pdb"), str):
        out["target"] = {**target, "pdb": str((base / target["pdb"]).resolve())}
    generator = out.get("generator")
    if isinstance(generator, dict):
        generator = _resolve_paths(generator, base, extra=("seeds", "prior"))
        if isinstance(generator.get("params"), dict):
            generator["params"] = _resolve_paths(generator["params"], base)
        out["generator"] = generator
    if isinstance(out.get("predictors"), list):
        out["predictors"] = [_resolve_params(e, base) for e in out["predictors"]]
    filters = out.get("filters")
    if isinstance(filters, dict) and isinstance(filters.get("use"), list):
        out["filters"] = {**filters, "use": [_resolve_params(e, base) for e in filters["use"]]}
    return out


def _is_path_param(name: str) -> bool:
    """Parameters named ``path`` or ending in ``_path`` / ``_dir`` are file paths."""
    return name == "path" or name.endswith(("_path", "_dir"))


def _resolve_path(value: str, base: Path) -> str:
    """``value`` against ``base``; a shipped model's name stays a name unless a file of that
    name is there."""
    path = (base / value).resolve()
    if value in SHIPPED_MODELS and not path.exists():
        return value
    return str(path)


def _resolve_paths(params: dict[str, Any], base: Path, extra: tuple[str, ...] = ()) -> dict:
    return {
        k: _resolve_path(v, base) if isinstance(v, str) and (k in extra or _is_path_param(k)) else v
        for k, v in params.items()
    }


def _resolve_params(entry: Any, base: Path) -> Any:
    """A ``{kind, params}`` entry with its path parameters resolved; anything else as is."""
    if not isinstance(entry, dict) or not isinstance(entry.get("params"), dict):
        return entry
    return {**entry, "params": _resolve_paths(entry["params"], base)}


def load_campaign(path: str | Path) -> Campaign:
    """Read and validate a campaign file.

    Raises:
        CampaignError: the file is missing, is not UTF-8 (the message gives the byte offset),
            is not TOML, or fails validation; the message names the file, each failing field
            path and the reason.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise CampaignError(f"{path}: cannot read campaign file: {err.strerror}") from err
    body = raw.removeprefix(b"\xef\xbb\xbf")  # an editor's byte-order mark; TOML is UTF-8
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        offset = err.start + len(raw) - len(body)
        raise CampaignError(
            f"{path}: not valid UTF-8 at byte offset {offset} (byte 0x{raw[offset]:02x}); "
            "TOML files are UTF-8: save it as UTF-8"
        ) from err
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise CampaignError(f"{path}: not valid TOML: {err}") from err
    return validate_campaign(data, path)


def validate_campaign(data: dict[str, Any], path: Path) -> Campaign:
    """Validate an already-parsed campaign mapping that came from ``path``."""
    try:
        campaign = Campaign.model_validate(_resolve(data, path.parent.resolve()))
    except ValidationError as err:
        raise CampaignError(_format_error(path, err)) from err
    return campaign
