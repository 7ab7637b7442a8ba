"""The ``selfies_rl`` generator: a SELFIES agent, started from the prior, trained by RL.

Each round the agent samples molecules; the campaign scores them; :meth:`SelfiesRL.update`
takes REINVENT augmented-likelihood steps over every sampled sequence, in minibatches of
``minibatch`` (molecules the campaign rejected or did not score get 0), each with a few replayed
best sequences from earlier rounds, after the scaffold diversity filter. Its whole state
(agent weights, Adam state, filter memory, replay buffer, the last round's samples) goes into
:meth:`state_dict`, so a killed campaign resumes with the same agent.
"""

from __future__ import annotations

import base64
import copy
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import torch
from pydantic import BaseModel, ConfigDict, Field, field_validator

from molgen.artifacts.model_files import read_metadata, sha256
from molgen.chem.selfies_io import selfies_to_smiles, smiles_to_selfies
from molgen.generators.base import GENERATORS
from molgen.generators.selfies_lm.model import FORMAT, FORMAT_VERSION, load_prior, sample
from molgen.generators.selfies_lm.rl import DiversityFilter, ReplayBuffer, rl_step
from molgen.generators.selfies_lm.train import flatten_optimizer, restore_optimizer
from molgen.generators.selfies_lm.vocab import UnknownTokenError
from molgen.resources import model_file


def _pack(tensors: dict[str, torch.Tensor]) -> str:
    from safetensors.torch import save

    blob = save({k: v.detach().cpu().contiguous() for k, v in tensors.items()})
    return base64.b64encode(blob).decode("ascii")


def _unpack(text: str) -> dict[str, torch.Tensor]:
    from safetensors.torch import load

    return load(base64.b64decode(text))


class SelfiesRLParams(BaseModel):
    """The campaign file's ``[generator]`` keys for ``selfies_rl`` (the constructor's defaults).

    ``prior`` is checked to be a molgen SELFIES prior by its header alone (cheap: no weights
    are read), so a wrong file is reported before the campaign starts.
    """

    model_config = ConfigDict(extra="forbid")

    prior: Path | None = Field(
        default=None,
        description="prior file, or a shipped prior's name; default: the shipped selfies-prior",
    )
    sigma: float = Field(default=120.0, gt=0, description="score weight in the RL loss")
    learning_rate: float = Field(default=1e-4, gt=0, le=1)
    temperature: float = Field(default=1.0, gt=0, le=10)
    bucket_size: int = Field(default=25, ge=1, description="diversity filter: per scaffold")
    replay_size: int = Field(default=100, ge=0)
    replay_samples: int = Field(default=10, ge=0)
    minibatch: int = Field(default=64, ge=1, description="sequences per RL step")

    @field_validator("prior")
    @classmethod
    def _is_a_prior(cls, path: Path | None) -> Path | None:
        if path is not None:
            path = model_file(path, "prior")
            read_metadata(path, FORMAT, FORMAT_VERSION, "molgen SELFIES prior")
        return path


