# The DDPM whose Gaussian noise comes from VCMA MTJs (system/ddpm.py, system/ddpm_run.py, docs/vcma.md): one
# training and one evaluation per noise of ddpm.runs (software, mtj, mtj_uncorrected), and their summary.

DDPM_RUNS = config["ddpm"]["runs"]
DDPM_METRIC_KEYS = ["n_samples"]  # evaluation only: changing them does not retrain


wildcard_constraints:
    ddpm_noise="software|mtj|mtj_uncorrected",


DDPM_SETUP = stable({key: value for key, value in config["ddpm"].items() if key != "runs"})
DDPM_TRAINING = {key: value for key, value in DDPM_SETUP.items() if key not in DDPM_METRIC_KEYS}


def ddpm_tables(wildcards):
    """The MTJ noise needs the VCMA tables; software noise does not wait for them."""
    if wildcards.ddpm_noise == "software":
        return []
    return expand(f"{TABLES_DIR}/{{name}}.parquet", name=VCMA_TABLE_NAMES)


rule ddpm_train:
    input:
        tables=ddpm_tables,
    output:
        model=f"{DDPM_DIR}/{{ddpm_noise}}/model.pkl",
        history=f"{DDPM_DIR}/{{ddpm_noise}}/history.csv",
        run=f"{DDPM_DIR}/{{ddpm_noise}}/config.json",
        samples=report(f"{DDPM_DIR}/{{ddpm_noise}}/samples.png", caption="../report/ddpm_samples.rst",
                       category="VCMA DDPM", labels={"noise": "{ddpm_noise}"}),
    params:
        ddpm=DDPM_TRAINING,
        seed=config["seed"],
        tables_dir=TABLES_DIR,
    log:
        "results/logs/ddpm/train_{ddpm_noise}.log",
    threads: JAX_THREADS
    resources:
        **RESOURCES["ddpm_train"],
    conda:
        "../../envs/system.yaml"
    script:
        "../scripts/ddpm_train.py"


rule ddpm_evaluate:
    input:
        model=f"{DDPM_DIR}/{{ddpm_noise}}/model.pkl",
        history=f"{DDPM_DIR}/{{ddpm_noise}}/history.csv",
        run=f"{DDPM_DIR}/{{ddpm_noise}}/config.json",
        classifier=CLASSIFIER,
        tables=ddpm_tables,
    output:
        metrics=f"{DDPM_DIR}/{{ddpm_noise}}/metrics.json",
    params:
        ddpm=DDPM_SETUP,
        seed=config["seed"],
        tables_dir=TABLES_DIR,
    log:
        "results/logs/ddpm/evaluate_{ddpm_noise}.log",
    threads: JAX_THREADS
    resources:
        **RESOURCES["ddpm_evaluate"],
    conda:
        "../../envs/system.yaml"
    script:
        "../scripts/ddpm_evaluate.py"


rule ddpm_summary:
    input:
        metrics=[f"{DDPM_DIR}/{noise}/metrics.json" for noise in DDPM_RUNS],
    output:
        table=report(f"{DDPM_DIR}/summary.csv", caption="../report/ddpm_summary.rst", category="VCMA DDPM"),
    log:
        "results/logs/ddpm/summary.log",
    resources:
        **RESOURCES["ddpm_summary"],
    conda:
        "../../envs/system.yaml"
    script:
        "../scripts/ddpm_summary.py"
