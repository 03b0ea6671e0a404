# Micromagnetic device stages. A changed device parameter reruns its stage (params trigger) and its dependants.

rule skyrmion_synapse:
    output:
        levels=f"{SYNAPSE_DIR}/levels.csv",
        updates=f"{SYNAPSE_DIR}/update.csv",
        run=f"{SYNAPSE_DIR}/run.json",
        levels_plot=report(f"{SYNAPSE_DIR}/levels.png", caption="../report/synapse_levels.rst", category="Devices"),
        maps_plot=report(f"{SYNAPSE_DIR}/mz_maps.png", caption="../report/synapse_maps.rst", category="Devices"),
        pulse_plot=report(f"{SYNAPSE_DIR}/pulse.png", caption="../report/synapse_pulse.rst", category="Devices"),
    params:
        synapse=stable(config["synapse"]),
        engine=ENGINE,
        seed=config["seed"],
    log:
        "results/logs/skyrmion_synapse.log",
    threads: 2  # level relaxations run in parallel processes
    resources:
        mem_mb=6000,
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
        mem_mb=4000,
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
        mem_mb=4000,
    conda:
        "../../envs/devices.yaml"
    script:
        "../scripts/dw_activation.py"
