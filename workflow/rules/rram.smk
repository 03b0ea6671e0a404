# The RRAM device stage: the compact model of passive Pt/Al2O3/TiO2-x RRAM (devices/rram.py) as the two RRAM tables,
# G-vs-pulse curves and an I-V plot (docs/rram.md). Its params are the `rram` section, the `crossbar` settings the
# stage uses (read voltage, wire, IR-drop bound; not the magnetic tile's size) and the seed: no magnetic
# stage depends on it, and nothing of it depends on them.

RRAM_DIR = "results/devices/rram"
RRAM_CROSSBAR_KEYS = ["read_voltage_V", "wire", "max_ir_drop_fraction"]


rule rram_device:
    output:
        curves=f"{RRAM_DIR}/pulse_curves.csv",
        curves_plot=report(f"{RRAM_DIR}/pulse_curves.png", caption="../report/rram_pulse_curves.rst",
                           category="Devices"),
        iv_plot=report(f"{RRAM_DIR}/iv.png", caption="../report/rram_iv.rst", category="Devices"),
        run=f"{RRAM_DIR}/run.json",
        tables=expand(f"{TABLES_DIR}/{{name}}.{{ext}}", name=RRAM_TABLE_NAMES, ext=["csv", "parquet", "json"]),
    params:
        rram=stable(config["rram"]),
        crossbar=stable({key: config["crossbar"][key] for key in RRAM_CROSSBAR_KEYS}),
        seed=config["seed"],
    log:
        "results/logs/rram_device.log",
    threads: 1
    resources:
        **RESOURCES["rram_device"],
    conda:
        "../../envs/devices.yaml"
    script:
        "../scripts/rram_device.py"
