"""Parsing, standardization and identity of molecules.

Failure rule for this module: functions that take user input return a result or a reason, never
raise for bad chemistry; they raise only for programming errors (wrong argument types).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from rdkit import Chem, rdBase
from rdkit.Chem.MolStandardize import rdMolStandardize

from molgen.chem import policy
from molgen.chem.policy import MAX_SMILES_LENGTH
from molgen.types import PreparedMolecule, Rejection

_largest_fragment = rdMolStandardize.LargestFragmentChooser(preferOrganic=True)
_uncharger = rdMolStandardize.Uncharger(canonicalOrder=True)
# RDKit's list of known salts and solvents; a line of nothing but listed fragments keeps them all
_salts = rdMolStandardize.FragmentRemover(skip_if_all_match=True)


_capture_lock = threading.Lock()


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def _rdkit_messages() -> Iterator[list[str]]:
    """Collect RDKit's log messages (without timestamps) while the block runs."""
    rdBase.LogToPythonLogger()
    logger = logging.getLogger("rdkit")
    handler = _Collect()
    with _capture_lock:
        handlers, propagate = logger.handlers[:], logger.propagate
        logger.handlers[:] = [handler]
        logger.propagate = False
        try:
            yield handler.messages
        finally:
            logger.handlers[:] = handlers
            logger.propagate = propagate
    handler.messages[:] = [re.sub(r"^\[[0-9:]+\]\s*", "", m) for m in handler.messages]


def _parse(smiles: str) -> tuple[Chem.Mol | None, str]:
    """RDKit's parse of ``smiles`` and, on failure, RDKit's own message as the reason."""
    with _rdkit_messages() as messages:
        params = Chem.SmilesParserParams()
        params.sanitize = False
        mol = Chem.MolFromSmiles(smiles, params)
        problems = Chem.DetectChemistryProblems(mol) if mol is not None else ()
    if mol is None:
        errors = [m for m in messages if m.startswith("SMILES Parse Error")]
        detail = errors[0].removeprefix("SMILES Parse Error: ") if errors else "syntax error"
        return None, f"invalid SMILES: {detail}"
    if problems:
        return None, "; ".join(p.Message() for p in problems)
    Chem.SanitizeMol(mol)
    return mol, ""


def _standardize(mol: Chem.Mol) -> tuple[Chem.Mol | None, str, str]:
    """``(parent, changed, reason)``: the policy's parent of a parsed molecule and what
    standardization changed, or ``None`` and the rule that refused it."""
    reason = policy.check_parsed(mol)
    if reason:
        return None, "", reason
    changed: list[str] = []
    written = Chem.MolToSmiles(mol)
    try:
        with rdBase.BlockLogs():
            clean = rdMolStandardize.Cleanup(mol)
            parts = list(Chem.GetMolFrags(_salts.remove(clean), asMols=True))
            reason = policy.check_components(
                [m for m in parts if any(a.GetAtomicNum() == 6 for a in m.GetAtoms())]
            )
            if reason:
                return None, "", reason
            parent = _largest_fragment.choose(clean)
            kept = Chem.MolToSmiles(parent)
            dropped = [
                Chem.MolToSmiles(m)
                for m in Chem.GetMolFrags(clean, asMols=True)
                if Chem.MolToSmiles(m) != kept
            ]
            if dropped:
                changed.append("removed " + " ".join(sorted(set(dropped))))
            elif kept != written:
                changed.append(f"normalized {written} to {kept}")
            neutral = _uncharger.uncharge(parent)
            Chem.SanitizeMol(neutral)
    except (Chem.rdchem.MolSanitizeException, RuntimeError) as err:
        return None, "", f"standardization failed: {err}"
    if Chem.MolToSmiles(neutral) != kept:
        changed.append("neutralized")
    reason = policy.check_parent(neutral)
    if reason:
        return None, "", reason
    return neutral, "; ".join(changed), ""


def prepare_smiles(smiles: str) -> PreparedMolecule | Rejection:
    """Parse, check and standardize one SMILES string under molgen's input policy.

    Returns:
        A :class:`PreparedMolecule` (canonical isomeric SMILES and InChIKey of the standardized
        parent, and what standardization changed), or a :class:`Rejection` from stage
        ``"prepare"`` whose reason starts with the rule that refused the input (the rules are
        listed in :mod:`molgen.chem.policy`): empty input, characters, parse, dummy atoms,
        metal complex, mixture, elements, radicals, no carbon, size.
    """
    text = smiles.strip() if isinstance(smiles, str) else ""
    if not text:
        return Rejection("prepare", str(smiles), "empty SMILES")
    if len(text) > MAX_SMILES_LENGTH:
        return Rejection(
            "prepare", text[:80] + "...", f"parse: SMILES longer than {MAX_SMILES_LENGTH}"
        )
    reason = policy.check_characters(text)
    if reason:
        return Rejection("prepare", text, reason)
    mol, reason = _parse(text)
    if mol is None:
        return Rejection("prepare", text, reason)
    parent, changed, reason = _standardize(mol)
    if parent is None:
        return Rejection("prepare", text, reason)
    inchikey = Chem.MolToInchiKey(parent)
    if not inchikey:
        return Rejection("prepare", text, "parse: RDKit could not compute an InChIKey")
    return PreparedMolecule(
        smiles=Chem.MolToSmiles(parent), inchikey=inchikey, source=text, changed=changed
    )


def prepare_many(
    smiles: Iterable[str],
) -> tuple[list[PreparedMolecule], list[Rejection], int]:
    """Prepare a batch, de-duplicating by InChIKey and keeping the first occurrence.

    Returns:
        ``(prepared, rejected, n_duplicates)``: molecules in input order, the inputs that failed
        with their reasons, and how many valid inputs repeated an earlier InChIKey.
    """
    prepared: list[PreparedMolecule] = []
    rejected: list[Rejection] = []
    seen: dict[str, None] = {}
    duplicates = 0
    for item in smiles:
        result = prepare_smiles(item)
        if isinstance(result, Rejection):
            rejected.append(result)
        elif result.inchikey in seen:
            duplicates += 1
        else:
            seen[result.inchikey] = None
            prepared.append(result)
    return prepared, rejected, duplicates


def mol_from_prepared(smiles: str) -> Chem.Mol:
    """The RDKit molecule of a SMILES that :func:`prepare_smiles` produced.

    Raises:
        ValueError: if ``smiles`` does not parse (it came from somewhere else).
    """
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        raise ValueError(f"not a valid SMILES string: {smiles!r}")
    return mol
