"""Training of the SELFIES prior: seeded MOSES subsets, epochs with validation, resumable.

:func:`train_prior` writes after every epoch ``checkpoint.safetensors`` (model, optimizer,
epoch, history) in its work folder and, whenever validation improves, the prior file itself. A
killed run started again with the same arguments continues from the last finished epoch and ends
with the same weights as an uninterrupted run (shuffling is seeded per epoch; the model has no
dropout by default).
"""

from __future__ import annotations

import gzip
import json
import logging
import math
import os
import platform
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from molgen.artifacts.model_files import load_tensors, read_metadata, save_tensors, sha256
from molgen.chem.selfies_io import smiles_to_selfies
from molgen.generators.selfies_lm.model import PriorSpec, SelfiesGRU, load_prior, pad, save_prior
from molgen.generators.selfies_lm.vocab import UnknownTokenError, Vocabulary
from molgen.resources import data_path

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = "molgen-selfies-prior-training"


def moses_subset(n: int, seed: int, path: Path | None = None) -> list[str]:
    """``n`` SMILES drawn without replacement (``default_rng(seed)``) from the MOSES training
    set (or the CSV.gz at ``path``), in file order; all of it if ``n`` is 0 or larger than
    the set."""
    with gzip.open(path or data_path("moses", "train.csv.gz"), "rt") as fh:
        header = fh.readline().strip().split(",")
        col = header.index("SMILES")
        rows = [line.strip().split(",")[col] for line in fh if line.strip()]
    if n <= 0 or n >= len(rows):
        return rows
    picked = np.sort(np.random.default_rng(seed).choice(len(rows), size=n, replace=False))
    return [rows[i] for i in picked]


def encode_all(
    smiles: Sequence[str], workers: int | None = None, chunk_size: int = 20_000
) -> tuple[list[str], list[tuple[int, str]]]:
    """SELFIES of each SMILES, in input order; ones that cannot be encoded are returned as
    ``(index, reason)`` rejections.

    Chunks of ``chunk_size`` are encoded in ``workers`` processes (default: one per CPU, as
    many as there are chunks; 0 or 1 encodes in this process). RDKit parsing dominates: the
    1.58 M MOSES molecules take about 8 minutes on one core, 5 with two processes.
    """
    starts = range(0, len(smiles), chunk_size)
    parts = [list(smiles[s : s + chunk_size]) for s in starts]
    if workers is None:
        workers = min(os.cpu_count() or 1, len(parts))
    if workers <= 1:
        results = list(map(_encode_chunk, starts, parts))
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(_encode_chunk, starts, parts))
    out: list[str] = []
    rejected: list[tuple[int, str]] = []
    for encoded, failed in results:
        out += encoded
        rejected += failed
    return out, rejected


def _encode_chunk(start: int, smiles: list[str]) -> tuple[list[str], list[tuple[int, str]]]:
    out, rejected = [], []
    for i, smi in enumerate(smiles, start):
        try:
            out.append(smiles_to_selfies(smi))
        except ValueError as err:
            rejected.append((i, str(err)))
    return out, rejected


def flatten_optimizer(opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], str]:
    """An optimizer's state as flat tensors (for safetensors) and its param groups as JSON."""
    state = opt.state_dict()
    tensors = {}
    for pid, slots in state["state"].items():
        for name, value in slots.items():
            tensors[f"opt.{pid}.{name}"] = torch.as_tensor(value)
    return tensors, json.dumps(state["param_groups"])


def restore_optimizer(opt: torch.optim.Optimizer, tensors: dict, groups: str) -> None:
    """Load what :func:`flatten_optimizer` wrote back into ``opt``."""
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        if key.startswith("opt."):
            _, pid, name = key.split(".", 2)
            state.setdefault(int(pid), {})[name] = value
    opt.load_state_dict({"state": state, "param_groups": json.loads(groups)})


def _batches(n: int, batch_size: int, seed: int, epoch: int) -> list[np.ndarray]:
    order = np.random.default_rng([seed, epoch]).permutation(n)
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]


def length_buckets(
    lengths: Sequence[int], batch_size: int, seed: int, epoch: int, pool: int = 50
) -> list[np.ndarray]:
    """Seeded batches of similar lengths: shuffle, sort each pool of ``pool`` batches by length,
    cut it into batches and shuffle the batch order. Random batches of MOSES SELFIES are padded
    to about 1.3x their mean length; these are padded little, and every row is used once."""
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(len(lengths))
    lengths = np.asarray(lengths)
    batches = []
    span = batch_size * pool
    for start in range(0, len(order), span):
        chunk = order[start : start + span]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def resolve_precision(precision: str, device: str) -> bool:
    """Whether to train under bfloat16 autocast: ``bf16``, ``fp32`` or ``auto`` (bf16 on CUDA,
    and on CPUs with native bfloat16 instructions, where oneDNN runs the GRU about 3x faster)."""
    if precision not in ("auto", "bf16", "fp32"):
        raise ValueError(f"precision {precision!r}: expected auto, bf16 or fp32")
    if precision != "auto":
        return precision == "bf16"
    if device.startswith("cuda"):
        return True
    # torch has no public query for native CPU bfloat16; a torch without this one trains in fp32
    check = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    return bool(torch.backends.mkldnn.is_available() and check is not None and check())


