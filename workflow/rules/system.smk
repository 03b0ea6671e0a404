# The hardware-aware DCGAN: classifier for the feature-space metrics, training, evaluation, summary.

from snakemake.exceptions import WorkflowError

from system import robustness

TRAINING_KEYS = ["latent_dim", "batch_size", "learning_rate", "beta1", "max_train_images",
                 "checkpoint_every_steps", "checkpoint_metric_samples"]
RUN_DIR = "results/system/{dataset}/{variant}"
TRAINING_SEED_DIR = "results/training_seeds/{training_seed}/{dataset}/{variant}"  # robustness.training_seeds' runs


wildcard_constraints:
    dataset="fashion_mnist|anime_faces",
    variant="float|hardware|hardware_synapses|hardware_activations",
    point=robustness.WILDCARD,
    training_seed=r"\d+",


def training_setup(wildcards):
    """Everything a training run depends on besides its input files: changing metrics or energy settings,
    or another dataset's epochs, must not retrain it."""
    system = {key: config["system"].get(key) for key in TRAINING_KEYS}
    system["epochs"] = {wildcards.dataset: config["system"]["epochs"][wildcards.dataset]}
    seed = int(getattr(wildcards, "training_seed", config["seed"]))  # a training seed's run, or the main runs
    setup = {"dataset": wildcards.dataset, "variant": wildcards.variant, "seed": seed, "system": system}
    if wildcards.variant != "float":
        system["crossbar"] = dict(config["system"]["crossbar"])
        if system["crossbar"]["read_noise"] or system["crossbar"]["ir_drop"]:  # the tile's figures, only then
            system["crossbar"]["tile"] = {k: config["crossbar"][k] for k in ("read_voltage_V", "read_time_s",
                                                                             "temperature_K", "tile_rows",
                                                                             "tile_columns")}
        setup["network_lrelu_curvature_ratio"] = config["dw_activation"]["network_lrelu_curvature_ratio"]
    return stable(setup)


CLASSIFIER = "results/system/fashion_mnist/classifier/classifier.pkl"
# XLA spreads one JAX job over every core (on a GPU it holds the accelerator's memory): the JAX rules run one at a
# time, so that two trainings do not share the cores and their throughputs are each measured alone
try:
    JAX_THREADS = workflow.cores
except WorkflowError:  # no --cores given: --report or a listing, which run no job
    JAX_THREADS = 1


rule classifier:
    output:
        weights=CLASSIFIER,
        accuracy="results/system/fashion_mnist/classifier/accuracy.json",
    params:
        epochs=config["system"]["metrics"].get("classifier_epochs", 5),
        train_images=config["system"]["metrics"].get("classifier_train_images", 0),
        seed=config["seed"],
    log:
        "results/logs/classifier.log",
    threads: JAX_THREADS
    resources:
        **RESOURCES["classifier"],
    conda:
        "../../envs/system.yaml"
    script:
        "../scripts/classifier.py"


# The training setup as a file: a changed setup reruns this job, whose newer output retrains the run. As a
# params trigger of the train rule alone it was missed whenever the classifier reran in the same invocation
# (Snakemake then skips the params check of jobs downstream of a job that reruns, and the classifier input
# is ancient).
rule training_setup:
    output:
        f"{RUN_DIR}/training.json",
    params:
        setup=training_setup,
    log:
        "results/logs/training_setup/{dataset}_{variant}.log",
    resources:
        **RESOURCES["training_setup"],
    script:
        "../scripts/training_setup.py"


rule train:
    input:
        setup=f"{RUN_DIR}/training.json",
        tables=tables_if_hardware,
        classifier=ancient(CLASSIFIER),  # scores the checkpoints; a retrained classifier does not retrain the GANs
    output:
        generator=f"{RUN_DIR}/generator.pkl",
        discriminator=f"{RUN_DIR}/discriminator.pkl",
        run=f"{RUN_DIR}/config.json",
        history=f"{RUN_DIR}/history.csv",
        update_counts=f"{RUN_DIR}/update_counts.csv",
        samples=report(f"{RUN_DIR}/samples.png", caption="../report/samples.rst",
                       category="Samples", subcategory="{dataset}", labels={"dataset": "{dataset}", "variant": "{variant}"}),
    params:
        tables_dir=TABLES_DIR,
        outdir=system_dir,
    log:
        "results/logs/train/{dataset}_{variant}.log",
    threads: JAX_THREADS
    resources:
        **RESOURCES["train"],
    conda:
        "../../envs/system.yaml"
    script:
        "../scripts/train.py"


