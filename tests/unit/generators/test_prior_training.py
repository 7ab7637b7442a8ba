"""Training the SELFIES prior: epochs, resume after a kill, sampling from the result."""

from __future__ import annotations

import torch
from rdkit import Chem

from molgen.generators.selfies_lm.model import load_prior
from molgen.generators.selfies_lm.sampler import SampleStats, sample_smiles
from molgen.generators.selfies_lm.train import encode_all, moses_subset, train_prior

SPEC = {"embedding": 16, "hidden": 32, "layers": 1}


def _data():
    smiles = moses_subset(120, seed=5)
    selfies, rejected = encode_all(smiles)
    assert not rejected and len(selfies) == 120
    return selfies[20:], selfies[:20]


def test_encoding_in_processes_keeps_order_and_rejection_indices():
    smiles = moses_subset(60, seed=3)
    smiles[7] = "C1CC"  # unclosed ring
    smiles[45] = "not a molecule"
    serial = encode_all(smiles, workers=0)
    parallel = encode_all(smiles, workers=2, chunk_size=16)
    assert parallel == serial
    assert [i for i, _ in serial[1]] == [7, 45]
    assert "'C1CC'" in serial[1][0][1]
    assert len(serial[0]) == 58


def test_a_resumed_run_ends_with_the_uninterrupted_weights(tmp_path):
    train, valid = _data()
    straight = train_prior(train, valid, SPEC, tmp_path / "a", tmp_path / "a.st", epochs=3, seed=1)
    # "killed" after epoch 2, then the same command again
    train_prior(train, valid, SPEC, tmp_path / "b", tmp_path / "b.st", epochs=2, seed=1)
    resumed = train_prior(train, valid, SPEC, tmp_path / "b", tmp_path / "b.st", epochs=3, seed=1)
    assert [h["epoch"] for h in resumed["history"]] == [1, 2, 3]
    assert resumed["valid_nll"] == straight["valid_nll"]
    a, _, _ = load_prior(tmp_path / "a.st")
    b, _, _ = load_prior(tmp_path / "b.st")
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert torch.equal(x, y), name
    assert straight["history"][-1]["valid_nll"] < straight["history"][0]["valid_nll"]


def test_sampling_streams_unique_valid_molecules_reproducibly(tmp_path):
    train, valid = _data()
    train_prior(train, valid, SPEC, tmp_path / "w", tmp_path / "p.st", epochs=1, seed=0)
    model, vocab, _ = load_prior(tmp_path / "p.st")
    stats = SampleStats()
    first = list(sample_smiles(model, vocab, 50, seed=3, batch_size=32, stats=stats))
    again = list(sample_smiles(model, vocab, 50, seed=3, batch_size=32))
    assert first == again and len(first) == len(set(first)) == 50
    assert all(Chem.MolFromSmiles(s) is not None for s in first)
    # a SELFIES string decodes to a molecule unless it holds only branch/ring tokens (rare once
    # trained; this model had one epoch on 100 molecules)
    assert stats.invalid <= 0.1 * stats.drawn
    assert stats.drawn == 50 + stats.duplicates + stats.invalid


def test_finetuning_makes_the_actives_more_likely_and_rejects_unknown_tokens(tmp_path):
    from molgen.chem.selfies_io import smiles_to_selfies
    from molgen.generators.selfies_lm.model import pad
    from molgen.generators.selfies_lm.train import finetune_prior

    train, valid = _data()
    train_prior(train, valid, SPEC, tmp_path / "w", tmp_path / "p.st", epochs=1, seed=0)
    actives = ["CC(=O)Nc1ccc(O)cc1", "CC(=O)Nc1ccc(OC)cc1", "[Se]1C=CC=C1"]
    card, rejected = finetune_prior(
        tmp_path / "p.st", actives, tmp_path / "ft.st", epochs=30, lr=1e-2
    )
    assert [i for i, _ in rejected] == [2] and "[Se]" in rejected[0][1]
    base, vocab, _ = load_prior(tmp_path / "p.st")
    tuned, _, tuned_card = load_prior(tmp_path / "ft.st")
    ids = pad([vocab.encode(smiles_to_selfies(s)) for s in actives[:2]])
    assert float(tuned.nll(ids).mean()) < float(base.nll(ids).mean()) - 5
    assert tuned_card["finetune"]["n"] == 2


