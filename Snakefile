# Micromagnetics-to-DCGAN pipeline: device simulations -> fitted tables -> hardware-aware DCGAN -> summary;
# beside it the RRAM device stage (compact model -> the RRAM tables) and the VCMA MTJ stage (macrospin -> its tables).
#   snakemake --cores 2                                   full reproduction (config/config.yaml)
#   snakemake --cores 2 --configfile config/quick.yaml    minutes-scale profile
#   snakemake --report results/report.html                HTML report of the last run

configfile: "config/config.yaml"

include: "workflow/rules/common.smk"
include: "workflow/rules/devices.smk"
include: "workflow/rules/tables.smk"
include: "workflow/rules/rram.smk"
include: "workflow/rules/vcma.smk"
include: "workflow/rules/system.smk"
include: "workflow/rules/sweep.smk"
include: "workflow/rules/fcgan.smk"
include: "workflow/rules/ddpm.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        "results/summary.csv",
        "results/summary.png",
        expand(f"{TABLES_DIR}/{{name}}.parquet", name=RRAM_TABLE_NAMES),
        f"{MTJ_NOISE_DIR}/statistics.json",
        f"{TABLES_DIR}/synapse_thermal.parquet",
        expand("results/robustness/{dataset}/summary.csv", dataset=config["robustness"]["dataset"])
        if {"float", "hardware"} <= set(VARIANTS) and config["robustness"]["dataset"] in DATASETS else [],
        expand("results/robustness/{dataset}/training_spread.json", dataset=config["robustness"]["dataset"])
        if {"float", "hardware"} <= set(VARIANTS) and config["robustness"]["dataset"] in DATASETS
        and config["robustness"]["training_seeds"] else [],
        f"{SWEEP_DIR}/summary.csv" if SWEEP_VALUES else [],
        f"{DDPM_DIR}/summary.csv",
        f"{FCGAN_DIR}/summary.csv",
    default_target: True
