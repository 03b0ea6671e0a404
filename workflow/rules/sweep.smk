# A device-parameter sweep (config section `sweep`, pipeline/sweep.py): per value, one job reruns the device stage
# the key feeds and fits its tables (results/sweep/<value>/), one job evaluates the trained hardware generator on
# them; a summary puts quality and energy per image against the parameter. Values run side by side on a cluster.
import re

from pipeline import sweep as device_sweep

SWEEP = config["sweep"]
SWEEP_DIR = "results/sweep"
SWEEP_VALUES = {device_sweep.value_name(v): v for v in SWEEP["values"]}
SWEEP_TABLES = [*MAGNETIC_TABLE_NAMES, *(["synapse_thermal"] if config["system"]["crossbar"]["thermal_noise"] else [])]
SWEEP_RUN_DIR = f"results/system/{SWEEP['dataset']}"


wildcard_constraints:
    sweep_value="|".join(re.escape(name) for name in SWEEP_VALUES) or "no-sweep",


def swept_config(wildcards) -> dict:
    """The device sections with the swept key at this value."""
    swept = device_sweep.override(config, SWEEP["parameter"], SWEEP_VALUES[wildcards.sweep_value])
    return stable({key: swept[key] for key in ("synapse", "dw_activation", "crossbar", "synapse_thermal")})


rule sweep_devices:
    input:
        levels=f"{SYNAPSE_DIR}/levels.csv",  # the stage the key does not feed is reused as it is
        synapse_run=f"{SYNAPSE_DIR}/run.json",
        updates=f"{SYNAPSE_DIR}/update.csv",
        transfer=f"{DW_DIR}/transfer.csv",
        dw_run=f"{DW_DIR}/run.json",
    output:
        tables=expand(f"{SWEEP_DIR}/{{{{sweep_value}}}}/tables/{{name}}.parquet", name=SWEEP_TABLES),
    params:
        swept=swept_config,
        parameter=SWEEP["parameter"],
        value=lambda wildcards: SWEEP_VALUES[wildcards.sweep_value],
        thermal=config["system"]["crossbar"]["thermal_noise"],
        caches={"synapse": f"{SYNAPSE_DIR}/.cache", "dw_activation": f"{DW_DIR}/.cache",
                "synapse_thermal": f"{SYNAPSE_THERMAL_DIR}/.cache"},
        engine=ENGINE,
        seed=config["seed"],
    log:
        "results/logs/sweep_devices/{sweep_value}.log",
    threads: 2  # the thermal proxy levels in 2 processes
    resources:
        **RESOURCES["sweep_devices"],
    script:
        "../scripts/sweep_devices.py"


rule sweep_evaluate:
    input:
        tables=expand(f"{SWEEP_DIR}/{{{{sweep_value}}}}/tables/{{name}}.parquet", name=SWEEP_TABLES),
        generator=f"{SWEEP_RUN_DIR}/hardware/generator.pkl",
        run=f"{SWEEP_RUN_DIR}/hardware/config.json",
        update_counts=f"{SWEEP_RUN_DIR}/hardware/update_counts.csv",
        classifier=CLASSIFIER,
    output:
        f"{SWEEP_DIR}/{{sweep_value}}/metrics.json",
    params:
        run_dir=f"{SWEEP_RUN_DIR}/hardware",
        parameter=SWEEP["parameter"],
        value=lambda wildcards: SWEEP_VALUES[wildcards.sweep_value],
        n_samples=SWEEP["n_samples"],
        crossbar=stable(config["crossbar"]),
        energy=stable(config["system"]["energy"]),
        network_lrelu_curvature_ratio=config["dw_activation"]["network_lrelu_curvature_ratio"],
        seed=config["seed"],
    log:
        "results/logs/sweep_evaluate/{sweep_value}.log",
    threads: JAX_THREADS
    resources:
        **RESOURCES["sweep_evaluate"],
    script:
        "../scripts/sweep_evaluate.py"


rule sweep_summary:
    input:
        points=expand(f"{SWEEP_DIR}/{{sweep_value}}/metrics.json", sweep_value=SWEEP_VALUES),
        float_metrics=f"{SWEEP_RUN_DIR}/float/metrics.json",
        hardware_metrics=f"{SWEEP_RUN_DIR}/hardware/metrics.json",
    output:
        table=f"{SWEEP_DIR}/summary.csv",
        plot=report(f"{SWEEP_DIR}/sweep.png", caption="../report/sweep.rst", category="Summary"),
    params:
        parameter=SWEEP["parameter"],
        trained_value=device_sweep.current_value(config, SWEEP["parameter"]) if SWEEP_VALUES else None,
    log:
        "results/logs/sweep_summary.log",
    resources:
        **RESOURCES["sweep_summary"],
    script:
        "../scripts/sweep_summary.py"