# The same training at another seed (robustness.training_seeds), in its own directory: the training spread scores them
use rule training_setup as training_setup_seed with:
    output:
        f"{TRAINING_SEED_DIR}/training.json",
    log:
        "results/logs/training_setup/{dataset}_{variant}_seed{training_seed}.log",


use rule train as train_seed with:
    input:
        setup=f"{TRAINING_SEED_DIR}/training.json",
        tables=tables_if_hardware,
        classifier=ancient(CLASSIFIER),
    output:
        generator=f"{TRAINING_SEED_DIR}/generator.pkl",
        discriminator=f"{TRAINING_SEED_DIR}/discriminator.pkl",
        run=f"{TRAINING_SEED_DIR}/config.json",
        history=f"{TRAINING_SEED_DIR}/history.csv",
        update_counts=f"{TRAINING_SEED_DIR}/update_counts.csv",
        samples=f"{TRAINING_SEED_DIR}/samples.png",
    params:
        tables_dir=TABLES_DIR,
        outdir=lambda wildcards: TRAINING_SEED_DIR.format(**dict(wildcards.items())),
    log:
        "results/logs/train/{dataset}_{variant}_seed{training_seed}.log",


rule evaluate:
    input:
        setup=f"{RUN_DIR}/training.json",
        generator=f"{RUN_DIR}/generator.pkl",
        discriminator=f"{RUN_DIR}/discriminator.pkl",
        run=f"{RUN_DIR}/config.json",
        history=f"{RUN_DIR}/history.csv",
        update_counts=f"{RUN_DIR}/update_counts.csv",
        classifier=CLASSIFIER,
        tables=tables_if_hardware,
    output:
        metrics=f"{RUN_DIR}/metrics.json",
        energy=f"{RUN_DIR}/energy.csv",
    params:
        metrics=stable(config["system"]["metrics"]),
        energy=stable(config["system"]["energy"]),
        crossbar=stable(config["crossbar"]),  # tiles, read voltage and time
        network_lrelu_curvature_ratio=config["dw_activation"]["network_lrelu_curvature_ratio"],
        seed=config["seed"],
        tables_dir=TABLES_DIR,
        outdir=system_dir,
    log:
        "results/logs/evaluate/{dataset}_{variant}.log",
    threads: JAX_THREADS
    resources:
        **RESOURCES["evaluate"],
    conda:
        "../../envs/system.yaml"
    script:
        "../scripts/evaluate.py"


rule summary:
    input:
        metrics=expand("results/system/{dataset}/{variant}/metrics.json", dataset=DATASETS, variant=VARIANTS),
        energy=expand("results/system/{dataset}/hardware/energy.csv", dataset=DATASETS)
        if "hardware" in VARIANTS else [],
        history=expand("results/system/{dataset}/{variant}/history.csv", dataset=DATASETS, variant=VARIANTS),
        fcgan=f"{FCGAN_DIR}/summary.csv",
        ddpm=f"{DDPM_DIR}/summary.csv",
    output:
        table=report("results/summary.csv", caption="../report/summary.rst", category="Summary"),
        plot=report("results/summary.png", caption="../report/summary_plot.rst", category="Summary"),
        energy_table="results/energy_breakdown.csv",
        energy_plot=report("results/energy_breakdown.png", caption="../report/energy_breakdown.rst",
                           category="Summary"),
        curves=report("results/training_curves.png", caption="../report/training_curves.rst", category="Summary"),
        sidecar="results/summary.json",  # each DCGAN hardware run's non-idealities and their sources
        report_table="results/summary_report.rst",  # the report's front page includes it (workflow.rst)
    log:
        "results/logs/summary.log",
    resources:
        **RESOURCES["summary"],
    conda:
        "../../envs/system.yaml"
    script:
        "../scripts/summary.py"


