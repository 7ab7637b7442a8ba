"""Train a molgen graph model (a property predictor) as a Prefect flow.

Run it with ``molgen train-predictor DATA.csv --smiles-col S --target-col Y --out MODEL``, or
deploy ``flows/train_predictor.py:train_predictor_flow``. Writes ``MODEL`` (safetensors: weights,
spec and card) and a model card ``README.md`` beside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from molgen.prefect_env import configure_prefect_defaults

configure_prefect_defaults()

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.artifacts import create_markdown_artifact  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402

from molgen.artifacts.model_files import sha256  # noqa: E402
from molgen.predictors.gnn.card import write_card  # noqa: E402
from molgen.predictors.gnn.checkpoint import save_model  # noqa: E402
from molgen.predictors.gnn.dataset import read_table  # noqa: E402
from molgen.predictors.gnn.model import ModelSpec  # noqa: E402
from molgen.predictors.gnn.train import train_model  # noqa: E402


@task(name="read-data", cache_policy=NO_CACHE, persist_result=False)
def read_task(path: str, smiles_col: str, target_cols: list[str]) -> tuple[Any, ...]:
    return read_table(Path(path), smiles_col, target_cols)


@task(name="train", cache_policy=NO_CACHE, persist_result=False)
def train_task(smiles, y, spec, test, split, seed, epochs, patience) -> tuple[Any, dict]:  # noqa: ANN001
    logger = get_run_logger()

    def on_epoch(member: int, epoch: int, loss: float, rmse: float) -> None:
        if epoch % 10 == 0:
            logger.info(
                "member %d epoch %d: train loss %.4f, valid RMSE %.4f", member, epoch, loss, rmse
            )

    test_smiles, test_y = test if test else (None, None)
    return train_model(
        smiles,
        y,
        spec,
        split=split,
        test_smiles=test_smiles,
        test_y=test_y,
        seed=seed,
        epochs=epochs,
        patience=patience,
        on_epoch=on_epoch,
    )


@flow(name="molgen-train-predictor", persist_result=False)
def train_predictor_flow(
    data: str,
    smiles_col: str,
    target_cols: list[str],
    out: str,
    units: list[str] | None = None,
    test_data: str | None = None,
    split: str = "scaffold",
    members: int = 1,
    arch: str = "gine",
    hidden: int = 128,
    layers: int = 3,
    descriptors: bool = False,
    epochs: int = 300,
    patience: int = 40,
    seed: int = 0,
    title: str | None = None,
    source: str | None = None,
) -> dict[str, Any]:
    """Train, evaluate and save a graph model; returns the card (with ``sha256``)."""
    logger = get_run_logger()
    smiles, y, rejected = read_task(data, smiles_col, target_cols)
    for row, reason in rejected:
        logger.warning("%s row %d rejected: %s", data, row, reason)
    test = None
    if test_data:
        test_smiles, test_y, test_rejected = read_task(test_data, smiles_col, target_cols)
        for row, reason in test_rejected:
            logger.warning("%s row %d rejected: %s", test_data, row, reason)
        test = (test_smiles, test_y)
    spec = ModelSpec(
        tasks=tuple(target_cols),
        units=tuple(units or [""] * len(target_cols)),
        arch=arch,
        hidden=hidden,
        layers=layers,
        descriptors=descriptors,
        members=members,
    )
    model, card = train_task(smiles, y, spec, test, split, seed, epochs, patience)
    out_path = Path(out)
    card["file"] = out_path.name
    card["data"] = {
        "file": Path(data).name,
        "sha256": sha256(Path(data)),
        "rows": len(smiles) + len(rejected),
        "rejected": len(rejected),
        "source": source or "",
        **(
            {"test_file": Path(test_data).name, "test_sha256": sha256(Path(test_data))}
            if test_data
            else {}
        ),
    }
    sha = save_model(model, out_path, card)
    write_card(out_path.parent / "README.md", title or out_path.stem, spec, card, sha)
    card["sha256"] = sha
    summary = ", ".join(f"{t} test RMSE {m['rmse']:.3f}" for t, m in card["test"].items())
    logger.info("saved %s (sha256 %s): %s", out_path, sha[:12], summary)
    create_markdown_artifact(
        (out_path.parent / "README.md").read_text(), key="molgen-predictor-card"
    )
    return card
