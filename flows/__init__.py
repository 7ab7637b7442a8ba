"""molgen's Prefect flows (thin: each task calls a molgen function)."""

from molgen.prefect_env import configure_prefect_defaults

configure_prefect_defaults()
