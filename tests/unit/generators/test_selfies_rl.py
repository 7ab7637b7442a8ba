"""The selfies_rl generator: learns from scores, and resumes from its state exactly."""

from __future__ import annotations

import json

import pytest
import torch
from rdkit import Chem
from rdkit.Chem import QED

from molgen.generators.selfies_lm.agent import SelfiesRL
from molgen.generators.selfies_lm.train import encode_all, moses_subset, train_prior


@pytest.fixture(scope="module")
def prior(tmp_path_factory):
    selfies, _ = encode_all(moses_subset(300, seed=9))
    folder = tmp_path_factory.mktemp("prior")
    spec = {"embedding": 16, "hidden": 48, "layers": 1}
    train_prior(selfies[30:], selfies[:30], spec, folder / "w", folder / "p.st", epochs=3, seed=0)
    return folder / "p.st"


def _qed(smiles):
    return [QED.qed(Chem.MolFromSmiles(s)) for s in smiles]


def test_state_round_trip_resumes_the_same_agent(prior):
    a = SelfiesRL(prior=prior, learning_rate=1e-3, device="cpu")
    first = a.generate(64, seed=1)
    assert first and all(Chem.MolFromSmiles(s) for s in first)
    a.update(first, _qed(first))
    state = json.loads(json.dumps(a.state_dict()))  # what the campaign writes to disk

    b = SelfiesRL(prior=prior, learning_rate=1e-3, device="cpu")
    b.load_state_dict(state)
    assert a.generate(64, seed=2) == b.generate(64, seed=2)
    second = a.last and list(a.last)
    a.update(second, _qed(second))
    b.update(second, _qed(second))
    for (name, x), (_, y) in zip(
        a.agent.state_dict().items(), b.agent.state_dict().items(), strict=True
    ):
        assert torch.equal(x, y), name
    assert a.provenance()["agent_steps"] == 2


def test_rl_raises_the_score_of_what_it_samples(prior):
    agent = SelfiesRL(prior=prior, learning_rate=5e-3, sigma=60, device="cpu")

    def mean_top(smiles):
        return sorted(_qed(smiles), reverse=True)[:10]

    start = sum(mean_top(agent.generate(128, seed=0))) / 10
    for step in range(12):
        batch = agent.generate(128, seed=100 + step)
        agent.update(batch, _qed(batch))
    end = sum(mean_top(agent.generate(128, seed=0))) / 10
    assert end > start


def test_a_state_from_another_prior_is_refused(prior, tmp_path):
    a = SelfiesRL(prior=prior, device="cpu")
    state = a.state_dict()
    state["prior_sha256"] = "0" * 64
    with pytest.raises(ValueError, match="saved with another prior"):
        a.load_state_dict(state)