ROBUSTNESS_DIR = "results/robustness/{dataset}"


rule robustness_point:
    input:
        generator="results/system/{dataset}/hardware/generator.pkl",
        classifier=CLASSIFIER,
    output:
        f"{ROBUSTNESS_DIR}/points/{{point}}.json",
    params:
        outdir=lambda wildcards: f"results/system/{wildcards.dataset}/hardware",
        n_samples=config["robustness"]["n_samples"],
        seed=config["seed"],
    log:
        "results/logs/robustness/{dataset}_{point}.log",
    threads: JAX_THREADS
    resources:
        **RESOURCES["robustness_point"],
    conda:
        "../../envs/system.yaml"
    script:
        "../scripts/robustness_point.py"


rule sample_spread:
    input:
        float_generator="results/system/{dataset}/float/generator.pkl",
        hardware_generator="results/system/{dataset}/hardware/generator.pkl",
        classifier=CLASSIFIER,
    output:
        table=f"{ROBUSTNESS_DIR}/sample_spread.csv",
        stats=f"{ROBUSTNESS_DIR}/sample_spread.json",
    params:
        float_dir=lambda wildcards: f"results/system/{wildcards.dataset}/float",
        hardware_dir=lambda wildcards: f"results/system/{wildcards.dataset}/hardware",
        n_samples=config["robustness"]["n_samples"],
        seeds=config["robustness"]["sample_seeds"],
    log:
        "results/logs/robustness/{dataset}_sample_spread.log",
    threads: JAX_THREADS
    resources:
        **RESOURCES["sample_spread"],
    conda:
        "../../envs/system.yaml"
    script:
        "../scripts/sample_spread.py"


def training_runs(wildcards) -> list[tuple[str, int, str]]:
    """(variant, training seed, run directory) of float and hardware at `seed` and at each robustness.training_seeds."""
    return [(variant, seed, RUN_DIR.format(dataset=wildcards.dataset, variant=variant) if seed == config["seed"] else
             TRAINING_SEED_DIR.format(training_seed=seed, dataset=wildcards.dataset, variant=variant))
            for seed in [config["seed"], *config["robustness"]["training_seeds"]] for variant in ("float", "hardware")]


rule training_spread:
    input:
        generators=lambda wildcards: [f"{run_dir}/generator.pkl" for _, _, run_dir in training_runs(wildcards)],
        classifier=CLASSIFIER,
    output:
        table=f"{ROBUSTNESS_DIR}/training_spread.csv",
        stats=f"{ROBUSTNESS_DIR}/training_spread.json",
        plot=report(f"{ROBUSTNESS_DIR}/training_spread.png", caption="../report/training_spread.rst",
                    category="Summary"),
    params:
        runs=training_runs,
        n_samples=config["robustness"]["n_samples"],
        sample_seeds=config["robustness"]["sample_seeds"],
    log:
        "results/logs/robustness/{dataset}_training_spread.log",
    threads: JAX_THREADS
    resources:
        **RESOURCES["training_spread"],
    conda:
        "../../envs/system.yaml"
    script:
        "../scripts/training_spread.py"


rule robustness_summary:
    input:
        points=lambda wildcards: expand(f"{ROBUSTNESS_DIR}/points/{{point}}.json", dataset=wildcards.dataset,
                                        point=robustness.points(config["robustness"])),
        float_metrics="results/system/{dataset}/float/metrics.json",
        spread=f"{ROBUSTNESS_DIR}/sample_spread.json",
    output:
        table=f"{ROBUSTNESS_DIR}/summary.csv",
        first=f"{ROBUSTNESS_DIR}/summary.json",
        plot=report(f"{ROBUSTNESS_DIR}/robustness.png", caption="../report/robustness.rst", category="Summary"),
    log:
        "results/logs/robustness/{dataset}_summary.log",
    resources:
        **RESOURCES["robustness_summary"],
    script:
        "../scripts/robustness_summary.py"
