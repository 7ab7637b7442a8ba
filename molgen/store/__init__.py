"""The ranked candidate store (SQLAlchemy; SQLite by default, PostgreSQL by URL)."""

from molgen.store.store import CandidateStore, StoreError

__all__ = ["CandidateStore", "StoreError"]
