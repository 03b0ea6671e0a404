# Micromagnetic device stages. A changed device parameter reruns its stage (params trigger) and its dependants.

wildcard_constraints:
    job=r"\d+",

# The synapse stage scattered: its level relaxations in SYNAPSE_LEVEL_JOBS jobs and its write pulses in one more,
# gathered into levels.csv and run.json. One engine cache (SYNAPSE_DIR/.cache) serves them all.
SYNAPSE_LEVEL_JOBS = min(config["scatter"]["synapse_level_jobs"],
                         2 ** config["synapse"]["bits"] * config["synapse"]["ensemble"])


rule synapse_levels:
    output:
        rows=f"{SYNAPSE_DIR}/level_jobs/{{job}}.csv",
        states=f"{SYNAPSE_DIR}/level_jobs/{{job}}.npz",
    params:
        synapse=stable(config["synapse"]),
        engine=ENGINE,
        seed=config["seed"],
        jobs=SYNAPSE_LEVEL_JOBS,
    log:
        "results/logs/synapse_levels/{job}.log",
    threads: 1
    resources:
        **RESOURCES["synapse_levels"],
    conda:
        "../../envs/devices.yaml"
    script:
        "../scripts/synapse_levels.py"


rule synapse_update:
    output:
        updates=f"{SYNAPSE_DIR}/update.csv",
        run=f"{SYNAPSE_DIR}/update.json",
        pulse_plot=report(f"{SYNAPSE_DIR}/pulse.png", caption="../report/synapse_pulse.rst", category="Devices"),
    params:
        synapse=stable(config["synapse"]),
        engine=ENGINE,
    log:
        "results/logs/synapse_update.log",
    threads: 1
    resources:
        **RESOURCES["synapse_update"],
    conda:
        "../../envs/devices.yaml"
    script:
        "../scripts/synapse_update.py"


rule skyrmion_synapse:
    input:
        rows=expand(f"{SYNAPSE_DIR}/level_jobs/{{job}}.csv", job=range(SYNAPSE_LEVEL_JOBS)),
        states=expand(f"{SYNAPSE_DIR}/level_jobs/{{job}}.npz", job=range(SYNAPSE_LEVEL_JOBS)),
        update_run=f"{SYNAPSE_DIR}/update.json",
    output:
        levels=f"{SYNAPSE_DIR}/levels.csv",
        run=f"{SYNAPSE_DIR}/run.json",
        levels_plot=report(f"{SYNAPSE_DIR}/levels.png", caption="../report/synapse_levels.rst", category="Devices"),
        maps_plot=report(f"{SYNAPSE_DIR}/mz_maps.png", caption="../report/synapse_maps.rst", category="Devices"),
    params:
        synapse=stable(config["synapse"]),
        seed=config["seed"],
    log:
        "results/logs/skyrmion_synapse.log",
    threads: 1
    resources:
        **RESOURCES["skyrmion_synapse"],
    conda:
        "../../envs/devices.yaml"
    script:
        "../scripts/skyrmion_synapse.py"


rule synapse_thermal:
    input:
        levels=f"{SYNAPSE_DIR}/levels.csv",  # the full device's levels (the DW stage does not rerun this one)
    output:
        expand(f"{TABLES_DIR}/synapse_thermal.{{ext}}", ext=["csv", "parquet", "json"]),
        levels=f"{SYNAPSE_THERMAL_DIR}/levels.csv",
        run=f"{SYNAPSE_THERMAL_DIR}/run.json",
        plot=report(f"{SYNAPSE_THERMAL_DIR}/thermal.png", caption="../report/synapse_thermal.rst",
                    category="Devices"),
    params:
        synapse=stable(config["synapse"]),
        thermal=stable(config["synapse_thermal"]),
        read_time_s=config["crossbar"]["read_time_s"],
        engine=ENGINE,
        seed=config["seed"],
    log:
        "results/logs/synapse_thermal.log",
    threads: 2  # proxy levels run in parallel processes
    resources:
        **RESOURCES["synapse_thermal"],
    conda:
        "../../envs/devices.yaml"
    script:
        "../scripts/synapse_thermal.py"


rule dw_activation:
    output:
        transfer=f"{DW_DIR}/transfer.csv",
        wall=f"{DW_DIR}/wall.csv",
        run=f"{DW_DIR}/run.json",
        transfer_plot=report(f"{DW_DIR}/transfer.png", caption="../report/dw_transfer.rst", category="Devices"),
        position_plot=report(f"{DW_DIR}/dw_position.png", caption="../report/dw_position.rst", category="Devices"),
        settling_plot=report(f"{DW_DIR}/settling.png", caption="../report/dw_settling.rst", category="Devices"),
    params:
        dw=stable(config["dw_activation"]),
        engine=ENGINE,
    log:
        "results/logs/dw_activation.log",
    threads: 1
    resources:
        **RESOURCES["dw_activation"],
    conda:
        "../../envs/devices.yaml"
    script:
        "../scripts/dw_activation.py"
