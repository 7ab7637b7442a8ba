"""molgen's trained checkpoints with their model cards, installed as ``molgen.models``
(see molgen/resources.py)."""
