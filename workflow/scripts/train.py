"""Rule train: train the DCGAN of one dataset and variant (float baseline or hardware) from its training.json,
resuming if interrupted; the classifier scores each checkpoint's samples (history.csv, classifier_fd)."""
import json
from pathlib import Path

from system import classifier, train
from system.data import load_images
from system.tables import load_device_tables
from workflow.rule_log import log_to

log_to(snakemake.log[0])
setup = json.loads(Path(snakemake.input.setup).read_text())
dataset, variant, system = setup["dataset"], setup["variant"], setup["system"]
images = load_images(dataset, snakemake.config["data_dir"], limit=system["max_train_images"])
tables = (load_device_tables(Path(snakemake.params.tables_dir), setup["network_lrelu_curvature_ratio"],
                             thermal=system["crossbar"]["thermal_noise"])
          if variant != "float" else None)
classifier_params = classifier.load_classifier(Path(snakemake.input.classifier))
train.train(system, dataset, variant, images, tables, Path(snakemake.params.outdir), seed=setup["seed"],
            classifier_features=lambda fake: classifier.dataset_features(classifier_params, fake))
