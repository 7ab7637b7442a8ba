"""The stages of a campaign round, each checkpointed under ``<output>/round-<k>/<stage>/``.

Every stage function takes typed arguments and returns a :class:`StageOutput`. Stage tables keep
rejected rows beside accepted ones, with the reason in the ``reason`` column (null when
accepted), so a stage's table is the complete record of what it did.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from molgen import stop
from molgen.artifacts import StageCheckpoint, hash_json, run_batched
from molgen.chem import mol_from_prepared, prepare_smiles
from molgen.chem.smiles_file import SmilesEntry, read_smiles_entries
from molgen.filters import Filter
from molgen.generators import Generator
from molgen.pipeline.keys import DOCKING_SCORE, stage_versions
from molgen.pipeline.remote import sampling_device
from molgen.predictors import Predictor
from molgen.scoring import Objective, score_table
from molgen.scoring.objectives import Bound
from molgen.types import PreparedMolecule, StageReport

PREDICTED = "docking_score_predicted"
UNCERTAINTY = "docking_score_uncertainty"

log = logging.getLogger("molgen.pipeline")


@dataclass
class StageOutput:
    """A stage's complete table, the hash recorded in its manifest, and its report."""

    table: pd.DataFrame
    output_hash: str
    report: StageReport

    def accepted(self) -> pd.DataFrame:
        """Rows with no rejection reason."""
        if "reason" not in self.table.columns:
            return self.table
        return self.table[self.table["reason"].isna()].reset_index(drop=True)


def stage_folder(output: Path, round_: int, stage: str) -> Path:
    return Path(output) / f"round-{round_}" / stage


def run_stage(
    folder: Path,
    round_: int,
    stage: str,
    key: tuple[str, str, Mapping[str, str]],
    rows_in: int,
    compute: Callable[[StageCheckpoint], tuple[pd.DataFrame, int, dict[str, Any]]],
) -> StageOutput:
    """Skip a stage whose checkpoint matches, else compute it (resuming finished batches)."""
    ckpt = StageCheckpoint(folder, *key)
    t0 = time.perf_counter()
    if ckpt.is_complete():
        table = ckpt.read()
        bad = _n_rejected(table)
        report = StageReport(
            round_, stage, "skipped", rows_in, len(table) - bad, 0.0, rows_rejected=bad
        )
        log.info("round %d %s: skipped (checkpoint matches, %d rows)", round_, stage, len(table))
        return StageOutput(table, ckpt.output_hash(), report)
    stop.check(f"round-{round_}/{stage}")
    ckpt.start()
    table, reused, extra = compute(ckpt)
    out_hash = ckpt.finish(table, extra)
    status = "resumed" if reused else "ran"
    seconds = time.perf_counter() - t0
    bad = _n_rejected(table)
    report = StageReport(
        round_, stage, status, rows_in, len(table) - bad, seconds, rows_rejected=bad, extra=extra
    )
    log.info(
        "round %d %s: %s%s, %d rows in %.1f s",
        round_,
        stage,
        status,
        f" ({reused} batches reused)" if reused else "",
        len(table),
        seconds,
    )
    return StageOutput(table, out_hash, report)


def _n_rejected(table: pd.DataFrame) -> int:
    return int(table["reason"].notna().sum()) if "reason" in table.columns else 0


def _progress(total: int, desc: str) -> tqdm:
    return tqdm(total=total, desc=desc, unit="mol", leave=False, disable=None)


def _prepare_rows(items: Sequence[str]) -> pd.DataFrame:
    rows = []
    for smi in items:
        r = prepare_smiles(smi)
        if isinstance(r, PreparedMolecule):
            rows.append((smi, r.smiles, r.inchikey, r.changed or None, None))
        else:
            rows.append((smi, None, None, None, r.reason))
    # standardized: what standardization changed in an accepted input (molgen.chem.policy)
    return pd.DataFrame(rows, columns=["source", "smiles", "inchikey", "standardized", "reason"])


