"""Commands for models: `train-predictor`, `predict`, `train-prior`, `sample`, `finetune`."""

from __future__ import annotations

import csv
import math
import sys
from collections import deque
from pathlib import Path
from typing import Annotated

import typer

from molgen.chem import prepare_smiles
from molgen.chem.smiles_file import iter_smiles_entries, read_smiles_entries
from molgen.cli.common import configure_logging, console, err_console, fail
from molgen.resources import SHIPPED_MODELS, UnknownModelError, model_file
from molgen.types import Rejection


def train_predictor(
    data: Annotated[Path, typer.Argument(help="CSV (or SDF) file of molecules and values")],
    smiles_col: Annotated[str, typer.Option(help="column of SMILES ('mol' in an SDF)")],
    target_col: Annotated[list[str], typer.Option(help="column of values; repeat for tasks")],
    out: Annotated[Path, typer.Option(help="model file to write (.safetensors)")],
    unit: Annotated[list[str] | None, typer.Option(help="unit of each target column")] = None,
    test_data: Annotated[
        Path | None, typer.Option(help="a separate test set (then data is split train/valid)")
    ] = None,
    split: Annotated[str, typer.Option(help="scaffold, scaffold_balanced or random")] = "scaffold",
    members: Annotated[int, typer.Option(min=1, help="ensemble size")] = 1,
    arch: Annotated[str, typer.Option(help="gine or attentivefp")] = "gine",
    hidden: Annotated[int, typer.Option(min=8)] = 128,
    layers: Annotated[int, typer.Option(min=1, help="message-passing layers")] = 3,
    descriptors: Annotated[bool, typer.Option(help="join RDKit descriptors")] = False,
    epochs: Annotated[int, typer.Option(min=1)] = 300,
    patience: Annotated[int, typer.Option(min=1)] = 40,
    seed: Annotated[int, typer.Option(min=0)] = 0,
    title: Annotated[str | None, typer.Option(help="model card title")] = None,
    source: Annotated[str | None, typer.Option(help="where the data comes from (card)")] = None,
) -> None:
    """Train a graph-network property predictor (Prefect flow) and write it with its card."""
    configure_logging()
    if unit and len(unit) != len(target_col):
        raise fail(f"--unit given {len(unit)} times for {len(target_col)} --target-col")
    if arch not in ("gine", "attentivefp"):
        raise fail(f"--arch must be gine or attentivefp, not {arch!r}")
    if split not in ("scaffold", "scaffold_balanced", "random"):
        raise fail(f"--split must be scaffold, scaffold_balanced or random, not {split!r}")
    from flows.train_predictor import train_predictor_flow

    try:
        card = train_predictor_flow(
            data=str(data),
            smiles_col=smiles_col,
            target_cols=list(target_col),
            out=str(out),
            units=list(unit) if unit else None,
            test_data=str(test_data) if test_data else None,
            split=split,
            members=members,
            arch=arch,
            hidden=hidden,
            layers=layers,
            descriptors=descriptors,
            epochs=epochs,
            patience=patience,
            seed=seed,
            title=title,
            source=source,
        )
    except ValueError as err:
        raise fail(str(err)) from err
    for task, m in card["test"].items():
        console.print(f"{task}: test RMSE {m['rmse']:.3f}, MAE {m['mae']:.3f}, R² {m['r2']:.3f}")
    console.print(f"wrote {out} (sha256 {card['sha256']}) and {out.parent / 'README.md'}")


