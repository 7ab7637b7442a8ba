"""molgen's bundled data sets, installed as ``molgen.data`` (see molgen/resources.py and
README.md here)."""