@GENERATORS.register("selfies_rl")
class SelfiesRL:
    """REINVENT-style reinforcement learning on molgen's SELFIES prior."""

    name: ClassVar[str] = "selfies_rl"
    version: ClassVar[str] = "1"
    uses_gpu: ClassVar[bool] = True  # on a cluster its sampling and RL steps go to GPU workers
    Params: ClassVar[type[BaseModel]] = SelfiesRLParams

    def __init__(
        self,
        prior: Path | None = None,
        sigma: float = 120.0,
        learning_rate: float = 1e-4,
        temperature: float = 1.0,
        bucket_size: int = 25,
        replay_size: int = 100,
        replay_samples: int = 10,
        minibatch: int = 64,
        device: str = "auto",
    ) -> None:
        self.prior_path = model_file(prior or "selfies-prior", "prior")
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = device
        self.prior, self.vocab, _ = load_prior(self.prior_path, device)
        self.prior_sha256 = sha256(self.prior_path)
        self.agent = copy.deepcopy(self.prior).train()
        for p in self.prior.parameters():
            p.requires_grad_(False)
        self.optimizer = torch.optim.Adam(self.agent.parameters(), lr=learning_rate)
        self.sigma, self.temperature = sigma, temperature
        self.learning_rate = learning_rate
        self.diversity = DiversityFilter(bucket_size=bucket_size)
        self.replay = ReplayBuffer(capacity=replay_size)
        self.replay_samples = replay_samples
        self.minibatch = minibatch
        self.last: dict[str, list[int]] = {}
        self.steps = 0

    def generate(self, n: int, seed: int) -> list[str]:
        """Sample ``n`` sequences from the agent; returns their SMILES (those that decode)."""
        gen = torch.Generator(device=self.device).manual_seed(seed)
        self.agent.eval()
        ids, _ = sample(self.agent, self.vocab, n, gen, self.temperature)
        self.agent.train()
        self.last, out = {}, []
        for sampled in ids.tolist():
            eos = self.vocab.eos
            row = sampled[: sampled.index(eos) + 1] if eos in sampled else sampled
            try:
                smiles = selfies_to_smiles(self.vocab.decode(row))
            except ValueError:
                continue
            self.last.setdefault(smiles, row)
            out.append(smiles)
        return out

    def _row(self, smiles: str) -> list[int] | None:
        if smiles in self.last:
            return self.last[smiles]
        try:  # standardization changed the molecule's SMILES: encode what was scored
            return self.vocab.encode(smiles_to_selfies(smiles))
        except (ValueError, UnknownTokenError):
            return None

    def update(self, smiles: Sequence[str], scores: Sequence[float]) -> None:
        """RL steps on the last round's samples with the campaign's scores (others: 0)."""
        scored = {s: float(x) for s, x in zip(smiles, scores, strict=True)}
        rows, names, values = [], [], []
        for smi, row in self.last.items():
            rows.append(row)
            names.append(smi)
            values.append(scored.pop(smi, 0.0))
        for smi, value in scored.items():  # scored under a standardized SMILES
            row = self._row(smi)
            if row is not None:
                rows.append(row)
                names.append(smi)
                values.append(value)
        if not rows:
            return
        filtered = self.diversity(names, torch.tensor(values, dtype=torch.float64)).float()
        gen = torch.Generator().manual_seed(self.steps)
        order = torch.randperm(len(rows), generator=gen).tolist()
        for start in range(0, len(order), self.minibatch):
            part = order[start : start + self.minibatch]
            extra_rows, extra_scores = self.replay.sample(self.replay_samples, gen)
            rl_step(
                self.agent,
                self.prior,
                self.optimizer,
                [rows[i] for i in part] + extra_rows,
                torch.cat([filtered[part], extra_scores.float()]),
                self.sigma,
            )
            self.steps += 1
        self.replay.add(rows, filtered)

    def state_dict(self) -> dict[str, Any]:
        opt_tensors, groups = flatten_optimizer(self.optimizer)
        return {
            "prior_sha256": self.prior_sha256,
            "agent": _pack(self.agent.state_dict()),
            "optimizer": _pack(opt_tensors),
            "optimizer_groups": groups,
            "diversity": dict(self.diversity.counts),
            "replay": [[list(k), v] for k, v in self.replay.items.items()],
            "last": self.last,
            "steps": self.steps,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("prior_sha256") != self.prior_sha256:
            raise ValueError(
                f"generator state was saved with another prior (sha256 "
                f"{state.get('prior_sha256')}, this one {self.prior_sha256})"
            )
        self.agent.load_state_dict(_unpack(state["agent"]))
        opt = {k: v.to(self.device) for k, v in _unpack(state["optimizer"]).items()}
        restore_optimizer(self.optimizer, opt, state["optimizer_groups"])
        self.diversity.counts = Counter(state["diversity"])
        self.replay.items = {tuple(k): float(v) for k, v in state["replay"]}
        self.last = {k: list(v) for k, v in state["last"].items()}
        self.steps = int(state["steps"])

    def provenance(self) -> dict[str, Any]:
        return {
            "generator": self.name,
            "version": self.version,
            "prior": str(self.prior_path.name),
            "prior_sha256": self.prior_sha256,
            "sigma": self.sigma,
            "learning_rate": self.learning_rate,
            "temperature": self.temperature,
            "bucket_size": self.diversity.bucket_size,
            "agent_steps": self.steps,
        }
