# The VCMA MTJ device stage: the switching probability of a voltage-controlled perpendicular MTJ at 300 K from the
# stochastic macrospin of devices/vcma.py, as the two VCMA tables and a plot (docs/vcma.md). Its params are the
# `vcma_mtj` section and the seed. Rule mtj_noise turns the devices' bits into Gaussian samples (system/mtj_noise.py).

VCMA_DIR = "results/devices/vcma_mtj"
MTJ_NOISE_DIR = "results/mtj_noise"


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
        **RESOURCES["vcma_device"],
    conda:
        "../../envs/devices.yaml"
    script:
        "../scripts/vcma_device.py"


rule mtj_noise:
    input:
        tables=expand(f"{TABLES_DIR}/{{name}}.parquet", name=VCMA_TABLE_NAMES),
    output:
        statistics=f"{MTJ_NOISE_DIR}/statistics.json",
        plot=report(f"{MTJ_NOISE_DIR}/noise.png", caption="../report/mtj_noise.rst", category="Devices"),
    params:
        tables_dir=TABLES_DIR,
        samples=config["mtj_noise"]["samples"],
        cmos_reference=stable(config["mtj_noise"]["cmos_reference"]),
        seed=config["seed"],
    log:
        "results/logs/mtj_noise.log",
    threads: 1
    resources:
        **RESOURCES["mtj_noise"],
    conda:
        "../../envs/devices.yaml"
    script:
        "../scripts/mtj_noise.py"
