"""REINVENT-style RL pieces: the loss moves a rewarded molecule up; diversity filter; replay."""

from __future__ import annotations

import copy

import pytest
import torch

from molgen.chem.selfies_io import smiles_to_selfies
from molgen.generators.selfies_lm.model import PriorSpec, SelfiesGRU, pad
from molgen.generators.selfies_lm.rl import DiversityFilter, ReplayBuffer, rl_step
from molgen.generators.selfies_lm.vocab import Vocabulary

SMILES = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "CCN(CC)CC", "O=C(O)c1ccccc1"]


def test_an_rl_step_raises_the_likelihood_of_a_rewarded_molecule():
    vocab = Vocabulary.build(SMILES)
    torch.manual_seed(0)
    prior = SelfiesGRU(PriorSpec(len(vocab), embedding=16, hidden=32, layers=1)).eval()
    agent = copy.deepcopy(prior).train()
    rows = [vocab.encode(smiles_to_selfies(s)) for s in SMILES]
    rewarded, ignored = pad(rows[2:3]), pad(rows[3:4])
    before = float(agent.nll(rewarded)), float(agent.nll(ignored))
    opt = torch.optim.Adam(agent.parameters(), lr=1e-3)
    for _ in range(5):
        rl_step(agent, prior, opt, rows, torch.tensor([0.0, 0.0, 1.0, 0.0, 0.0]), sigma=60)
    after = float(agent.nll(rewarded)), float(agent.nll(ignored))
    assert after[0] < before[0] - 1.0  # the rewarded molecule became more likely
    assert abs(after[1] - before[1]) < abs(after[0] - before[0])


def test_diversity_filter_zeroes_a_full_scaffold_bucket():
    dfilter = DiversityFilter(bucket_size=2, min_score=0.5)
    smiles = ["Cc1ccccc1", "CCc1ccccc1", "CCCc1ccccc1", "C1CCNCC1", "CCO"]
    scores = dfilter(smiles, torch.tensor([0.9, 0.9, 0.9, 0.9, 0.1], dtype=torch.float64))
    assert scores.tolist() == [0.9, 0.9, 0.0, 0.9, 0.1]  # third benzene is one too many


def test_replay_buffer_keeps_the_best_unique_sequences():
    buffer = ReplayBuffer(capacity=2)
    scores = torch.tensor([0.2, 0.9, 0.5, 0.7], dtype=torch.float64)
    buffer.add([[1, 5, 2], [1, 6, 2], [1, 5, 2], [1, 7, 2]], scores)
    assert buffer.items == {(1, 6, 2): 0.9, (1, 7, 2): 0.7}
    rows, scores = buffer.sample(5, torch.Generator().manual_seed(0))
    assert sorted(scores.tolist()) == pytest.approx([0.7, 0.9]) and len(rows) == 2
