"""SELFIES vocabulary, the GRU prior, its sampler and its model file."""

from __future__ import annotations

import pytest
import torch
from rdkit import Chem

from molgen.artifacts.model_files import ModelFileError
from molgen.chem.selfies_io import selfies_to_smiles, smiles_to_selfies
from molgen.generators.selfies_lm.model import (
    PriorSpec,
    SelfiesGRU,
    load_prior,
    pad,
    sample,
    save_prior,
)
from molgen.generators.selfies_lm.vocab import UnknownTokenError, Vocabulary
from molgen.pipeline.components import default_seeds

SEEDS = default_seeds().read_text().split()


def _canonical(smiles: str) -> str:
    return Chem.MolToSmiles(Chem.MolFromSmiles(smiles))


def test_vocabulary_round_trips_the_bundled_molecules():
    vocab = Vocabulary.build(SEEDS)
    assert vocab.tokens[:3] == ["<pad>", "<bos>", "<eos>"]
    for smi in SEEDS:
        selfies = smiles_to_selfies(smi)
        ids = vocab.encode(selfies)
        assert ids[0] == vocab.bos and ids[-1] == vocab.eos
        assert vocab.decode(ids) == selfies
        assert _canonical(selfies_to_smiles(vocab.decode(ids))) == _canonical(smi)
    assert Vocabulary.from_list(vocab.to_list()).tokens == vocab.tokens


def test_an_unknown_token_is_named():
    vocab = Vocabulary.build(["CCO"])
    with pytest.raises(UnknownTokenError, match=r"'\[Cl\]' \(in '\[C\]\[Cl\]'\)"):
        vocab.encode("[C][Cl]")


def _tiny(vocab: Vocabulary) -> SelfiesGRU:
    torch.manual_seed(0)
    return SelfiesGRU(PriorSpec(len(vocab), embedding=32, hidden=64, layers=2, max_length=60))


def test_a_tiny_model_overfits_20_molecules():
    smiles = SEEDS[:20]
    vocab = Vocabulary.build(smiles)
    model = _tiny(vocab)
    ids = pad([vocab.encode(smiles_to_selfies(s)) for s in smiles])
    start = float(model.nll(ids).mean())
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(200):
        loss = model.nll(ids).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    end = float(model.nll(ids).mean())
    assert end < 0.1 * start
    model.eval()
    drawn, _ = sample(model, vocab, 200, torch.Generator().manual_seed(0), temperature=0.5)
    decoded = {_canonical(selfies_to_smiles(vocab.decode(row))) for row in drawn.tolist()}
    assert len(decoded & {_canonical(s) for s in smiles}) >= 10  # it reproduces its data


def test_sampling_is_reproducible_for_a_seed_and_scores_its_samples():
    vocab = Vocabulary.build(SEEDS[:50])
    model = _tiny(vocab).eval()
    a, nll_a = sample(model, vocab, 16, torch.Generator().manual_seed(7))
    b, nll_b = sample(model, vocab, 16, torch.Generator().manual_seed(7))
    c, _ = sample(model, vocab, 16, torch.Generator().manual_seed(8))
    assert torch.equal(a, b) and torch.equal(nll_a, nll_b)
    assert not torch.equal(a, c)
    # the sampler's likelihood is the model's likelihood of the sampled sequence
    rows = [r[: r.index(vocab.eos) + 1] if vocab.eos in r else r for r in a.tolist()]
    finished = [i for i, r in enumerate(rows) if r[-1] == vocab.eos]
    recomputed = model.nll(pad([rows[i] for i in finished]))
    torch.testing.assert_close(recomputed, nll_a[finished], rtol=1e-4, atol=1e-4)


def test_prior_file_round_trip_and_foreign_files(tmp_path):
    vocab = Vocabulary.build(SEEDS[:50])
    model = _tiny(vocab).eval()
    path = tmp_path / "prior.safetensors"
    save_prior(model, vocab, path, {"data": "test"})
    loaded, loaded_vocab, card = load_prior(path)
    assert loaded_vocab.tokens == vocab.tokens and card == {"data": "test"}
    ids = pad([vocab.encode(smiles_to_selfies(s)) for s in SEEDS[:5]])
    torch.testing.assert_close(loaded.nll(ids), model.nll(ids))

    from molgen.predictors.gnn.checkpoint import save_model
    from molgen.predictors.gnn.model import GraphEnsemble, ModelSpec

    graph = tmp_path / "graph.safetensors"
    save_model(GraphEnsemble(ModelSpec(tasks=("y",))), graph, {})
    with pytest.raises(ModelFileError, match="not a molgen SELFIES prior"):
        load_prior(graph)
    text = tmp_path / "prior.pt"
    text.write_text("not a model")
    with pytest.raises(ModelFileError, match=r"prior.pt: not a safetensors file"):
        load_prior(text)
