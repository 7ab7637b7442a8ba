"""Reinforcement learning of a SELFIES agent toward a score, in the manner of REINVENT.

The loss is REINVENT's augmented likelihood (Olivecrona et al. 2017; Blaschke et al. 2020):
``(NLL_prior - sigma * score) - NLL_agent``, squared and averaged, so the agent's likelihood of a
sequence moves toward the prior's likelihood raised by ``sigma`` times its score. Beside it:

- a diversity filter (REINVENT's bucket memory): a Murcko scaffold met more than
  ``bucket_size`` times scores 0 from then on, so the agent cannot keep farming one scaffold;
- an experience replay buffer of the best sequences seen, a few of which join each update.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import torch
from rdkit import Chem
from rdkit.Chem.Scaffolds import MurckoScaffold

from molgen.generators.selfies_lm.model import SelfiesGRU, pad


def scaffold_of(smiles: str) -> str:
    """Canonical Bemis-Murcko scaffold (the SMILES itself for acyclic molecules)."""
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        return smiles
    try:
        scaffold = Chem.MolToSmiles(MurckoScaffold.GetScaffoldForMol(mol))
    except (ValueError, RuntimeError):
        return smiles
    return scaffold or Chem.MolToSmiles(mol)


@dataclass
class DiversityFilter:
    """Bucket memory over Murcko scaffolds: scores of a full bucket's scaffold become 0."""

    bucket_size: int = 25
    min_score: float = 0.4
    counts: Counter[str] = field(default_factory=Counter)

    def __call__(self, smiles: list[str], scores: torch.Tensor) -> torch.Tensor:
        out = scores.clone()
        for i, smi in enumerate(smiles):
            if float(scores[i]) < self.min_score:
                continue
            key = scaffold_of(smi)
            if self.counts[key] >= self.bucket_size:
                out[i] = 0.0
            else:
                self.counts[key] += 1
        return out


@dataclass
class ReplayBuffer:
    """The ``capacity`` best ``(score, token ids)`` seen, by score, one entry per sequence."""

    capacity: int = 100
    items: dict[tuple[int, ...], float] = field(default_factory=dict)

    def add(self, rows: list[list[int]], scores: torch.Tensor) -> None:
        for row, score in zip(rows, scores.tolist(), strict=True):
            key = tuple(row)
            self.items[key] = max(score, self.items.get(key, float("-inf")))
        best = sorted(self.items.items(), key=lambda kv: (-kv[1], kv[0]))[: self.capacity]
        self.items = dict(best)

    def sample(self, k: int, generator: torch.Generator) -> tuple[list[list[int]], torch.Tensor]:
        if not self.items or k <= 0:
            return [], torch.zeros(0)
        keys = list(self.items)
        idx = torch.randperm(len(keys), generator=generator)[:k].tolist()
        return [list(keys[i]) for i in idx], torch.tensor([self.items[keys[i]] for i in idx])


def augmented_likelihood_loss(
    agent: SelfiesGRU, prior: SelfiesGRU, ids: torch.Tensor, scores: torch.Tensor, sigma: float
) -> torch.Tensor:
    """REINVENT's loss for a batch of sequences ``ids`` (BOS first, padded) and their scores."""
    with torch.no_grad():
        prior_nll = prior.nll(ids)
    agent_nll = agent.nll(ids)
    target = prior_nll - sigma * scores.to(agent_nll.device)
    return ((target - agent_nll) ** 2).mean()


def rl_step(
    agent: SelfiesGRU,
    prior: SelfiesGRU,
    optimizer: torch.optim.Optimizer,
    rows: list[list[int]],
    scores: torch.Tensor,
    sigma: float = 120.0,
) -> float:
    """One gradient step of the agent on sequences ``rows`` with ``scores`` in [0, 1]."""
    device = next(agent.parameters()).device
    loss = augmented_likelihood_loss(agent, prior, pad(rows, device), scores, sigma)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()
