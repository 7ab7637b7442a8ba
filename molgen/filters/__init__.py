"""Filters: the :class:`Filter` interface, its registry and the built-in filters.

Importing this package registers the built-ins (``structural_alerts``, ``lipinski``, ``veber``,
``ring_systems``, ``unstable_groups`` and ``medchem``, whose library is imported only when such a
filter is built).
"""

# Importing the modules registers the built-in filters.
from molgen.filters import alerts, medchem_adapter, ring_systems, rules, stability  # noqa: F401
from molgen.filters.base import FILTERS, Filter

__all__ = ["FILTERS", "Filter"]