def load_init(
    init: Path, spec_args: dict[str, Any]
) -> tuple[SelfiesGRU, Vocabulary, dict[str, Any]]:
    """The prior that training continues from (:func:`load_prior`), checked against the
    :class:`PriorSpec` fields asked for.

    Raises:
        ModelFileError: ``init`` is not a molgen SELFIES prior.
        ValueError: ``spec_args`` differ from the prior's spec.
    """
    base, vocab, card = load_prior(init)
    clash = {k: v for k, v in spec_args.items() if getattr(base.spec, k) != v}
    if clash:
        theirs = {k: getattr(base.spec, k) for k in clash}
        raise ValueError(f"{init}: {clash} differ from the prior's spec {theirs}")
    return base, vocab, card


def _mean_nll(
    model: SelfiesGRU, rows: list[list[int]], device: str, batch_size: int, bf16: bool = False
) -> float:
    model.eval()
    total = 0.0
    kind = "cuda" if device.startswith("cuda") else "cpu"
    with torch.inference_mode():
        for start in range(0, len(rows), batch_size):
            ids = pad(rows[start : start + batch_size], device)
            with torch.autocast(kind, torch.bfloat16, enabled=bf16):
                total += float(model.nll(ids).sum())
    model.train()
    return total / max(len(rows), 1)


def train_prior(
    train_selfies: Sequence[str],
    valid_selfies: Sequence[str],
    spec_args: dict[str, Any],
    work: Path,
    out: Path,
    *,
    epochs: int,
    batch_size: int = 256,
    lr: float = 1e-3,
    lr_decay: float = 1.0,
    seed: int = 0,
    device: str = "auto",
    precision: str = "auto",
    init: Path | None = None,
    card: dict[str, Any] | None = None,
    on_epoch: Callable[[int, float, float, float], None] | None = None,
) -> dict[str, Any]:
    """Train (or resume training) a SELFIES prior; returns the card of the best epoch.

    Args:
        train_selfies, valid_selfies: the data, as SELFIES strings.
        spec_args: :class:`PriorSpec` fields other than ``vocab_size``.
        work: folder for the resumable checkpoint.
        out: the prior file written at the best validation NLL.
        epochs: total epochs (a resumed run trains the remaining ones).
        lr, lr_decay: epoch ``e`` trains at ``lr * lr_decay ** (e - 1)``.
        device: ``auto`` (CUDA when present), ``cpu`` or ``cuda``.
        precision: ``auto``, ``bf16`` or ``fp32`` (see :func:`resolve_precision`).
        init: a prior file to start from (continued training, e.g. over several sessions); its
            spec and vocabulary are kept, ``spec_args`` must agree with them, and molecules
            with tokens it lacks or longer than its ``max_length`` are left out (counted in the
            card). The optimizer starts afresh.
        on_epoch: called as ``on_epoch(epoch, train_nll, valid_nll, seconds)``.
    """
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    init_state, init_card, left_out = None, None, 0
    if init is None:
        vocab = Vocabulary.build_from_selfies([*train_selfies, *valid_selfies])
        train_rows = [vocab.encode(s) for s in train_selfies]
        valid_rows = [vocab.encode(s) for s in valid_selfies]
        longest = max(len(r) for r in train_rows + valid_rows)
        spec = PriorSpec(vocab_size=len(vocab), **{"max_length": longest + 8, **spec_args})
    else:
        base, vocab, base_card = load_init(Path(init), spec_args)
        spec = base.spec
        train_rows, dropped_train = _encode_known(vocab, train_selfies, spec.max_length)
        valid_rows, dropped_valid = _encode_known(vocab, valid_selfies, spec.max_length)
        left_out = dropped_train + dropped_valid
        if not train_rows or not valid_rows:
            raise ValueError(f"{init}: no training or validation molecule fits its vocabulary")
        init_state = base.state_dict()
        init_card = {
            "sha256": sha256(Path(init)),
            "data": base_card.get("data"),
            "epoch": base_card.get("epoch"),
            "valid_nll": base_card.get("valid_nll"),
            "history": base_card.get("history", []),
            "initialized_from": base_card.get("initialized_from"),
        }
    torch.manual_seed(seed)
    model = SelfiesGRU(spec).to(device)
    if init_state is not None:
        model.load_state_dict(init_state)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    history: list[dict[str, float]] = []
    start_epoch = 1
    best = math.inf
    ckpt = Path(work) / "checkpoint.safetensors"
    if ckpt.exists():
        meta = read_metadata(ckpt, CHECKPOINT_FORMAT, "1", "molgen prior training checkpoint")
        if json.loads(meta["vocabulary"]) != vocab.to_list() or json.loads(meta["spec"]) != asdict(
            spec
        ):
            raise ValueError(f"{ckpt}: a checkpoint of another training run (data or spec differ)")
        tensors = load_tensors(ckpt)
        model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
        restore_optimizer(opt, {k: v.to(device) for k, v in tensors.items()}, meta["groups"])
        history = json.loads(meta["history"])
        start_epoch = len(history) + 1
        best = min((h["valid_nll"] for h in history), default=math.inf)
        log.info("resuming %s after epoch %d", ckpt, len(history))
    amp = resolve_precision(precision, device)
    kind = "cuda" if device.startswith("cuda") else "cpu"
    lengths = [len(r) for r in train_rows]
    model.train()
    for epoch in range(start_epoch, epochs + 1):
        t0 = time.perf_counter()
        total, count = 0.0, 0
        for group in opt.param_groups:
            group["lr"] = lr * lr_decay ** (epoch - 1)
        batches = length_buckets(lengths, batch_size, seed, epoch)
        for step, idx in enumerate(batches, 1):
            if step % 500 == 0:
                log.info(
                    "epoch %d: batch %d/%d, train NLL %.3f",
                    epoch,
                    step,
                    len(batches),
                    total / count,
                )
            ids = pad([train_rows[i] for i in idx], device)
            with torch.autocast(kind, torch.bfloat16, enabled=amp):
                loss = model.nll(ids).mean()
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            total, count = total + loss.item() * len(idx), count + len(idx)
        valid = _mean_nll(model, valid_rows, device, 1024, amp)
        seconds = time.perf_counter() - t0
        history.append(
            {"epoch": epoch, "train_nll": total / count, "valid_nll": valid, "seconds": seconds}
        )
        if on_epoch:
            on_epoch(epoch, total / count, valid, seconds)
        if valid < best:
            best = valid
            epoch_card = {
                **(card or {}),
                "epoch": epoch,
                "valid_nll": valid,
                "history": history,
                "n_train": len(train_rows),
                "n_valid": len(valid_rows),
                "left_out": left_out,
                "initialized_from": init_card,
                "seed": seed,
                "batch_size": batch_size,
                "lr": lr,
                "lr_decay": lr_decay,
                "precision": "bf16 autocast" if amp else "fp32",
                "hardware": _hardware(device),
                "torch": torch.__version__,
            }
            save_prior(model, vocab, out, epoch_card)
        state = {f"model.{k}": v for k, v in model.state_dict().items()}
        opt_tensors, groups = flatten_optimizer(opt)
        save_tensors(
            {**state, **opt_tensors},
            ckpt,
            CHECKPOINT_FORMAT,
            "1",
            {
                "vocabulary": json.dumps(vocab.to_list()),
                "spec": json.dumps(asdict(spec)),
                "groups": groups,
                "history": json.dumps(history),
            },
        )
    _, _, final_card = load_prior(out)
    return final_card