def _seed_rows(entries: Sequence[SmilesEntry]) -> pd.DataFrame:
    # a line that could not be decoded is not parsed: its decoding error is its reason
    table = _prepare_rows(["" if e.error else e.smiles for e in entries])
    table["source"] = [e.smiles for e in entries]
    table["reason"] = [e.error or r for e, r in zip(entries, table["reason"], strict=True)]
    table.insert(0, "line", [e.line for e in entries])
    return table


def seeds_stage(output: Path, seeds_file: Path, seeds_hash: str, batch_size: int) -> StageOutput:
    """Standardize the generator's seed molecules (round 0); bad lines are rejected.

    The file is read by the rule of :mod:`molgen.chem.smiles_file` (first field of each line;
    blank lines, ``#`` comments and a ``smiles`` header are not molecules); the table keeps each
    molecule's line number (``line``) beside what was written there (``source``). A line that
    is not valid UTF-8 is rejected with that reason, and the other lines are read.
    """
    entries = read_smiles_entries(seeds_file)

    def compute(ckpt: StageCheckpoint) -> tuple[pd.DataFrame, int, dict[str, Any]]:
        table, reused = run_batched(ckpt, entries, batch_size, _seed_rows)
        return table, reused, {"source_file": str(seeds_file)}

    key = (seeds_hash, "", stage_versions("seeds"))
    return run_stage(stage_folder(output, 0, "seeds"), 0, "seeds", key, len(entries), compute)


def generate_stage(
    output: Path,
    round_: int,
    generator: Generator,
    n: int,
    seed: int,
    input_hash: str,
    config_hash: str,
) -> StageOutput:
    """Ask the generator (already holding the previous round's state) for ``n`` molecules.

    The stage's key names the generator's sampling device when it is not the CPU
    (:func:`molgen.pipeline.remote.sampling_device`): a campaign moved between a GPU and the
    CPU generates its round again instead of failing the update stage's replay check."""

    def compute(_ckpt: StageCheckpoint) -> tuple[pd.DataFrame, int, dict[str, Any]]:
        smiles = generator.generate(n, seed)
        return pd.DataFrame({"smiles": smiles}), 0, {"seed": seed}

    versions = stage_versions("generate", {"generator": f"{generator.name}-{generator.version}"})
    device = sampling_device(generator)
    if device != "cpu":  # another device draws other molecules from the same seed
        versions["device"] = device
    key = (hash_json([input_hash, seed]), config_hash, versions)
    folder = stage_folder(output, round_, "generate")
    return run_stage(folder, round_, "generate", key, n, compute)


def prepare_stage(
    output: Path,
    round_: int,
    generated: StageOutput,
    seen: Sequence[str],
    batch_size: int,
) -> StageOutput:
    """Standardize, reject invalid molecules, and drop repeats (in-round and of earlier rounds).

    Repeats are not rejections: they are dropped and counted in the manifest
    (``duplicates``).
    """
    smiles = generated.table["smiles"].tolist()
    seen_keys = sorted(seen)

    def compute(ckpt: StageCheckpoint) -> tuple[pd.DataFrame, int, dict[str, Any]]:
        table, reused = run_batched(ckpt, smiles, batch_size, _prepare_rows)
        earlier = set(seen_keys)
        repeat = table["inchikey"].notna() & (
            table["inchikey"].duplicated(keep="first") | table["inchikey"].isin(earlier)
        )
        kept = table[~repeat].reset_index(drop=True)
        return kept, reused, {"duplicates": int(repeat.sum())}

    key = (hash_json([generated.output_hash, seen_keys]), "", stage_versions("prepare"))
    folder = stage_folder(output, round_, "prepare")
    return run_stage(folder, round_, "prepare", key, len(smiles), compute)


class PredictorFailure(RuntimeError):
    """A predictor failed in a way that is not a molecule's fault; the stage stops."""


_SYSTEM_ERRORS = ("OutOfMemoryError", "AcceleratorError")


def _not_the_molecule(err: BaseException) -> bool:
    """Whether ``err`` says nothing about a molecule: files, memory, the GPU."""
    if isinstance(err, OSError | MemoryError):
        return True
    text = str(err)
    return type(err).__name__ in _SYSTEM_ERRORS or "CUDA error" in text or "out of memory" in text


def _why(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}"


