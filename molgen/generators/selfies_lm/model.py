"""An autoregressive SELFIES model (a multi-layer GRU, as REINVENT's prior) and its sampler.

Failure rule: :func:`load_prior` raises :class:`~molgen.artifacts.model_files.ModelFileError`
naming the file and the reason for anything that is not a molgen SELFIES prior.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from molgen.artifacts.model_files import (
    ModelFileError,
    load_tensors,
    read_metadata,
    save_tensors,
)
from molgen.generators.selfies_lm.vocab import Vocabulary

FORMAT = "molgen-selfies-prior"
FORMAT_VERSION = "1"


@dataclass(frozen=True)
class PriorSpec:
    """Architecture of a :class:`SelfiesGRU`."""

    vocab_size: int
    embedding: int = 128
    hidden: int = 512
    layers: int = 3
    dropout: float = 0.0
    max_length: int = 128


class SelfiesGRU(nn.Module):
    """Token embedding → stacked GRU → logits over the vocabulary."""

    def __init__(self, spec: PriorSpec) -> None:
        super().__init__()
        self.spec = spec
        self.embed = nn.Embedding(spec.vocab_size, spec.embedding, padding_idx=0)
        self.gru = nn.GRU(
            spec.embedding,
            spec.hidden,
            num_layers=spec.layers,
            batch_first=True,
            dropout=spec.dropout if spec.layers > 1 else 0.0,
        )
        self.out = nn.Linear(spec.hidden, spec.vocab_size)

    def forward(
        self, ids: torch.Tensor, h: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits ``(batch, time, vocab)`` for ``ids`` ``(batch, time)`` and the GRU state."""
        out, h = self.gru(self.embed(ids), h)
        return self.out(out), h

    def nll(self, ids: torch.Tensor) -> torch.Tensor:
        """Negative log-likelihood of each sequence, ``(batch,)``, padding excluded.

        ``ids`` are :meth:`Vocabulary.encode` rows (BOS first, EOS last), right-padded with 0.
        """
        logits, _ = self(ids[:, :-1])
        target = ids[:, 1:]
        logits = logits.float()
        logits[..., :2] = -torch.inf  # padding (0) and begin (1) are never a next token
        logits[:, 0, 2] = -torch.inf  # nor is the end token (2) the first: no empty molecule
        logp = torch.log_softmax(logits, dim=-1)
        token = logp.gather(2, target.unsqueeze(-1)).squeeze(-1)
        return -torch.where(target != 0, token, torch.zeros_like(token)).sum(1)


def pad(rows: list[list[int]], device: torch.device | str = "cpu") -> torch.Tensor:
    """Right-pad index rows with 0 into a ``(len(rows), longest)`` int64 tensor."""
    longest = max(len(r) for r in rows)
    out = torch.zeros((len(rows), longest), dtype=torch.long)
    for i, r in enumerate(rows):
        out[i, : len(r)] = torch.tensor(r, dtype=torch.long)
    return out.to(device)


@torch.no_grad()
def sample(
    model: SelfiesGRU,
    vocab: Vocabulary,
    n: int,
    generator: torch.Generator,
    temperature: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample ``n`` sequences: ``(ids (n, <= max_length + 1) with BOS first, nll (n,))``.

    Deterministic for a given model, ``generator`` state and device. Sequences end at EOS
    (the rest of the row is padding) or at ``max_length`` tokens. ``nll`` is the likelihood
    under the sampling distribution (at ``temperature``, padding and begin tokens excluded).
    """
    device = next(model.parameters()).device
    token = torch.full((n, 1), vocab.bos, dtype=torch.long, device=device)
    rows = [token]
    nll = torch.zeros(n, device=device)
    done = torch.zeros(n, dtype=torch.bool, device=device)
    h = None
    for t in range(model.spec.max_length):
        logits, h = model(token, h)
        step = logits[:, -1].float() / temperature
        step[:, :2] = -torch.inf  # padding (0) and begin (1) are never a next token
        if t == 0:
            step[:, 2] = -torch.inf  # nor is the end token the first: no empty molecule
        logp = torch.log_softmax(step, dim=-1)
        nxt = torch.multinomial(logp.exp(), 1, generator=generator).squeeze(1)
        nxt = torch.where(done, torch.zeros_like(nxt), nxt)
        nll -= torch.where(done, torch.zeros_like(nll), logp.gather(1, nxt[:, None]).squeeze(1))
        done |= nxt == vocab.eos
        token = nxt[:, None]
        rows.append(token)
        if bool(done.all()):
            break
    return torch.cat(rows, dim=1), nll


def save_prior(
    model: SelfiesGRU, vocab: Vocabulary, path: Path, card: dict[str, Any] | None = None
) -> str:
    """Write the prior (weights, spec, vocabulary, card) as safetensors; returns its sha256."""
    metadata = {
        "spec": json.dumps(asdict(model.spec), sort_keys=True),
        "vocabulary": json.dumps(vocab.to_list()),
        "card": json.dumps(card or {}, sort_keys=True, default=str),
    }
    return save_tensors(model.state_dict(), path, FORMAT, FORMAT_VERSION, metadata)


def load_prior(
    path: Path, device: str | torch.device = "cpu"
) -> tuple[SelfiesGRU, Vocabulary, dict[str, Any]]:
    """``(model in eval mode on device, vocabulary, card)`` from a prior file.

    Raises:
        ModelFileError: the file is missing, not safetensors, not a molgen SELFIES prior, or
            its weights do not fit its spec.
    """
    metadata = read_metadata(path, FORMAT, FORMAT_VERSION, "molgen SELFIES prior")
    try:
        spec = PriorSpec(**json.loads(metadata["spec"]))
        vocab = Vocabulary.from_list(json.loads(metadata["vocabulary"]))
        card = json.loads(metadata.get("card", "{}"))
        model = SelfiesGRU(spec)
    except (KeyError, TypeError, ValueError) as err:
        raise ModelFileError(f"model file {path}: unreadable spec or vocabulary ({err})") from err
    if spec.vocab_size != len(vocab):
        raise ModelFileError(
            f"model file {path}: spec has {spec.vocab_size} tokens, vocabulary {len(vocab)}"
        )
    try:
        model.load_state_dict(load_tensors(path), strict=True)
    except RuntimeError as err:
        first = str(err).strip().splitlines()[0]
        raise ModelFileError(f"model file {path}: weights do not fit its spec ({first})") from err
    return model.to(device).eval(), vocab, card
