"""The ``molgen`` command line (typer)."""
