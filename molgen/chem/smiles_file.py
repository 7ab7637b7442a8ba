"""SMILES files: the one rule every molgen reader follows.

The rule, for a file or any iterable of lines:

- the molecule is the first whitespace-separated field of a line; the rest (a name, an id) is
  ignored;
- a line that is blank, or whose first field starts with ``#``, is not a molecule (no SMILES
  starts with ``#``);
- the first molecule line is a header, not a molecule, when its first field is ``smiles`` in
  any case (``smiles``, ``SMILES``);
- each entry keeps its 1-based line number in the file, so a rejection can say "line 7";
- files are UTF-8 (a byte-order mark before the first line is dropped), decoded line by line: a
  molecule line that is not valid UTF-8 is an entry whose ``error`` says so (``"not valid UTF-8
  (byte 0xe9 at column 4)"``), for the caller to reject with its line number; the other lines
  are read as usual. Its ``smiles`` is the first field with the bad bytes written as ``\\xe9``.

Nothing is parsed here: a field that is not valid SMILES is kept, for the caller to reject with
its line number. Failure rule: :func:`read_smiles_entries` raises :class:`OSError` when the file
cannot be read; nothing else raises.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

_BOM = "\ufeff"


@dataclass(frozen=True, slots=True)
class SmilesEntry:
    """One molecule line: its 1-based ``line`` number and its first field, ``smiles``.

    ``error`` is None, or why the line cannot be read (it is not valid UTF-8); such an entry is
    to be rejected, not parsed.
    """

    line: int
    smiles: str
    error: str | None = None


def _undecodable(number: int, raw: bytes, err: UnicodeDecodeError) -> SmilesEntry | None:
    """The entry for a line that is not UTF-8, or None when it is a comment."""
    first = raw.split(maxsplit=1)[0]  # a line with a non-ASCII byte is never blank
    if first.startswith(b"#"):
        return None
    reason = f"not valid UTF-8 (byte 0x{raw[err.start]:02x} at column {err.start + 1})"
    return SmilesEntry(number, first.decode("utf-8", "backslashreplace"), reason)


def iter_smiles_entries(lines: Iterable[str] | Iterable[bytes]) -> Iterator[SmilesEntry]:
    """The molecule lines of ``lines`` (text or bytes, with or without line endings), lazily,
    by the rule in this module's docstring; suitable for streams of any length (e.g. stdin).

    Bytes are decoded as UTF-8 line by line, so one bad line is one entry with an ``error``.
    """
    first = True
    for number, raw in enumerate(lines, start=1):
        if isinstance(raw, bytes):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                entry = _undecodable(number, raw, err)
                if entry is not None:
                    first = False
                    yield entry
                continue
        else:
            line = raw
        if number == 1:
            line = line.removeprefix(_BOM)
        fields = line.split(maxsplit=1)
        if not fields or fields[0].startswith("#"):
            continue
        if first:
            first = False
            if fields[0].lower() == "smiles":
                continue
        yield SmilesEntry(number, fields[0])


def read_smiles_entries(path: str | Path) -> list[SmilesEntry]:
    """The molecule lines of the file ``path`` with their line numbers (see the module
    docstring; a line that is not UTF-8 is an entry with an ``error``).

    Raises:
        OSError: the file cannot be read.
    """
    with Path(path).open("rb") as fh:
        return list(iter_smiles_entries(fh))


def read_smiles(path: str | Path) -> list[str]:
    """The SMILES of the file ``path``, in file order (see :func:`read_smiles_entries`).

    A line that is not valid UTF-8 gives its field with the bad bytes escaped (``C\\xe9C``),
    which no SMILES parser accepts; a caller that reports rejections by line uses
    :func:`read_smiles_entries` and its ``error``.

    Raises:
        OSError: the file cannot be read.
    """
    return [entry.smiles for entry in read_smiles_entries(path)]
