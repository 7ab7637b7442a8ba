"""What the campaign lock and the docking claims share: rows that say "this run is alive" in
UTC time, tables of their own created on first use, and a heartbeat thread that refreshes them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine, MetaData
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """A stored time as an aware UTC datetime (SQLite returns naive ones, written in UTC)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def create_tables(metadata: MetaData, engine: Engine) -> None:
    """Create ``metadata``'s tables where missing; another process creating them at the same
    moment makes one attempt fail, and the next finds them."""
    for attempt in range(3):
        try:
            metadata.create_all(engine, checkfirst=True)
            return
        except DBAPIError:
            if attempt == 2:
                raise


class Heartbeat:
    """Calls ``beat`` every ``every_s`` seconds from a daemon thread between :meth:`start` and
    :meth:`stop` (or in a ``with`` block). A database error skips one beat; ``beat`` returning
    False ends the thread."""

    def __init__(self, every_s: float, beat: Callable[[], bool | None], name: str) -> None:
        self.every_s, self.beat, self.name = every_s, beat, name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                if self.beat() is False:
                    return
            except DBAPIError as err:  # the store is away for a moment: next beat
                log.warning("%s heartbeat failed: %s", self.name, err)

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Heartbeat:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
