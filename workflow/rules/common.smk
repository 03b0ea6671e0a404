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