def predict(
    model: Annotated[
        str,
        typer.Argument(help="molgen model file (.safetensors) or a shipped model's name"),
    ],
    smiles_file: Annotated[
        Path, typer.Argument(help="SMILES file: first field of each line, # comments ('-': stdin)")
    ],
    out: Annotated[Path | None, typer.Option(help="CSV to write (default stdout)")] = None,
    batch_size: Annotated[int, typer.Option(min=1)] = 1024,
    workers: Annotated[int | None, typer.Option(help="featurizing processes")] = None,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda")] = "auto",
) -> None:
    """Predict with a graph model, streaming: any number of molecules in bounded memory."""
    from molgen.predictors.gnn.checkpoint import ModelFileError
    from molgen.predictors.gnn.predictor import GraphModelPredictor

    try:
        path = model_file(model, "predictor")
        predictor = GraphModelPredictor(path=str(path), batch_size=batch_size, device=device)
    except (ModelFileError, ValueError) as err:  # UnknownModelError included
        raise fail(str(err)) from err
    if str(smiles_file) != "-" and not smiles_file.is_file():
        raise fail(f"{smiles_file}: no such file")
    # read as bytes, decoded line by line: a line that is not UTF-8 is that line's rejection;
    # every molecule goes through molgen's input policy, and the standardized parent is scored
    source = sys.stdin.buffer if str(smiles_file) == "-" else smiles_file.open("rb")
    sink = out.open("w", newline="") if out else sys.stdout
    # read, not yet written, in input order: (what was written, standardized, why refused)
    pending: deque[tuple[str, str, str]] = deque()

    def feed():  # noqa: ANN202
        for entry in iter_smiles_entries(source):
            if entry.error is not None:
                pending.append((entry.smiles, "", f"line {entry.line}: {entry.error}"))
                continue
            prepared = prepare_smiles(entry.smiles)
            if isinstance(prepared, Rejection):
                pending.append((entry.smiles, "", prepared.reason))
                continue
            pending.append((entry.smiles, prepared.changed, ""))
            yield prepared.smiles

    writer = csv.writer(sink, lineterminator="\n")
    writer.writerow(["smiles", *(o.name for o in predictor.outputs), "standardized", "rejected"])
    blank = [""] * len(predictor.outputs)

    def write_refused() -> int:
        """Write the inputs at the head of ``pending`` that were refused before predicting."""
        count = 0
        while pending and pending[0][2]:
            smi, _, why = pending.popleft()
            writer.writerow([smi, *blank, "", why])
            count += 1
        return count

    rejected = 0
    for values, reasons in predictor.predict_smiles(feed(), workers=workers):
        why = dict(reasons)
        for i, row in enumerate(values):
            rejected += write_refused()
            smi, changed, _ = pending.popleft()
            writer.writerow(
                [
                    smi,
                    *("" if math.isnan(v) else f"{v:.6g}" for v in row),
                    changed,
                    why.get(i, ""),
                ]
            )
        rejected += len(reasons)
    rejected += write_refused()
    if out:
        sink.close()
        err_console.print(f"wrote {out}; {rejected} molecules rejected")


def train_prior(
    out: Annotated[Path, typer.Option(help="folder for prior.safetensors, README.md, work/")],
    n_molecules: Annotated[int, typer.Option(help="MOSES training molecules (0 = all)")] = 200_000,
    smiles_file: Annotated[Path | None, typer.Option(help="train on this file instead")] = None,
    hidden: Annotated[int | None, typer.Option(min=16, help="GRU width [default: 256]")] = None,
    layers: Annotated[int | None, typer.Option(min=1, help="GRU layers [default: 2]")] = None,
    init: Annotated[
        str | None,
        typer.Option(help="continue training this prior, a file or a name (keeps its spec)"),
    ] = None,
    epochs: Annotated[int, typer.Option(min=1)] = 5,
    batch_size: Annotated[int, typer.Option(min=1)] = 256,
    learning_rate: Annotated[float, typer.Option(min=1e-7)] = 1e-3,
    lr_decay: Annotated[
        float, typer.Option(min=0.01, max=1.0, help="learning rate factor per epoch")
    ] = 1.0,
    precision: Annotated[
        str, typer.Option(help="auto (bf16 where the hardware has it), bf16 or fp32")
    ] = "auto",
    seed: Annotated[int, typer.Option(min=0)] = 0,
) -> None:
    """Train the SELFIES prior (Prefect flow); re-run the same command to resume."""
    configure_logging()
    from flows.train_prior import train_prior_flow

    try:
        init_file = model_file(init, "prior") if init else None
        card = train_prior_flow(
            out=str(out),
            n_molecules=n_molecules,
            smiles_file=str(smiles_file) if smiles_file else None,
            hidden=hidden,
            layers=layers,
            epochs=epochs,
            batch_size=batch_size,
            lr=learning_rate,
            lr_decay=lr_decay,
            seed=seed,
            precision=precision,
            init=str(init_file) if init_file else None,
        )
    except ValueError as err:  # ModelFileError and UnknownModelError included
        raise fail(str(err)) from err
    console.print(f"best epoch {card['epoch']}: validation NLL {card['valid_nll']:.3f}")


