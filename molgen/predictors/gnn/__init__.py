"""molgen's graph networks: featurization, GINE/AttentiveFP ensembles, checkpoints, training."""
