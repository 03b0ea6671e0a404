"""Rule train: train the DCGAN of one dataset and variant (float baseline or hardware) from its training.json,
resuming if interrupted; the classifier scores each checkpoint's samples (history.csv, classifier_fd)."""
import json
import os
from pathlib import Path

DEVICES = int(snakemake.config["system"]["data_parallel_devices"])
if DEVICES > 1:  # before JAX starts: on a CPU, that many virtual devices (system/parallel.py)
    os.environ["XLA_FLAGS"] = " ".join(filter(None, [os.environ.get("XLA_FLAGS"),
                                                     f"--xla_force_host_platform_device_count={DEVICES}"]))

from system import classifier, train  # noqa: E402
from system.data import load_images  # noqa: E402
from system.tables import load_device_tables  # noqa: E402
from workflow.rule_log import log_to  # noqa: E402

log_to(snakemake.log[0])
setup = json.loads(Path(snakemake.input.setup).read_text())
dataset, variant, system = setup["dataset"], setup["variant"], setup["system"]
images = load_images(dataset, snakemake.config["data_dir"], limit=system["max_train_images"])
tables = (load_device_tables(Path(snakemake.params.tables_dir), setup["network_lrelu_curvature_ratio"],
                             thermal=system["crossbar"]["thermal_noise"])
          if variant != "float" else None)
classifier_params = classifier.load_classifier(Path(snakemake.input.classifier))
train.train(system, dataset, variant, images, tables, Path(snakemake.params.outdir), seed=setup["seed"],
            devices=DEVICES,
            classifier_features=lambda fake: classifier.dataset_features(classifier_params, fake))
