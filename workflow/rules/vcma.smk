# The VCMA MTJ device stage: the switching probability of a voltage-controlled perpendicular MTJ at 300 K from the
# stochastic macrospin of devices/vcma.py, as the two VCMA tables and a plot (docs/vcma.md). Its params are the
# `vcma_mtj` section and the seed; nothing else depends on them yet.

VCMA_DIR = "results/devices/vcma_mtj"


rule vcma_device:
    output:
        plot=report(f"{VCMA_DIR}/switching.png", caption="../report/vcma_switching.rst", category="Devices"),
        run=f"{VCMA_DIR}/run.json",
        tables=expand(f"{TABLES_DIR}/{{name}}.{{ext}}", name=VCMA_TABLE_NAMES, ext=["csv", "parquet", "json"]),
    params:
        vcma=stable(config["vcma_mtj"]),
        seed=config["seed"],
    log:
        "results/logs/vcma_device.log",
    threads: 2
    resources:
        mem_mb=3000,
    conda:
        "../../envs/devices.yaml"
    script:
        "../scripts/vcma_device.py"
