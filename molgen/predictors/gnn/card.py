"""Model cards: a README.md beside each model file, written from the training card."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from molgen.predictors.gnn.model import ModelSpec

ARCH_NAMES = {"gine": "GINE", "attentivefp": "AttentiveFP"}


def _metric_rows(metrics: dict[str, dict[str, Any]]) -> list[str]:
    rows = []
    for task, m in metrics.items():
        rows.append(f"| {task} | {m['n']} | {m['rmse']:.3f} | {m['mae']:.3f} | {m['r2']:.3f} |")
    return rows


def write_card(path: Path, title: str, spec: ModelSpec, card: dict[str, Any], sha: str) -> None:
    """Write the model card ``path`` (Markdown) for a model file with sha256 ``sha``."""
    data = card.get("data", {})
    units = spec.units or ("",) * len(spec.tasks)
    outputs = ", ".join(f"{t} ({u or 'unitless'})" for t, u in zip(spec.tasks, units, strict=True))
    lines = [
        f"# {title}",
        "",
        f"- File: `{card.get('file', 'model.safetensors')}`, sha256 `{sha}`",
        f"- Outputs: {outputs}",
        f"- Architecture: ensemble of {spec.members} {ARCH_NAMES.get(spec.arch, spec.arch)} "
        f"regressor(s) (torch-geometric), hidden {spec.hidden}, {spec.layers} message-passing "
        f"layers, dropout {spec.dropout}, RDKit descriptors "
        f"{'on' if spec.descriptors else 'off'}; featurizer `{spec.featurizer}`",
        f"- Training data: {data.get('source', '?')} (`{data.get('file', '?')}`, sha256 "
        f"`{data.get('sha256', '?')}`, {data.get('rows', '?')} rows, "
        f"{data.get('rejected', 0)} rejected)",
        f"- Split: {card['split']} — train {card['n_train']}, valid {card['n_valid']}, "
        f"test {card['n_test']}; seed {card['seed']}",
        f"- Training: AdamW lr {card['lr']}, batch {card['batch_size']}, at most "
        f"{card['max_epochs']} epochs, early stopping after {card['patience']} without a better "
        f"validation RMSE; best epochs {card['best_epochs']}",
        f"- Time and hardware: {card['train_seconds']} s on {card['hardware']}",
        f"- Versions: {json.dumps(card.get('versions', {}))}",
        "",
        "## Metrics (ensemble mean)",
        "",
        "| set | task | n | RMSE | MAE | R² |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name in ("test", "valid"):
        lines += [f"| {name} " + r for r in _metric_rows(card.get(name, {}))]
    if card.get("notes"):
        lines += ["", "## Notes", "", card["notes"]]
    lines.append("")
    Path(path).write_text("\n".join(lines))
