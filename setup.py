"""Package layout that pyproject.toml cannot express: the repository's top-level ``models/``
and ``data/`` folders install as ``molgen.models`` and ``molgen.data``, so the wheel carries
the trained checkpoints and bundled data (found with importlib.resources, see
molgen/resources.py). Everything else is declared in pyproject.toml."""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["molgen", "molgen.*", "flows", "flows.*"]),
        "molgen.models",
        "molgen.data",
    ],
    package_dir={"molgen.models": "models", "molgen.data": "data"},
)