def sample(
    n: Annotated[int, typer.Option(min=1, help="molecules to write")],
    out: Annotated[Path, typer.Option(help="SMILES file to write, one per line")],
    prior: Annotated[str, typer.Option(help="prior file or a shipped prior's name")] = (
        "selfies-prior"
    ),
    seed: Annotated[int, typer.Option(min=0)] = 0,
    temperature: Annotated[float, typer.Option(min=0.05)] = 1.0,
    batch_size: Annotated[int, typer.Option(min=1)] = 1024,
    unique: Annotated[bool, typer.Option(help="write each molecule once")] = True,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda")] = "auto",
) -> None:
    """Sample molecules from a SELFIES prior, streaming to a file."""
    import torch

    from molgen.artifacts.model_files import ModelFileError
    from molgen.generators.selfies_lm.model import load_prior
    from molgen.generators.selfies_lm.sampler import SampleStats, sample_smiles

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        model, vocab, _ = load_prior(model_file(prior, "prior"), device)
    except (ModelFileError, UnknownModelError) as err:
        raise fail(str(err)) from err
    stats = SampleStats()
    written = 0
    with out.open("w") as fh:
        for smi in sample_smiles(model, vocab, n, seed, batch_size, temperature, unique, stats):
            fh.write(smi + "\n")
            written += 1
    err_console.print(
        f"wrote {written} molecules to {out} ({stats.drawn} drawn, {stats.invalid} invalid, "
        f"{stats.duplicates} duplicates)"
    )


def finetune(
    actives: Annotated[Path, typer.Argument(help="SMILES file: first field of each line")],
    out: Annotated[Path, typer.Option(help="fine-tuned prior to write (.safetensors)")],
    prior: Annotated[
        str, typer.Option(help="prior file or a shipped prior's name, to start from")
    ] = "selfies-prior",
    epochs: Annotated[int, typer.Option(min=1)] = 10,
    learning_rate: Annotated[float, typer.Option(min=1e-7)] = 1e-4,
    seed: Annotated[int, typer.Option(min=0)] = 0,
) -> None:
    """Transfer learning: fine-tune a SELFIES prior on your actives before RL."""
    from molgen.artifacts.model_files import ModelFileError
    from molgen.generators.selfies_lm.train import finetune_prior

    if not actives.is_file():
        raise fail(f"{actives}: no such file")
    entries = read_smiles_entries(actives)
    reasons = [(e.line, e.error) for e in entries if e.error is not None]
    readable, parents = [], []  # molgen's input policy first; the parents are trained on
    for e in entries:
        if e.error is None:
            prepared = prepare_smiles(e.smiles)
            if isinstance(prepared, Rejection):
                reasons.append((e.line, prepared.reason))
            else:
                readable.append(e)
                parents.append(prepared.smiles)
    try:
        card, rejected = finetune_prior(
            model_file(prior, "prior"),
            parents,
            out,
            epochs=epochs,
            lr=learning_rate,
            seed=seed,
        )
    except (ModelFileError, ValueError) as err:
        raise fail(f"{actives}: {err}") from err
    reasons += [(readable[i].line, reason) for i, reason in rejected]
    for line, reason in sorted(reasons):
        err_console.print(f"{actives} line {line} rejected: {reason}")
    last = card["history"][-1]["train_nll"]
    console.print(
        f"wrote {out}: {card['finetune']['n']} molecules, {epochs} epochs, final NLL {last:.2f}; "
        f'use it with [generator] kind = "selfies_rl", prior = "{out}"'
    )


def models() -> None:
    """List the models shipped with molgen: give their names wherever a model is asked for."""
    from rich.table import Table

    table = Table("name", "kind", "what", title="shipped models")
    for m in SHIPPED_MODELS.values():
        table.add_row(m.name, m.kind, m.what)
    console.print(table)
    for m in SHIPPED_MODELS.values():
        console.print(f"{m.name}: {m.path} (model card: {m.card.name} beside it)")


def register(app: typer.Typer) -> None:
    app.command("models")(models)
    app.command("finetune")(finetune)
    app.command("train-predictor")(train_predictor)
    app.command("predict")(predict)
    app.command("train-prior")(train_prior)
    app.command("sample")(sample)