def _encode_known(
    vocab: Vocabulary, selfies: Sequence[str], max_length: int
) -> tuple[list[list[int]], int]:
    """Rows of the SELFIES the vocabulary can encode within ``max_length`` tokens, and how many
    could not be."""
    rows, dropped = [], 0
    for s in selfies:
        try:
            row = vocab.encode(s)
        except UnknownTokenError:
            dropped += 1
            continue
        if len(row) > max_length + 1:
            dropped += 1
            continue
        rows.append(row)
    return rows, dropped


def _hardware(device: str) -> str:
    if device.startswith("cuda"):
        return torch.cuda.get_device_name(0)
    return f"CPU ({platform.machine()}, {torch.get_num_threads()} torch threads)"


def finetune_prior(
    prior: Path,
    smiles: Sequence[str],
    out: Path,
    *,
    epochs: int = 10,
    lr: float = 1e-4,
    batch_size: int = 32,
    seed: int = 0,
) -> tuple[dict[str, Any], list[tuple[int, str]]]:
    """Transfer learning: train ``prior`` further on ``smiles`` (e.g. known actives).

    The prior's vocabulary is kept; a molecule that cannot be encoded with it is rejected with
    the reason. Writes the fine-tuned model to ``out`` and returns its card and the rejections.

    Raises:
        ValueError: no molecule could be used.
    """
    model, vocab, base_card = load_prior(prior)
    rows, rejected = [], []
    for i, smi in enumerate(smiles):
        try:
            row = vocab.encode(smiles_to_selfies(smi))
        except (ValueError, UnknownTokenError) as err:
            rejected.append((i, str(err)))
            continue
        if len(row) > model.spec.max_length + 1:
            rejected.append((i, f"longer than the prior's {model.spec.max_length} tokens"))
            continue
        rows.append(row)
    if not rows:
        raise ValueError("no molecule could be encoded with the prior's vocabulary")
    torch.manual_seed(seed)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    for epoch in range(1, epochs + 1):
        total = 0.0
        for idx in _batches(len(rows), batch_size, seed, epoch):
            loss = model.nll(pad([rows[i] for i in idx])).mean()
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            total += loss.item() * len(idx)
        history.append({"epoch": epoch, "train_nll": total / len(rows)})
    card = {
        "finetuned_from": base_card,
        "finetune": {"n": len(rows), "rejected": len(rejected), "epochs": epochs, "lr": lr},
        "history": history,
        "seed": seed,
    }
    save_prior(model.eval(), vocab, out, card)
    return card, rejected