def _predict_one(predictor: Predictor, mols: Sequence[Any]) -> tuple[np.ndarray, list[str | None]]:
    """Predict a batch; if the batch fails, predict molecules one by one to isolate failures.

    Raises:
        PredictorFailure: the failure is not a molecule's: an ``OSError`` (a missing weights
            file), ``MemoryError`` or CUDA error, or every molecule of a batch of several
            failing with the same error. A molecule-specific failure is returned as that
            molecule's rejection reason instead.
    """
    k = len(predictor.outputs)
    try:
        values = np.asarray(predictor.predict(mols), dtype=float)
        reasons: list[str | None] = [None] * len(mols)
    except Exception as err:  # a plug-in may raise anything: isolate the molecule(s) that fail
        if _not_the_molecule(err):
            raise PredictorFailure(
                f"predictor {predictor.name!r} failed on a batch of {len(mols)}: {_why(err)}"
            ) from err
        values = np.full((len(mols), k), np.nan)
        reasons = [None] * len(mols)
        errors: list[BaseException] = []
        for i, mol in enumerate(mols):
            try:
                values[i] = np.asarray(predictor.predict([mol]), dtype=float).reshape(k)
            except Exception as one:  # recorded as this molecule's rejection reason
                if _not_the_molecule(one):
                    raise PredictorFailure(
                        f"predictor {predictor.name!r} failed: {_why(one)}"
                    ) from one
                errors.append(one)
                reasons[i] = f"predictor {predictor.name} failed: {_why(one)}"
        if len(mols) > 1 and len(errors) == len(mols) and len({_why(e) for e in errors}) == 1:
            raise PredictorFailure(
                f"predictor {predictor.name!r} failed the same way on every molecule of a batch "
                f"of {len(mols)}: {_why(errors[0])}"
            ) from errors[0]
    if values.shape != (len(mols), k):
        raise ValueError(
            f"predictor {predictor.name!r} returned shape {values.shape}, expected {(len(mols), k)}"
        )
    return values, reasons


