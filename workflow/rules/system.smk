# The hardware-aware DCGAN: classifier for the feature-space metrics, training, evaluation, summary.

from snakemake.exceptions import WorkflowError

TRAINING_KEYS = ["latent_dim", "batch_size", "learning_rate", "beta1", "epochs", "max_train_images",
                 "checkpoint_every_steps", "checkpoint_metric_samples"]


def training_params(wildcards):
    """What a training run depends on: changing metrics or energy settings must not retrain."""
    params = {key: config["system"].get(key) for key in TRAINING_KEYS}
    if wildcards.variant != "float":
        params["crossbar"] = config["system"]["crossbar"]
        params["network_lrelu_curvature_ratio"] = config["dw_activation"]["network_lrelu_curvature_ratio"]
    return stable(params)


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
        data_dir=config["data_dir"],
        download=config.get("download", True),
    threads: JAX_THREADS
    conda:
        "../../envs/system.yaml"
    script:
        "../scripts/classifier.py"


rule train:
    input:
        tables=tables_if_hardware,
        classifier=ancient(CLASSIFIER),  # scores the checkpoints; a retrained classifier does not retrain the GANs
    output:
        generator="results/system/{dataset}/{variant}/generator.pkl",
        history="results/system/{dataset}/{variant}/history.csv",
        samples=report("results/system/{dataset}/{variant}/samples.png", caption="../report/samples.rst",
                       category="Samples", subcategory="{dataset}", labels={"dataset": "{dataset}", "variant": "{variant}"}),
    params:
        training=training_params,
        seed=config["seed"],
        data_dir=config["data_dir"],
        download=config.get("download", True),
        tables_dir=TABLES_DIR,
        outdir=system_dir,
    wildcard_constraints:
        dataset="fashion_mnist|anime_faces",
        variant="float|hardware|hardware_synapses|hardware_activations",
    threads: JAX_THREADS
    conda:
        "../../envs/system.yaml"
    script:
        "../scripts/train.py"


rule evaluate:
    input:
        generator="results/system/{dataset}/{variant}/generator.pkl",
        classifier=CLASSIFIER,
        tables=tables_if_hardware,
    output:
        metrics="results/system/{dataset}/{variant}/metrics.json",
        energy="results/system/{dataset}/{variant}/energy.csv",
    params:
        metrics=stable(config["system"]["metrics"]),
        energy=stable(config["system"]["energy"]),
        network_lrelu_curvature_ratio=config["dw_activation"]["network_lrelu_curvature_ratio"],
        seed=config["seed"],
        data_dir=config["data_dir"],
        download=config.get("download", True),
        tables_dir=TABLES_DIR,
        outdir=system_dir,
    wildcard_constraints:
        dataset="fashion_mnist|anime_faces",
        variant="float|hardware|hardware_synapses|hardware_activations",
    threads: JAX_THREADS
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
    output:
        table=report("results/summary.csv", caption="../report/summary.rst", category="Summary"),
        plot=report("results/summary.png", caption="../report/summary_plot.rst", category="Summary"),
        energy_table="results/energy_breakdown.csv",
        energy_plot=report("results/energy_breakdown.png", caption="../report/energy_breakdown.rst",
                           category="Summary"),
        curves=report("results/training_curves.png", caption="../report/training_curves.rst", category="Summary"),
    conda:
        "../../envs/system.yaml"
    script:
        "../scripts/summary.py"
