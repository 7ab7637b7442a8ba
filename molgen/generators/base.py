"""The Generator interface and its registry."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Protocol, runtime_checkable

from molgen.registry import Registry


@runtime_checkable
class Generator(Protocol):
    """Proposes molecules and learns from the campaign's scores.

    A generator is rebuilt at the start of every round from its constructor parameters plus the
    state it saved at the end of the previous round, so a killed campaign resumes with the same
    generator. All randomness comes from the ``seed`` passed to :meth:`generate`.

    Construction: the campaign file's ``[generator]`` keys other than ``kind`` and ``seeds`` are
    keyword arguments, checked first against the class's pydantic ``Params`` model when it
    declares one. A constructor with a ``seeds`` parameter also receives the campaign's seed
    molecules (the standardized SMILES of ``generator.seeds``, or of the bundled MOSES sample).

    Optional attributes: ``uses_gpu = True`` on the class sends its calls to a cluster's GPU
    workers (``[cluster]``; CPU workers otherwise), and a ``device`` attribute (``"cuda"``,
    ``"cpu"``) names where it samples, which becomes part of the generate stage's key when it
    is not the CPU. On a cluster the generator travels as its :meth:`state_dict`, so
    :meth:`load_state_dict` must restore everything :meth:`generate` and :meth:`update` read,
    including what :meth:`generate` leaves for :meth:`update`.
    """

    name: ClassVar[str]
    version: ClassVar[str]

    def generate(self, n: int, seed: int) -> list[str]:
        """Propose up to ``n`` SMILES strings; deterministic for a given state and ``seed``.

        The list may contain duplicates or strings later standardization rejects; the prepare
        stage handles both.
        """
        ...

    def update(self, smiles: Sequence[str], scores: Sequence[float]) -> None:
        """Learn from scored molecules (scores in [0, 1], higher is better)."""
        ...

    def state_dict(self) -> dict[str, Any]:
        """JSON-serializable state that :meth:`load_state_dict` restores."""
        ...

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the state written by :meth:`state_dict`."""
        ...

    def provenance(self) -> dict[str, Any]:
        """What identifies this generator in a candidate's provenance (name, version, hashes)."""
        ...


GENERATORS: Registry[Generator] = Registry("generator", "molgen.generators", Generator)
GENERATORS.register_lazy("selfies_rl", "molgen.generators.selfies_lm.agent:SelfiesRL")
