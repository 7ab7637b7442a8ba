"""``python -m molgen``: the same command line as the ``molgen`` script."""

from molgen.cli.main import app

app(prog_name="molgen")
