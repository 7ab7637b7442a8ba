"""A registry of named components that also reads entry points and ``module:Class`` paths.

Every kind of component (generator, predictor, filter, docking engine) has one
:class:`Registry`. A name is resolved to a class, the class is checked against the kind's
protocol (without instantiating or calling anything), and only then may the caller construct it.

An import path ``package.module:Class`` imports the user's module the way ``python script.py``
would run it: module-level code runs. Shared deployments that must not import arbitrary modules
set ``MOLGEN_ALLOW_IMPORT_PATHS=0``; then only registered names and installed entry points
resolve (see :func:`import_paths_allowed`).
"""

from __future__ import annotations

import importlib
import inspect
import os
import typing
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

T = TypeVar("T")

ALLOW_IMPORT_PATHS_ENV = "MOLGEN_ALLOW_IMPORT_PATHS"
"""Environment variable: ``0`` (or ``false``, ``no``, ``off``) refuses ``module:Class`` names."""


class RegistryError(LookupError):
    """A component name that does not resolve to a class implementing the kind's protocol."""


def import_paths_allowed() -> bool:
    """Whether ``module:Class`` names may be imported (the one place that reads the setting).

    True unless :data:`ALLOW_IMPORT_PATHS_ENV` is ``0``, ``false``, ``no`` or ``off``.
    """
    value = os.environ.get(ALLOW_IMPORT_PATHS_ENV, "1").strip().lower()
    return value not in {"0", "false", "no", "off"}


def _is_classvar(annotation: Any) -> bool:
    if isinstance(annotation, str):
        return annotation.removeprefix("typing.").startswith("ClassVar")
    return typing.get_origin(annotation) is typing.ClassVar or annotation is typing.ClassVar


def protocol_members(protocol: type) -> tuple[list[str], list[str], list[str]]:
    """``(methods, class attributes, instance attributes)`` that ``protocol`` declares.

    Class attributes are those annotated ``ClassVar``; a class must define them itself. Other
    annotated attributes may be set by the constructor, so they are checked on instances.
    """
    annotations: dict[str, Any] = {}
    members: dict[str, Any] = {}
    for klass in reversed(protocol.__mro__):
        if klass is not typing.Protocol and getattr(klass, "_is_protocol", False):
            annotations.update(vars(klass).get("__annotations__", {}))
            members.update(vars(klass))
    methods = [n for n, v in members.items() if callable(v) and not n.startswith("_")]
    class_attrs = [n for n, a in annotations.items() if _is_classvar(a)]
    instance_attrs = [n for n, a in annotations.items() if not _is_classvar(a)]
    return methods, class_attrs, instance_attrs


class Registry(Generic[T]):
    """Maps names to component classes for one kind of component.

    A name resolves, in order, to: a class registered with :meth:`register` (or
    :meth:`register_lazy`); a Python entry point in the group ``group`` (so installed packages
    add components without editing molgen); or, if it contains a colon and
    :func:`import_paths_allowed`, an import path ``package.module:Class``. The result must be a
    class with the protocol's methods and class attributes, or :meth:`get` refuses it.
    """

    def __init__(self, kind: str, group: str, protocol: type | None = None) -> None:
        self.kind = kind
        self.group = group
        self.protocol = protocol
        self._items: dict[str, type[T]] = {}
        self._lazy: dict[str, str] = {}

    def register(self, name: str) -> Callable[[type[T]], type[T]]:
        """Class decorator registering ``cls`` under ``name``."""

        def decorator(cls: type[T]) -> type[T]:
            if name in self._items and self._items[name] is not cls:
                raise RegistryError(f"{self.kind} {name!r} is already registered")
            self._items[name] = cls
            self._lazy.pop(name, None)
            return cls

        return decorator

    def register_lazy(self, name: str, target: str) -> None:
        """Register ``name`` as molgen's own ``module:Class``, imported on first use (so heavy
        modules load only when a campaign asks for them; not subject to the import setting)."""
        if name not in self._items:
            self._lazy[name] = target

    def names(self) -> list[str]:
        """Registered and entry-point names, sorted."""
        found = set(self._items) | set(self._lazy)
        found.update(ep.name for ep in entry_points(group=self.group))
        return sorted(found)

    def get(self, name: str) -> type[T]:
        """The class for ``name``, checked against the protocol; nothing of it is called.

        Raises:
            RegistryError: no registration, entry point or import path matches; the import path
                cannot be imported or import paths are disabled; or the object found is not a
                class implementing the protocol. The message names ``name`` and the reason.
        """
        obj = self._resolve(name)
        self.check_class(name, obj)
        return obj

    def _resolve(self, name: str) -> Any:
        if name in self._items:
            return self._items[name]
        if name in self._lazy:
            return self._import(name, self._lazy[name])
        for ep in entry_points(group=self.group):
            if ep.name == name:
                try:
                    return ep.load()
                except (ImportError, AttributeError) as err:
                    raise RegistryError(
                        f"{self.kind} {name!r}: entry point {ep.value!r} fails to load: {err}"
                    ) from err
        if ":" not in name:
            known = ", ".join(self.names()) or "none"
            raise RegistryError(f"unknown {self.kind} {name!r} (known: {known})")
        if not import_paths_allowed():
            raise RegistryError(
                f"{self.kind} {name!r}: import paths are disabled ({ALLOW_IMPORT_PATHS_ENV}=0); "
                f"use a registered name or a {self.group!r} entry point "
                f"(known: {', '.join(self.names()) or 'none'})"
            )
        return self._import(name, name)

    def _import(self, name: str, target: str) -> Any:
        module_name, _, attr = target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as err:
            raise RegistryError(
                f"{self.kind} {name!r}: cannot import module {module_name!r}: {err}"
            ) from err
        try:
            return getattr(module, attr)
        except AttributeError as err:
            raise RegistryError(
                f"{self.kind} {name!r}: module {module_name!r} has no attribute {attr!r}"
            ) from err

    def check_class(self, name: str, obj: Any) -> None:
        """Refuse ``obj`` unless it is a class with the protocol's methods and class attributes.

        Raises:
            RegistryError: naming ``name``, what ``obj`` is, and what it lacks.
        """
        if not inspect.isclass(obj):
            raise RegistryError(
                f"{self.kind} {name!r} is a {type(obj).__name__}, not a class; molgen only "
                f"constructs classes that implement its {self.kind} interface"
            )
        if self.protocol is None:
            return
        methods, class_attrs, _ = protocol_members(self.protocol)
        missing = [m for m in methods if not callable(getattr(obj, m, None))]
        missing += [f"class attribute {a}" for a in class_attrs if not hasattr(obj, a)]
        if missing:
            raise RegistryError(
                f"{self.kind} {name!r}: class {obj.__module__}.{obj.__qualname__} does not "
                f"implement {self.protocol.__name__}: missing {', '.join(missing)}"
            )

    def check_instance(self, name: str, obj: Any) -> None:
        """Refuse a constructed component that lacks an attribute of the protocol.

        Raises:
            RegistryError: naming ``name`` and the missing attributes.
        """
        if self.protocol is None:
            return
        methods, class_attrs, instance_attrs = protocol_members(self.protocol)
        missing = [a for a in (*methods, *class_attrs, *instance_attrs) if not hasattr(obj, a)]
        if missing:
            raise RegistryError(
                f"{self.kind} {name!r}: {type(obj).__qualname__} instance does not implement "
                f"{self.protocol.__name__}: missing {', '.join(missing)}"
            )
