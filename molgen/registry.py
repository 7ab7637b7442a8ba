"""A registry of named components that also reads entry points and ``module:Class`` paths."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Generic, TypeVar

T = TypeVar("T")


class RegistryError(LookupError):
    """A component name that no registration, entry point or import path resolves."""


class Registry(Generic[T]):
    """Maps names to component classes for one kind of component.

    A name resolves, in order, to: a class registered with :meth:`register`; a Python entry point
    in the group ``group`` (so installed packages add components without editing molgen); or,
    if it contains a colon, an import path ``package.module:Class``.
    """

    def __init__(self, kind: str, group: str) -> None:
        self.kind = kind
        self.group = group
        self._items: dict[str, type[T]] = {}

    def register(self, name: str) -> Callable[[type[T]], type[T]]:
        """Class decorator registering ``cls`` under ``name``."""

        def decorator(cls: type[T]) -> type[T]:
            if name in self._items and self._items[name] is not cls:
                raise RegistryError(f"{self.kind} {name!r} is already registered")
            self._items[name] = cls
            return cls

        return decorator

    def names(self) -> list[str]:
        """Registered and entry-point names, sorted."""
        found = set(self._items)
        found.update(ep.name for ep in entry_points(group=self.group))
        return sorted(found)

    def get(self, name: str) -> type[T]:
        """The class for ``name``.

        Raises:
            RegistryError: if no registration, entry point or import path matches, or the
                import path cannot be imported; the message names ``name`` and the reason.
        """
        if name in self._items:
            return self._items[name]
        for ep in entry_points(group=self.group):
            if ep.name == name:
                cls = ep.load()
                self._items[name] = cls
                return cls
        if ":" in name:
            module_name, _, attr = name.partition(":")
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
        known = ", ".join(self.names()) or "none"
        raise RegistryError(f"unknown {self.kind} {name!r} (known: {known})")
