# Shared set-up: config validation (before any job), engine choice, paths and the environment of the scripts.
import os
import sys
from pathlib import Path

sys.path.insert(0, workflow.basedir)
from pipeline.table_contract import MAGNETIC_TABLE_NAMES, RRAM_TABLE_NAMES, VCMA_TABLE_NAMES
from workflow.config_check import ConfigError, validate

try:  # keys, values, data and engine; the config files themselves are read by Snakemake (reproduce.sh checks them)
    validate(config)
except ConfigError as error:
    print(f"config error: {error}", file=sys.stderr)
    sys.exit(1)

# the scripts import the project's packages and must not trigger torch.compile on small CPU problems
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [workflow.basedir, os.environ.get("PYTHONPATH")]))
os.environ.setdefault("TORCHDYNAMO_DISABLE", "1")

ENGINE = config["engine"]
SYNAPSE_DIR = "results/devices/skyrmion_synapse"
DW_DIR = "results/devices/dw_activation"
SYNAPSE_THERMAL_DIR = "results/devices/synapse_thermal"
TABLES_DIR = "results/tables"
FCGAN_DIR = "results/fcgan"  # the RRAM FC-GAN runs (fcgan.smk); the summary rule reads their table
DDPM_DIR = "results/ddpm"  # the DDPM runs (ddpm.smk); the summary rule reads their table
DATASETS = config["system"]["datasets"]
VARIANTS = config["system"]["variants"]


# Resources of each rule's jobs for a scheduler (profiles/slurm): mem_mb (MB) and runtime (minutes), from the jobs'
# measured wall time and peak memory (their logs' last line, workflow/rule_log.py) on the full profile, 2 cores,
# 2026-12-07 unless noted, with room: memory about 1.5x the peak, time 3-5x (a cluster core may be slower; the
# JAX jobs get 8 cores there). docs/design.md#scale has the measured figures beside them.
def _train_runtime(wildcards):
    """Minutes: Fashion-MNIST 25 epochs took 35 min (float) and 1 h 10 min (hardware) on 2 cores; Anime Face needs a
    GPU (about 1 h per epoch on 2 cores, session 2026-12-04): on CPU, 2 days."""
    return 240 if wildcards.dataset == "fashion_mnist" else 2880


RESOURCES = {
    "synapse_levels": {"mem_mb": 1500, "runtime": 10},   # 77-111 s (80 states), 1009 MB
    "synapse_update": {"mem_mb": 1000, "runtime": 10},   # 78 s, 650 MB
    "skyrmion_synapse": {"mem_mb": 1000, "runtime": 5},  # 1 s
    "dw_activation": {"mem_mb": 1000, "runtime": 15},    # 155 s, 650 MB
    "tables": {"mem_mb": 1000, "runtime": 5},            # < 1 s
    "synapse_thermal": {"mem_mb": 2500, "runtime": 30},  # 548 s, 700 MB in each of its 3 processes
    "sweep_devices": {"mem_mb": 2500, "runtime": 30},    # the thermal stage on its cache, the swept stage on its own
    "rram_device": {"mem_mb": 2000, "runtime": 5},       # 0.8 s (2026-12-06)
    "vcma_device": {"mem_mb": 3000, "runtime": 10},      # 65-101 s
    "mtj_noise": {"mem_mb": 2000, "runtime": 5},         # 15 s
    "classifier": {"mem_mb": 3000, "runtime": 30},       # 4.0 min (2026-12-05)
    "training_setup": {"mem_mb": 1000, "runtime": 5},
    "train": {"mem_mb": 3000, "runtime": _train_runtime},  # hardware 1.3 GB resident while training
    "evaluate": {"mem_mb": 3000, "runtime": 30},         # float 5 s, 728 MB; hardware with its energy trace
    "robustness_point": {"mem_mb": 3000, "runtime": 15},
    "robustness_summary": {"mem_mb": 1000, "runtime": 5},
    "sample_spread": {"mem_mb": 3000, "runtime": 30},
    "training_spread": {"mem_mb": 3000, "runtime": 60},   # 10 evaluations per training seed, ~10 s each
    "sweep_evaluate": {"mem_mb": 3000, "runtime": 30},   # as evaluate
    "sweep_summary": {"mem_mb": 1000, "runtime": 5},
    "summary": {"mem_mb": 2000, "runtime": 10},
    "fcgan_noise": {"mem_mb": 2000, "runtime": 10},
    "fcgan_train": {"mem_mb": 3000, "runtime": 60},      # 6 runs and their evaluations in 46 min (2026-12-06)
    "fcgan_evaluate": {"mem_mb": 3000, "runtime": 30},
    "fcgan_summary": {"mem_mb": 1000, "runtime": 5},
    "ddpm_train": {"mem_mb": 3000, "runtime": 120},      # 19-27 min
    "ddpm_evaluate": {"mem_mb": 3000, "runtime": 120},   # 17-30 min for 10,000 samples
    "ddpm_summary": {"mem_mb": 1000, "runtime": 5},
}


def stable(value):
    """A config value with dict keys sorted at every level: Snakemake compares params by their text, and the
    key order of a merged config follows the override files, which must not count as a change."""
    if isinstance(value, dict):
        return {key: stable(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [stable(item) for item in value]
    return value


def system_dir(wildcards):
    return f"results/system/{wildcards.dataset}/{wildcards.variant}"


def tables_if_hardware(wildcards):
    """The magnetic device tables, for the hardware variants only: the float baseline never waits for the devices."""
    if wildcards.variant == "float":
        return []
    thermal = ["synapse_thermal"] if config["system"]["crossbar"]["thermal_noise"] else []
    return expand(f"{TABLES_DIR}/{{name}}.parquet", name=[*MAGNETIC_TABLE_NAMES, *thermal])
