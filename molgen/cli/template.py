"""The commented campaign file that ``molgen init`` writes."""

from __future__ import annotations

TEMPLATE = """\
# molgen campaign file. Run it with:  molgen run {filename}
# Relative paths are relative to this file's folder.

name = "{name}"                # letters, digits, '.', '_', '-'; names the campaign in the store
seed = 42                      # every random step is seeded from this
output = "runs/{name}"         # checkpoints (round-<k>/<stage>/) and the default SQLite store
# store = "postgresql+psycopg://user@host/molgen"   # default: SQLite file in the output folder
# Values the campaign computes for every molecule (registered names or package.module:Class).
# (Top-level keys like this one must come before the first [table] in a TOML file.)
predictors = ["qed", "sa_score", "logp", "mw", "tpsa", "hbd", "hba", "rotatable_bonds"]
# More: "solubility" (log10 mol/L) and "hydration_free_energy" (kcal/mol), molgen's shipped
# graph models; {{ kind = "admet_ai", params = {{ endpoints = ["hERG", "AMES"] }} }} (needs
# pip install 'molgen[admet]'); {{ kind = "mypackage.module:MyModel", params = {{ ... }} }}.

[target]
name = "{target}"              # a bundled target: see `molgen targets`

[generator]
kind = "graph_ga"              # graph genetic algorithm on RDKit molecular graphs (Jensen 2019)
# seeds = "my_actives.smi"     # SMILES file, one per line; default: 1,000 bundled MOSES molecules
population_size = 100          # the other keys are the generator's own parameters
mutation_rate = 0.1
# kind = "selfies_rl" (SELFIES prior + RL) or your own "package.module:Class" work the same way.

[budget]
rounds = 3                     # generate -> prepare -> predict -> filter -> score -> store, N times
molecules_per_round = 200
dock_per_round = 10            # the best filtered molecules by pre-docking score get docked

# Each objective maps a predicted value to a desirability in [0, 1] (linear, sigmoid or step),
# weighted into one score. Optional hard bounds reject molecules outside them.
[[objectives]]
value = "qed"
weight = 2.0
transform = {{ kind = "linear", low = 0.2, high = 0.9 }}

[[objectives]]
value = "sa_score"             # 1 (easy) .. 10 (hard) to synthesize
weight = 1.0
transform = {{ kind = "sigmoid", low = 5.0, high = 2.5 }}   # low > high: smaller is better
bounds = {{ max = 6.0 }}

[[objectives]]
value = "docking_score"        # Vina score, kcal/mol: more negative is better
weight = 2.0
transform = {{ kind = "linear", low = -5.0, high = -11.0 }}

[[objectives]]
value = "logp"
weight = 0.5
transform = {{ kind = "step", low = 0.0, high = 4.0 }}

[filters]
# Run in order; a rejected molecule keeps every reason. Registered names or package.module:Class,
# bare or as {{ kind = ..., params = {{ ... }} }}.
use = [
  {{ kind = "structural_alerts", params = {{ catalogs = ["PAINS", "BRENK", "NIH"] }} }},  # RDKit
  {{ kind = "lipinski", params = {{ max_violations = 1 }} }},  # rule of five: 1 violation allowed
  "veber",                                                 # rotatable bonds and TPSA
  "ring_systems",          # a ring system never seen in the MOSES training set (1.58 M molecules)
  "unstable_groups",       # enols, NH-enamines, anti-Bredt alkenes, azetes, allenes, radicals
  # {{ kind = "medchem", params = {{ checks = ["nibr", "complexity"] }} }},  # molgen[medchem]
]
# bounds = {{ hERG = {{ max = 0.5 }} }}  # hard limits on predicted values that are not objectives

[docking]
engine = "vina"                # AutoDock Vina 1.2; "vina-cli" runs a Vina-compatible program
exhaustiveness = 1
n_poses = 9
seed = 1                       # docking seed (>= 1), shared across campaigns with the cache
timeout_s = 600                # per ligand
# dask_local_workers = 4       # fan docking out over a local Dask cluster
# dask_address = "tcp://scheduler:8786"
# selection = "surrogate"      # a model of the docking score picks what to dock (README)
# surrogate = {{ acquisition = "ucb", beta = 2.0, random_fraction = 0.1 }}

[scoring]
aggregation = "weighted_sum"   # or "geometric_mean" (any zero desirability gives 0)

[runtime]
batch_size = 256               # molecules per checkpointed batch

# Where docking chunks and GPU predictors' batches run (README: Running on a SLURM cluster).
# [cluster]
# kind = "slurm"               # "local" (default), "dask" (with address) or "slurm"
# partition = "cpu"
# gpu_partition = "gpu"
# walltime = "02:00:00"
# max_jobs = 10
"""
