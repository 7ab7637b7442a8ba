"""Stage checkpoints (Parquet + manifest) that let a killed campaign resume."""

from molgen.artifacts.checkpoint import StageCheckpoint, hash_frame, hash_json, run_batched

__all__ = ["StageCheckpoint", "hash_frame", "hash_json", "run_batched"]
