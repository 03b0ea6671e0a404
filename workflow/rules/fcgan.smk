# The fully-connected GAN on passive RRAM crossbars (system/fcgan.py, docs/rram.md): the crossbar noise source's
# statistics, one training and one evaluation per run of fcgan.runs (variant/noise), and their summary.

FCGAN_RUNS = config["fcgan"]["runs"]
FCGAN_METRIC_KEYS = ["n_samples"]  # evaluation only: changing them does not retrain
FCGAN_ENERGY_KEYS = ["adc_fom_J_per_conversion_step", "dac_fom_J_per_conversion_step"]
RRAM_TABLES = expand(f"{TABLES_DIR}/{{name}}.parquet", name=RRAM_TABLE_NAMES)


wildcard_constraints:
    fcgan_variant="float|insitu|insitu_temporal|insitu_novar",
    noise="gaussian|uniform|crossbar",


# what each rule depends on: not `runs` (adding a run reruns no other), training not the metrics' keys
FCGAN_SETUP = stable({key: value for key, value in config["fcgan"].items() if key != "runs"})
FCGAN_TRAINING = {key: value for key, value in FCGAN_SETUP.items() if key not in FCGAN_METRIC_KEYS}
FCGAN_NOISE = {key: FCGAN_SETUP[key] for key in ("latent_dim", "noise_source", "n_samples")}


rule fcgan_noise:
    input:
        tables=RRAM_TABLES,
    output:
        stats=f"{FCGAN_DIR}/noise/statistics.json",
        plot=report(f"{FCGAN_DIR}/noise/noise.png", caption="../report/fcgan_noise.rst", category="RRAM GAN"),
    params:
        fcgan=FCGAN_NOISE,
        energy=stable({key: config["system"]["energy"][key] for key in FCGAN_ENERGY_KEYS}),
        seed=config["seed"],
        tables_dir=TABLES_DIR,
    log:
        "results/logs/fcgan/noise.log",
    threads: JAX_THREADS
    resources:
        **RESOURCES["fcgan_noise"],
    conda:
        "../../envs/system.yaml"
    script:
        "../scripts/fcgan_noise.py"


rule fcgan_train:
    input:
        tables=RRAM_TABLES,
    output:
        generator=f"{FCGAN_DIR}/{{fcgan_variant}}/{{noise}}/generator.pkl",
        history=f"{FCGAN_DIR}/{{fcgan_variant}}/{{noise}}/history.csv",
        run=f"{FCGAN_DIR}/{{fcgan_variant}}/{{noise}}/config.json",
        samples=report(f"{FCGAN_DIR}/{{fcgan_variant}}/{{noise}}/samples.png", caption="../report/fcgan_samples.rst",
                       category="RRAM GAN", labels={"variant": "{fcgan_variant}", "noise": "{noise}"}),
    params:
        fcgan=FCGAN_TRAINING,
        energy=stable({key: config["system"]["energy"][key] for key in FCGAN_ENERGY_KEYS}),
        seed=config["seed"],
        tables_dir=TABLES_DIR,
    log:
        "results/logs/fcgan/train_{fcgan_variant}_{noise}.log",
    threads: JAX_THREADS
    resources:
        **RESOURCES["fcgan_train"],
    conda:
        "../../envs/system.yaml"
    script:
        "../scripts/fcgan_train.py"


rule fcgan_evaluate:
    input:
        generator=f"{FCGAN_DIR}/{{fcgan_variant}}/{{noise}}/generator.pkl",
        history=f"{FCGAN_DIR}/{{fcgan_variant}}/{{noise}}/history.csv",
        run=f"{FCGAN_DIR}/{{fcgan_variant}}/{{noise}}/config.json",
        classifier=CLASSIFIER,
        tables=RRAM_TABLES,
    output:
        metrics=f"{FCGAN_DIR}/{{fcgan_variant}}/{{noise}}/metrics.json",
    params:
        fcgan=FCGAN_SETUP,
        energy=stable({key: config["system"]["energy"][key] for key in FCGAN_ENERGY_KEYS}),
        seed=config["seed"],
        tables_dir=TABLES_DIR,
    log:
        "results/logs/fcgan/evaluate_{fcgan_variant}_{noise}.log",
    threads: JAX_THREADS
    resources:
        **RESOURCES["fcgan_evaluate"],
    conda:
        "../../envs/system.yaml"
    script:
        "../scripts/fcgan_evaluate.py"


rule fcgan_summary:
    input:
        metrics=[f"{FCGAN_DIR}/{run}/metrics.json" for run in FCGAN_RUNS],
        history=[f"{FCGAN_DIR}/{run}/history.csv" for run in FCGAN_RUNS],
        noise=f"{FCGAN_DIR}/noise/statistics.json",
    output:
        table=report(f"{FCGAN_DIR}/summary.csv", caption="../report/fcgan_summary.rst", category="RRAM GAN"),
        plot=report(f"{FCGAN_DIR}/quality_energy.png", caption="../report/fcgan_quality_energy.rst",
                    category="RRAM GAN"),
        curves=report(f"{FCGAN_DIR}/training_curves.png", caption="../report/fcgan_training_curves.rst",
                      category="RRAM GAN"),
    log:
        "results/logs/fcgan/summary.log",
    resources:
        **RESOURCES["fcgan_summary"],
    conda:
        "../../envs/system.yaml"
    script:
        "../scripts/fcgan_summary.py"