def predict_rows(predictors: Sequence[Predictor], items: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """One batch of the predict stage: ``(inchikey, smiles)`` items with every predictor's
    values and each molecule's rejection reason (see :func:`_predict_one`)."""
    columns = [spec.name for p in predictors for spec in p.outputs]
    mols = [mol_from_prepared(smi) for _, smi in items]
    blocks, reasons = [], [None] * len(items)
    for p in predictors:
        values, why = _predict_one(p, mols)
        blocks.append(values)
        reasons = [r or w for r, w in zip(reasons, why, strict=True)]
    values = np.hstack(blocks) if blocks else np.zeros((len(items), 0))
    df = pd.DataFrame(values, columns=columns)
    df.insert(0, "smiles", [smi for _, smi in items])
    df.insert(0, "inchikey", [k for k, _ in items])
    df["reason"] = pd.Series(reasons, dtype=object)
    return df


def predict_on_worker(
    specs: list[dict[str, Any]], items: Sequence[tuple[str, str]]
) -> pd.DataFrame:
    """:func:`predict_rows` on a cluster worker, with the predictors of ``specs`` (the
    campaign's, as ``component_params`` gives them) built once per worker process."""
    from molgen.cluster import worker_cache
    from molgen.pipeline.components import predictors_from_specs

    predictors = worker_cache(
        f"predictors:{hash_json(specs)}", lambda: predictors_from_specs(specs)
    )
    return predict_rows(predictors, items)


@dataclass(frozen=True)
class RemotePredict:
    """Where the predict stage's batches run instead of this process.

    Attributes:
        placement: the flow run's cluster.
        specs: the campaign's predictors as ``component_params(campaign)["predictors"]``.
        gpu: send the batches to GPU workers (a predictor of the campaign uses a GPU).
    """

    placement: Any
    specs: list[dict[str, Any]]
    gpu: bool


def predict_stage(
    output: Path,
    round_: int,
    prepared: StageOutput,
    predictors: Sequence[Predictor],
    batch_size: int,
    config_hash: str,
    remote: RemotePredict | None = None,
) -> StageOutput:
    """Run every predictor on the prepared molecules, in checkpointed batches; on the
    cluster's workers when ``remote`` is given (each batch saved as it comes back).

    A molecule a predictor fails on is rejected with the reason and the rest go on; a failure
    that is not the molecule's (see :func:`_predict_one`) stops the stage with
    :class:`PredictorFailure`, keeping the batches already finished.
    """
    rows = prepared.accepted()[["inchikey", "smiles"]].to_records(index=False).tolist()
    bar = _progress(len(rows), f"round {round_} predict")

    def batch(items: Sequence[tuple[str, str]]) -> pd.DataFrame:
        return predict_rows(predictors, items)

    submit = None
    if remote is not None:

        def submit(batches: list[Sequence[tuple[str, str]]]) -> Any:
            calls = [(remote.specs, list(b)) for b in batches]
            return remote.placement.map(predict_on_worker, calls, gpu=remote.gpu)

    def compute(ckpt: StageCheckpoint) -> tuple[pd.DataFrame, int, dict[str, Any]]:
        with bar:
            table, reused = run_batched(ckpt, rows, batch_size, batch, bar.update, submit)
        if table.empty:
            table = batch([])
        return table, reused, {}

    versions = stage_versions("predict", {p.name: p.version for p in predictors})
    key = (prepared.output_hash, config_hash, versions)
    folder = stage_folder(output, round_, "predict")
    return run_stage(folder, round_, "predict", key, len(rows), compute)


def filter_stage(
    output: Path,
    round_: int,
    predicted: StageOutput,
    filters: Sequence[Filter],
    objectives: Sequence[Objective | Bound],
    batch_size: int,
    config_hash: str,
) -> StageOutput:
    """Apply structural alerts, rule sets and hard bounds (objectives' and filters.bounds)."""
    table = predicted.accepted()
    records = table.to_dict("records")
    bar = _progress(len(records), f"round {round_} filter")

    def batch(items: Sequence[dict[str, Any]]) -> pd.DataFrame:
        mols = [mol_from_prepared(r["smiles"]) for r in items]
        reasons: list[list[str]] = [[] for _ in items]
        by: list[list[str]] = [[] for _ in items]  # the filters that refused each molecule
        for f in filters:
            for i, why in enumerate(f.check(mols)):
                if why:
                    reasons[i].append(why)
                    by[i].append(f.name)
        for i, r in enumerate(items):
            for o in objectives:
                why = o.violation(float(r[o.value]))
                if why:
                    reasons[i].append(f"bound: {why}")
                    if "bounds" not in by[i]:
                        by[i].append("bounds")
        df = pd.DataFrame(list(items), columns=table.columns)
        df["reason"] = pd.Series(["; ".join(r) if r else None for r in reasons], dtype=object)
        df["rejected_by"] = pd.Series([",".join(b) if b else None for b in by], dtype=object)
        return df

    def compute(ckpt: StageCheckpoint) -> tuple[pd.DataFrame, int, dict[str, Any]]:
        with bar:
            out, reused = run_batched(ckpt, records, batch_size, batch, bar.update)
        if out.empty:
            out = batch([])
        return out, reused, {"rejected": int(out["reason"].notna().sum())}

    versions = stage_versions("filter", {f.name: f.version for f in filters})
    key = (predicted.output_hash, config_hash, versions)
    return run_stage(
        stage_folder(output, round_, "filter"), round_, "filter", key, len(records), compute
    )


def dock_stage(
    output: Path,
    round_: int,
    filtered: StageOutput,
    n_dock: int,
    pre_objectives: Sequence[Objective],
    docking_objectives: Sequence[Objective],
    aggregation: str,
    dock: Callable[[list[tuple[str, str]]], list[dict[str, Any]]],
    docking_key: str,
    config_hash: str,
    selection: StageOutput | None = None,
) -> StageOutput:
    """Dock the ``n_dock`` best filtered molecules by pre-docking score, or the molecules the
    surrogate stage picked (``selection``, :mod:`molgen.pipeline.selection`), whose
    predicted docking scores then come along as ``docking_score_predicted`` and
    ``docking_score_uncertainty`` (never as ``docking_score``).

    Args:
        dock: docks ``(inchikey, smiles)`` pairs through the store's cache (see
            :func:`molgen.docking.cached.dock_with_cache`), returning one row per ligand.
        docking_key: hash of the receptor, the engine (name, program, version) and the
            settings: an input of the stage, beside the filtered molecules.
        config_hash: hash of the settings that decide the stage's output
            (:func:`molgen.pipeline.keys.stage_configs`: the selection objectives and
            aggregation, ``dock_per_round``, the docking objectives' bounds, the settings).

    Molecules not chosen keep a NaN ``docking_score``; molecules whose docking failed, or whose
    score breaks a docking objective's bound, are rejected with the reason. A killed stage
    re-runs, and the cache makes it dock only the ligands that had not finished.
    """
    table = filtered.accepted()

    def compute(_ckpt: StageCheckpoint) -> tuple[pd.DataFrame, int, dict[str, Any]]:
        if selection is not None:
            from molgen.pipeline.selection import picked

            chosen = picked(selection)
        else:
            if pre_objectives and len(table):
                pre = score_table(table, pre_objectives, aggregation)["score"].to_numpy()
            else:
                pre = np.zeros(len(table))
            order = sorted(range(len(table)), key=lambda i: (-pre[i], table["inchikey"].iloc[i]))
            chosen = [(table["inchikey"].iloc[i], table["smiles"].iloc[i]) for i in order[:n_dock]]
        try:
            results = {r["inchikey"]: r for r in dock(chosen)}
        except stop.StopRequested as err:  # name the round: the docked ligands are cached
            raise stop.StopRequested(f"round-{round_}/dock", err.signum) from None
        out = table.copy()
        out["docking_score"] = [
            results[k]["docking_score"] if k in results else np.nan for k in out["inchikey"]
        ]
        out["docked"] = out["inchikey"].isin(list(results))
        if selection is not None:
            predicted = selection.table.set_index("inchikey")
            for column in (PREDICTED, UNCERTAINTY):
                out[column] = out["inchikey"].map(predicted[column]).astype(float)
        reasons = []
        for key, score in zip(out["inchikey"], out["docking_score"], strict=True):
            why = results[key]["reason"] if key in results else None
            if why is None and key in results:
                why = next((v for o in docking_objectives if (v := o.violation(score))), None)
                why = f"bound: {why}" if why else None
            reasons.append(why)
        out["reason"] = pd.Series(reasons, dtype=object)
        cached = sum(r["cached"] for r in results.values())
        return out, 0, {"docked": len(results), "cached": cached}

    inputs = [filtered.output_hash, docking_key]
    inputs += [selection.output_hash] if selection is not None else []
    key = (hash_json(inputs), config_hash, stage_versions("dock"))
    folder = stage_folder(output, round_, "dock")
    return run_stage(folder, round_, "dock", key, len(table), compute)


def score_stage(
    output: Path,
    round_: int,
    filtered: StageOutput,
    objectives: Sequence[Objective],
    aggregation: str,
    config_hash: str,
    feedback: bool = False,
) -> StageOutput:
    """Desirabilities, aggregate score and in-round Pareto rank, sorted best first.

    With ``feedback`` and a surrogate's predictions in the table, ``feedback_score`` is the
    score with each undocked molecule's predicted docking score in place of the missing one:
    what the generator learns from. ``score``, which ranks candidates, uses docking results
    only."""
    table = filtered.accepted().drop(columns=["reason"], errors="ignore")

    def compute(_ckpt: StageCheckpoint) -> tuple[pd.DataFrame, int, dict[str, Any]]:
        scores = score_table(table, objectives, aggregation)
        out = pd.concat([table, scores], axis=1)
        if feedback and PREDICTED in table.columns:
            filled = table.assign(**{DOCKING_SCORE: table[DOCKING_SCORE].fillna(table[PREDICTED])})
            out["feedback_score"] = score_table(filled, objectives, aggregation)["score"]
        out = out.sort_values(["score", "inchikey"], ascending=[False, True], kind="stable")
        return out.reset_index(drop=True), 0, {}

    key = (filtered.output_hash, config_hash, stage_versions("score"))
    folder = stage_folder(output, round_, "score")
    return run_stage(folder, round_, "score", key, len(table), compute)
