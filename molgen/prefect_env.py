"""Defaults for Prefect's settings in molgen's own runs; call before importing prefect.

On 2 cores Prefect's temporary server needs 15-20 s to start, close to its default 20 s
timeout, so molgen raises the timeout; analytics are switched off because campaigns often run
without network. A value the user set in the environment always wins.
"""

from __future__ import annotations

import os

DEFAULTS = {
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
}


def configure_prefect_defaults() -> None:
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)
