"""Filters: the :class:`Filter` interface, its registry and the built-in filters.

Importing this package registers the built-ins (``structural_alerts``, ``lipinski``, ``veber``).
"""

from molgen.filters import alerts, rules  # noqa: F401  (registers the built-in filters)
from molgen.filters.base import FILTERS, Filter

__all__ = ["FILTERS", "Filter"]
