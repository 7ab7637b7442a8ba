"""The model card of a SELFIES prior: ``README.md`` beside ``prior.safetensors``."""

from __future__ import annotations

import json
from pathlib import Path

from molgen.artifacts.model_files import sha256
from molgen.generators.selfies_lm.model import load_prior


def write_prior_card(folder: Path, metrics: dict | None = None) -> None:
    """Write ``folder/README.md`` from ``folder/prior.safetensors`` (and sampling metrics)."""
    path = Path(folder) / "prior.safetensors"
    model, vocab, card = load_prior(path)
    spec = model.spec
    params = sum(p.numel() for p in model.parameters())
    lines = [
        "# selfies-prior: molgen's SELFIES language model",
        "",
        f"- File: `prior.safetensors`, sha256 `{sha256(path)}`",
        f"- Model: GRU, {spec.layers} layers x {spec.hidden}, embedding {spec.embedding}, "
        f"{params:,} parameters; vocabulary {len(vocab)} SELFIES tokens; at most "
        f"{spec.max_length} tokens per sample",
        f"- Data: {card.get('data')} ({card.get('n_train')} train, {card.get('n_valid')} "
        f"validation, {card.get('rejected', 0)} rejected); licence MIT (MOSES)",
        f"- Training: Adam lr {card.get('lr')} (x {card.get('lr_decay', 1.0)} per epoch), "
        f"batch {card.get('batch_size')}, {card.get('precision', 'fp32')}, seed "
        f"{card.get('seed')}; best epoch {card.get('epoch')} (validation NLL "
        f"{card.get('valid_nll', float('nan')):.3f} nats per molecule)",
        f"- Hardware: {card.get('hardware')}, torch {card.get('torch')}",
    ]
    runs = _runs(card)
    if len(runs) > 1:
        lines.append(
            f"- Continued training: {len(runs)} runs, each starting from the best epoch of the "
            f"one before ({card.get('left_out', 0)} molecules left out of the last run for "
            "tokens or lengths the prior lacks)"
        )
    lines += [
        "",
        "## Epochs",
        "",
        "| run | epoch | train NLL | validation NLL | seconds |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {k} | {h['epoch']} | {h['train_nll']:.3f} | {h['valid_nll']:.3f} | "
        f"{h.get('seconds', float('nan')):.0f} |"
        for k, run in enumerate(runs, 1)
        for h in run
    ]
    if metrics:
        lines += ["", "## Sampling metrics", "", "```json", json.dumps(metrics, indent=1), "```"]
    lines.append("")
    (Path(folder) / "README.md").write_text("\n".join(lines))


def _runs(card: dict) -> list[list[dict]]:
    """Epoch histories of the training runs behind a prior, oldest first (a run continued with
    ``init`` records the card of the prior it started from)."""
    runs = [card.get("history", [])]
    earlier = card.get("initialized_from")
    while earlier:
        runs.insert(0, earlier.get("history", []))
        earlier = earlier.get("initialized_from")
    return runs
