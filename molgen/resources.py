"""The models and data molgen ships, found inside the installed package.

The repository's top-level ``models/`` and ``data/`` folders are installed as the packages
``molgen.models`` and ``molgen.data`` (``setup.py`` maps them), so a wheel carries them and an
editable install reads them in place. Everything here goes through
:func:`importlib.resources.files`; nothing reads files relative to the repository.

Shipped models have names, the same everywhere (campaign files, ``molgen predict``, ``sample``,
``finetune``): see :data:`SHIPPED_MODELS` and ``molgen models``.
"""

from __future__ import annotations

import atexit
from contextlib import ExitStack
from dataclasses import dataclass
from importlib.resources import as_file, files
from pathlib import Path

_files = ExitStack()
atexit.register(_files.close)


class ResourceError(FileNotFoundError):
    """A shipped model or data file is missing from the installed package."""


class UnknownModelError(ValueError):
    """A model given by a name that no shipped model has and no file has."""


def _path(package: str, parts: tuple[str, ...]) -> Path:
    resource = files(package).joinpath(*parts)
    if not resource.is_file():
        raise ResourceError(
            f"{'/'.join(parts)} is missing from the installed package {package!r}; "
            "reinstall molgen (pip install molgen, or pip install -e . in a checkout)"
        )
    # A real file for installed wheels and checkouts; a temporary copy for zipped packages,
    # kept until the process ends.
    return _files.enter_context(as_file(resource))


def data_path(*parts: str) -> Path:
    """A file shipped in ``data/``, e.g. ``data_path("seeds", "moses_1k.smi")``."""
    return _path("molgen.data", parts)


def template_path(name: str) -> Path:
    """A file shipped in ``molgen/templates/``, e.g. ``"kubernetes-job.json"``."""
    return _path("molgen", ("templates", name))


@dataclass(frozen=True)
class ShippedModel:
    """A trained checkpoint shipped in ``models/``, with its model card beside it."""

    name: str
    kind: str  # "predictor" (molgen graph model) or "prior" (SELFIES language model)
    folder: str
    file: str
    what: str

    @property
    def path(self) -> Path:
        return _path("molgen.models", (self.folder, self.file))

    @property
    def card(self) -> Path:
        return _path("molgen.models", (self.folder, "README.md"))


SHIPPED_MODELS: dict[str, ShippedModel] = {
    m.name: m
    for m in (
        ShippedModel(
            "selfies-prior",
            "prior",
            "selfies-prior",
            "prior.safetensors",
            "SELFIES GRU prior trained on the MOSES training set",
        ),
        ShippedModel(
            "solubility",
            "predictor",
            "solubility",
            "model.safetensors",
            "aqueous solubility, log10(mol/L) (Huuskonen set)",
        ),
        ShippedModel(
            "hydration_free_energy",
            "predictor",
            "freesolv",
            "model.safetensors",
            "hydration free energy, kcal/mol (FreeSolv)",
        ),
    )
}


def shipped_model(name: str) -> ShippedModel:
    """The shipped model called ``name``.

    Raises:
        KeyError: no shipped model has that name (the message lists those that do).
    """
    try:
        return SHIPPED_MODELS[name]
    except KeyError:
        raise KeyError(
            f"no shipped model named {name!r}; shipped: {', '.join(SHIPPED_MODELS)}"
        ) from None


def model_file(value: str | Path, kind: str) -> Path:
    """A model given by shipped name or by file path, as a path.

    A name of a shipped model of ``kind`` wins over a file of the same name in the working
    folder only when no such file exists, so ``./solubility`` still means the file.

    A value that looks like a file (a folder part or a suffix) and names no file is returned
    as is: the model loader reports the missing file.

    Raises:
        UnknownModelError: ``value`` is a bare word that names neither a file nor a shipped
            model of ``kind``; the message lists the shipped models of ``kind``.
    """
    path = Path(value)
    if path.is_file():
        return path
    model = SHIPPED_MODELS.get(str(value))
    if model is not None and model.kind == kind:
        return model.path
    if path.suffix or len(path.parts) > 1:
        return path
    names = ", ".join(n for n, m in SHIPPED_MODELS.items() if m.kind == kind)
    raise UnknownModelError(
        f"{value}: no such file, and not the name of a shipped {kind} model ({names})"
    )
