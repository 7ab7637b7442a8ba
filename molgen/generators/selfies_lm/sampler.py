"""Streaming, seeded, de-duplicated sampling of SMILES from a SELFIES prior."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import torch

from molgen.chem.selfies_io import selfies_to_smiles
from molgen.generators.selfies_lm.model import SelfiesGRU, sample
from molgen.generators.selfies_lm.vocab import Vocabulary


@dataclass
class SampleStats:
    """Counts kept while sampling: drawn sequences, ones that decoded to no molecule, and
    duplicates skipped."""

    drawn: int = 0
    invalid: int = 0
    duplicates: int = 0
    seen: set[str] = field(default_factory=set)


def sample_smiles(
    model: SelfiesGRU,
    vocab: Vocabulary,
    n: int,
    seed: int,
    batch_size: int = 1024,
    temperature: float = 1.0,
    unique: bool = True,
    stats: SampleStats | None = None,
    max_batches: int | None = None,
) -> Iterator[str]:
    """Yield up to ``n`` canonical SMILES, batch by batch, reproducibly for ``seed``.

    With ``unique`` a molecule is yielded once; sampling stops after ``n`` molecules or after
    ``max_batches`` batches (default: enough for ``n`` at 10 % uniqueness), so a collapsed model
    cannot loop forever. ``stats`` (if given) is filled in as sampling goes.
    """
    stats = stats if stats is not None else SampleStats()
    device = next(model.parameters()).device
    generator = torch.Generator(device=device).manual_seed(seed)
    limit = max_batches or max(10, 10 * (n // batch_size + 1))
    produced = 0
    for _ in range(limit):
        ids, _ = sample(model, vocab, batch_size, generator, temperature)
        for row in ids.tolist():
            stats.drawn += 1
            try:
                smiles = selfies_to_smiles(vocab.decode(row))
            except ValueError:
                stats.invalid += 1
                continue
            if unique:
                if smiles in stats.seen:
                    stats.duplicates += 1
                    continue
                stats.seen.add(smiles)
            yield smiles
            produced += 1
            if produced >= n:
                return