def test_precision_and_learning_rate_decay_are_applied_and_recorded(tmp_path):
    import pytest

    from molgen.generators.selfies_lm.train import resolve_precision

    train, valid = _data()
    with pytest.raises(ValueError, match="'fp8'"):
        train_prior(
            train, valid, SPEC, tmp_path / "x", tmp_path / "x.st", epochs=1, precision="fp8"
        )
    assert resolve_precision("fp32", "cpu") is False and resolve_precision("bf16", "cpu") is True
    cards = {}
    for precision in ("fp32", "bf16"):
        cards[precision] = train_prior(
            train,
            valid,
            SPEC,
            tmp_path / precision,
            tmp_path / f"{precision}.st",
            epochs=3,
            seed=1,
            lr=1e-2,
            lr_decay=0.5,
            precision=precision,
        )
    assert cards["fp32"]["precision"] == "fp32" and cards["bf16"]["precision"] == "bf16 autocast"
    assert cards["bf16"]["lr_decay"] == 0.5
    # both learn, and bfloat16 autocast lands near full precision
    for card in cards.values():
        assert card["history"][-1]["valid_nll"] < card["history"][0]["valid_nll"]
    assert (
        abs(cards["bf16"]["valid_nll"] - cards["fp32"]["valid_nll"])
        < 0.1 * cards["fp32"]["valid_nll"]
    )


def test_training_continues_from_a_prior_file_and_its_card_keeps_both_runs(tmp_path):
    import pytest

    from molgen.generators.selfies_lm.card import write_prior_card

    train, valid = _data()
    first = train_prior(train, valid, SPEC, tmp_path / "a", tmp_path / "a.st", epochs=2, seed=1)
    (tmp_path / "next").mkdir()
    more = train_prior(
        train,
        valid,
        {"hidden": 32},
        tmp_path / "b",
        tmp_path / "next" / "prior.safetensors",
        epochs=1,
        seed=2,
        init=tmp_path / "a.st",
    )
    # starts where the first run ended, not from scratch
    assert more["history"][0]["valid_nll"] < first["history"][0]["valid_nll"]
    assert more["initialized_from"]["history"] == first["history"]
    write_prior_card(tmp_path / "next")
    text = (tmp_path / "next" / "README.md").read_text()
    assert "Continued training: 2 runs" in text and text.count("| 2 | 1 |") == 1
    with pytest.raises(ValueError, match="differ from the prior's spec"):
        train_prior(
            train,
            valid,
            {"hidden": 64},
            tmp_path / "c",
            tmp_path / "c.st",
            epochs=1,
            init=tmp_path / "a.st",
        )


def test_length_buckets_use_every_row_once_with_little_padding():
    import numpy as np

    from molgen.generators.selfies_lm.train import length_buckets

    lengths = np.random.default_rng(0).integers(20, 60, size=5000)
    batches = length_buckets(lengths, 64, seed=3, epoch=1, pool=10)
    assert sorted(np.concatenate(batches).tolist()) == list(range(5000))
    padded = sum(len(b) * lengths[b].max() for b in batches)
    assert padded < 1.1 * lengths.sum()  # random batches of these: about 1.4x
    assert [b.tolist() for b in length_buckets(lengths, 64, seed=3, epoch=1, pool=10)] == [
        b.tolist() for b in batches
    ]
    assert length_buckets(lengths, 64, seed=3, epoch=2, pool=10)[0].tolist() != batches[0].tolist()
