"""Component specs: a campaign's named component resolved, checked and its parameters validated.

Every kind of component goes the same way: the registry resolves the name and checks the class
against the kind's protocol (nothing is called); the parameters are validated against the
class's pydantic ``Params`` model when it declares one, else bound to its constructor's
signature; only :meth:`ComponentSpec.build` calls the class. Resolving and validating is cheap
(no model is loaded), so it runs before a campaign starts and whenever a cache key needs the
parameters.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import to_jsonable_python

from molgen.config import CampaignError
from molgen.registry import Registry, RegistryError


@dataclass(frozen=True)
class ComponentSpec:
    """A resolved component.

    Attributes:
        where: the campaign-file field that names it (``predictors[1]``, ``generator``, ...).
        kind: the name as written in the campaign file.
        cls: the class, checked against the kind's protocol.
        params: validated constructor keyword arguments, defaults filled in when the class
            declares ``Params``.
        data: ``params`` as JSON-able data (paths as strings).
    """

    where: str
    kind: str
    cls: type
    params: dict[str, Any]
    data: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        """``{"kind": ..., "params": {...}}``, JSON-able."""
        return {"kind": self.kind, "params": self.data}

    def build(self, registry: Registry[Any], **extra: Any) -> Any:
        """Construct the component with its parameters (plus ``extra``, e.g. seed molecules).

        Raises:
            CampaignError: the constructor failed (e.g. a model file that is not a model) or the
                instance lacks an attribute of the protocol; the message names :attr:`where`.
        """
        try:
            obj = self.cls(**self.params, **extra)
        except (TypeError, ValueError, OSError, ImportError, RuntimeError) as err:
            raise CampaignError(f"{self.where} ({self.kind}): {err}") from err
        try:
            registry.check_instance(self.kind, obj)
        except RegistryError as err:
            raise CampaignError(f"{self.where}: {err}") from err
        return obj


def takes_argument(cls: type, name: str) -> bool:
    """Whether ``cls``'s constructor has a parameter called ``name``."""
    try:
        return name in inspect.signature(cls).parameters
    except (TypeError, ValueError):  # no signature to read (e.g. a C extension class)
        return False


def resolve_spec(
    registry: Registry[Any],
    where: str,
    kind: str,
    params: Mapping[str, Any],
    label: str = "params.",
    supplied: Mapping[str, Any] | None = None,
) -> ComponentSpec:
    """Resolve ``kind`` and validate ``params`` without calling the class.

    Args:
        where: field path for messages, e.g. ``predictors[1]``.
        label: prefix of a parameter in messages (``params.`` or ``generator.``).
        supplied: arguments molgen adds at construction when the constructor names them (e.g.
            ``seeds``), used only to check a constructor's signature when the class declares
            no ``Params``.

    Raises:
        CampaignError: unknown or refused class, or invalid parameters; the message names
            ``where``, the kind and each failing parameter as ``<label><field>``.
    """
    try:
        cls = registry.get(kind)
    except RegistryError as err:
        raise CampaignError(f"{where}: {err}") from err
    schema = getattr(cls, "Params", None)
    if schema is None:
        added = {k: v for k, v in (supplied or {}).items() if takes_argument(cls, k)}
        _bind(cls, where, kind, params, added)
        return ComponentSpec(where, kind, cls, dict(params), to_jsonable_python(dict(params)))
    if not (inspect.isclass(schema) and issubclass(schema, BaseModel)):
        raise CampaignError(f"{where} ({kind}): Params must be a pydantic model, not {schema!r}")
    try:
        model = schema.model_validate(dict(params))
    except ValidationError as err:
        problems = "; ".join(_problem(e, label) for e in err.errors())
        raise CampaignError(f"{where} ({kind}): {problems}") from err
    return ComponentSpec(where, kind, cls, model.model_dump(), model.model_dump(mode="json"))


def _problem(error: Any, label: str) -> str:
    field = ".".join(map(str, error["loc"])) or "(all)"
    value = error.get("input")
    shown = not isinstance(value, dict | list) and error["type"] != "missing"
    return f"{label}{field}: {error['msg']}" + (f" (got {value!r})" if shown else "")


def _bind(
    cls: type, where: str, kind: str, params: Mapping[str, Any], supplied: Mapping[str, Any]
) -> None:
    """Check ``params`` against the constructor's signature (nothing is called)."""
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):
        return
    try:
        signature.bind(**supplied, **params)
    except TypeError as err:
        raise CampaignError(f"{where} ({kind}): {err}") from err
