# Fitted lookup tables: the contract between the device stages and the network (columns, units and sidecar keys: docs/design.md).

rule tables:
    input:
        levels=f"{SYNAPSE_DIR}/levels.csv",
        updates=f"{SYNAPSE_DIR}/update.csv",
        transfer=f"{DW_DIR}/transfer.csv",
        synapse_run=f"{SYNAPSE_DIR}/run.json",
        dw_run=f"{DW_DIR}/run.json",
    output:
        expand(f"{TABLES_DIR}/{{name}}.{{ext}}", name=MAGNETIC_TABLE_NAMES, ext=["csv", "parquet", "json"]),
    params:
        synapse=stable(config["synapse"]),
        dw=stable(config["dw_activation"]),
        crossbar=stable(config["crossbar"]),
    log:
        "results/logs/tables.log",
    resources:
        **RESOURCES["tables"],
    conda:
        "../../envs/devices.yaml"
    script:
        "../scripts/tables.py"
