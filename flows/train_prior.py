"""Train molgen's SELFIES prior as a Prefect flow (``molgen train-prior``).

Reads a seeded subset of the bundled MOSES training set (or a SMILES file), holds out a
validation slice, and trains the GRU prior epoch by epoch with a resumable checkpoint in
``<out>/work/``; the best epoch is written to ``<out>/prior.safetensors`` with its card, and a
model card ``<out>/README.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from molgen.prefect_env import configure_prefect_defaults

configure_prefect_defaults()

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402

from molgen.chem.smiles_file import read_smiles_entries  # noqa: E402
from molgen.generators.selfies_lm.card import write_prior_card  # noqa: E402
from molgen.generators.selfies_lm.train import (  # noqa: E402
    encode_all,
    load_init,
    moses_subset,
    resolve_precision,
    train_prior,
)


@task(name="read-molecules", cache_policy=NO_CACHE, persist_result=False)
def read_task(smiles_file: str | None, n: int, seed: int) -> list[str]:
    """The training SMILES: the file's (a line that is not UTF-8 is logged and left out), or
    ``n`` MOSES molecules drawn with ``seed``."""
    if not smiles_file:
        return moses_subset(n, seed)
    entries = read_smiles_entries(smiles_file)
    logger = get_run_logger()
    for entry in entries:
        if entry.error is not None:
            logger.warning("%s line %d rejected: %s", smiles_file, entry.line, entry.error)
    return [entry.smiles for entry in entries if entry.error is None]


@task(name="encode-selfies", cache_policy=NO_CACHE, persist_result=False)
def encode_task(smiles: list[str]) -> tuple[list[str], list[tuple[int, str]]]:
    return encode_all(smiles)


@task(name="train", cache_policy=NO_CACHE, persist_result=False)
def train_task(
    train: list[str],
    valid: list[str],
    spec_args: dict[str, int],
    out: str,
    epochs: int,
    batch_size: int,
    lr: float,
    lr_decay: float,
    seed: int,
    precision: str,
    init: str | None,
    card: dict[str, Any],
) -> dict[str, Any]:
    logger = get_run_logger()

    def on_epoch(epoch: int, train_nll: float, valid_nll: float, seconds: float) -> None:
        logger.info(
            "epoch %d: train NLL %.3f, valid NLL %.3f (%.0f s)",
            epoch,
            train_nll,
            valid_nll,
            seconds,
        )

    return train_prior(
        train,
        valid,
        spec_args,
        Path(out) / "work",
        Path(out) / "prior.safetensors",
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        lr_decay=lr_decay,
        seed=seed,
        precision=precision,
        init=Path(init) if init else None,
        card=card,
        on_epoch=on_epoch,
    )


@flow(name="molgen-train-prior", persist_result=False)
def train_prior_flow(
    out: str,
    n_molecules: int = 200_000,
    smiles_file: str | None = None,
    valid_fraction: float = 0.02,
    embedding: int | None = None,
    hidden: int | None = None,
    layers: int | None = None,
    epochs: int = 5,
    batch_size: int = 256,
    lr: float = 1e-3,
    lr_decay: float = 1.0,
    seed: int = 0,
    precision: str = "auto",
    init: str | None = None,
) -> dict[str, Any]:
    """Train the prior; returns the card of its best epoch.

    ``embedding``, ``hidden`` and ``layers`` default to 128, 256 and 2, or to those of the
    ``init`` prior that training continues from.
    """
    logger = get_run_logger()
    given = {"embedding": embedding, "hidden": hidden, "layers": layers}
    fresh = {"embedding": 128, "hidden": 256, "layers": 2}
    if init:
        spec_args = {k: v for k, v in given.items() if v is not None}
    else:
        spec_args = {k: fresh[k] if v is None else v for k, v in given.items()}
    # wrong options fail before minutes of reading and encoding molecules
    resolve_precision(precision, "cpu")
    if init:
        load_init(Path(init), spec_args)
    smiles = read_task(smiles_file, n_molecules, seed)
    selfies, rejected = encode_task(smiles)
    for i, reason in rejected:
        logger.warning("molecule %d rejected: %s", i, reason)
    n_valid = max(1, int(len(selfies) * valid_fraction))
    valid, train = selfies[:n_valid], selfies[n_valid:]
    if smiles_file:
        source = smiles_file
    elif n_molecules <= 0 or len(smiles) <= n_molecules:
        source = f"MOSES train.csv.gz, all {len(smiles)} molecules in file order"
    else:
        source = f"MOSES train.csv.gz, {len(smiles)} drawn with default_rng({seed})"
    card = {"data": source, "rejected": len(rejected), "valid_fraction": valid_fraction}
    result = train_task(
        train, valid, spec_args, out, epochs, batch_size, lr, lr_decay, seed, precision, init, card
    )
    write_prior_card(Path(out))
    return result
