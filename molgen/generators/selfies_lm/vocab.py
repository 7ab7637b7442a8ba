"""SELFIES vocabulary: token <-> index, with padding, begin and end tokens.

Failure rule: :meth:`Vocabulary.encode` raises :class:`UnknownTokenError` naming the token and
the string it came from; :meth:`Vocabulary.build` raises :class:`ValueError` for a SMILES that
cannot be encoded, naming it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import selfies as sf

from molgen.chem.selfies_io import smiles_to_selfies

PAD, BOS, EOS = "<pad>", "<bos>", "<eos>"
SPECIAL = (PAD, BOS, EOS)


class UnknownTokenError(ValueError):
    """A SELFIES token that the vocabulary does not have."""


class Vocabulary:
    """An ordered SELFIES token set; index 0 is padding, 1 begin, 2 end."""

    def __init__(self, tokens: Sequence[str]) -> None:
        tokens = [t for t in tokens if t not in SPECIAL]
        if len(set(tokens)) != len(tokens):
            raise ValueError("vocabulary tokens must be unique")
        self.tokens: list[str] = [*SPECIAL, *tokens]
        self.index = {t: i for i, t in enumerate(self.tokens)}

    pad = property(lambda self: 0)
    bos = property(lambda self: 1)
    eos = property(lambda self: 2)

    def __len__(self) -> int:
        return len(self.tokens)

    @classmethod
    def build(cls, smiles: Iterable[str]) -> Vocabulary:
        """The tokens of ``smiles``' SELFIES, most frequent first (ties by token)."""
        return cls.build_from_selfies(smiles_to_selfies(smi) for smi in smiles)

    @classmethod
    def build_from_selfies(cls, selfies: Iterable[str]) -> Vocabulary:
        """The tokens of SELFIES strings, most frequent first (ties by token)."""
        counts: Counter[str] = Counter()
        for s in selfies:
            counts.update(sf.split_selfies(s))
        return cls(sorted(counts, key=lambda t: (-counts[t], t)))

    def encode(self, selfies: str) -> list[int]:
        """``[BOS, tokens..., EOS]`` as indices.

        Raises:
            UnknownTokenError: a token not in the vocabulary.
        """
        ids = [self.bos]
        for token in sf.split_selfies(selfies):
            try:
                ids.append(self.index[token])
            except KeyError:
                raise UnknownTokenError(
                    f"SELFIES token {token!r} (in {selfies!r}) is not in the vocabulary"
                ) from None
        ids.append(self.eos)
        return ids

    def decode(self, ids: Iterable[int]) -> str:
        """The SELFIES string of ``ids``, stopping at the first end token."""
        out = []
        for raw in ids:
            i = int(raw)
            if i == self.eos:
                break
            if i in (self.pad, self.bos):
                continue
            out.append(self.tokens[i])
        return "".join(out)

    def to_list(self) -> list[str]:
        return list(self.tokens)

    @classmethod
    def from_list(cls, tokens: Sequence[str]) -> Vocabulary:
        if list(tokens[: len(SPECIAL)]) != list(SPECIAL):
            raise ValueError("not a molgen SELFIES vocabulary: special tokens missing")
        return cls(tokens)
