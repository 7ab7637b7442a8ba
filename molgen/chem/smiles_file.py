"""SMILES files: the one rule every molgen reader follows.

The rule, for a file or any iterable of lines:

- the molecule is the first whitespace-separated field of a line; the rest (a name, an id) is
  ignored;
- a line that is blank, or whose first field starts with ``#``, is not a molecule (no SMILES
  starts with ``#``);
- the first molecule line is a header, not a molecule, when its first field is ``smiles`` in
  any case (``smiles``, ``SMILES``);
- each entry keeps its 1-based line number in the file, so a rejection can say "line 7".

Nothing is parsed here: a field that is not valid SMILES is kept, for the caller to reject with
its line number. Failure rule: :func:`read_smiles_entries` raises :class:`OSError` when the file
cannot be read (and :class:`UnicodeDecodeError` when it is not text); nothing else raises.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class SmilesEntry:
    """One molecule line: its 1-based ``line`` number and its first field, ``smiles``."""

    line: int
    smiles: str


def iter_smiles_entries(lines: Iterable[str]) -> Iterator[SmilesEntry]:
    """The molecule lines of ``lines`` (with or without line endings), lazily, by the rule in
    this module's docstring; suitable for streams of any length (e.g. stdin)."""
    first = True
    for number, line in enumerate(lines, start=1):
        fields = line.split(maxsplit=1)
        if not fields or fields[0].startswith("#"):
            continue
        if first:
            first = False
            if fields[0].lower() == "smiles":
                continue
        yield SmilesEntry(number, fields[0])


def read_smiles_entries(path: str | Path) -> list[SmilesEntry]:
    """The molecule lines of the file ``path`` with their line numbers.

    Raises:
        OSError: the file cannot be read.
    """
    with Path(path).open(encoding="utf-8") as fh:
        return list(iter_smiles_entries(fh))


def read_smiles(path: str | Path) -> list[str]:
    """The SMILES of the file ``path``, in file order (see :func:`read_smiles_entries`)."""
    return [entry.smiles for entry in read_smiles_entries(path)]
