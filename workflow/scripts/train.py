"""Rule train: train the DCGAN of one dataset and variant (float baseline or hardware), resuming if interrupted;
the classifier scores each checkpoint's samples (history.csv, classifier_fd)."""
from pathlib import Path

from system import classifier, train
from system.data import load_images
from system.tables import load_device_tables

params = snakemake.params
dataset, variant = snakemake.wildcards.dataset, snakemake.wildcards.variant
training = params.training
images = load_images(dataset, params.data_dir, params.download, limit=training["max_train_images"])
tables = (load_device_tables(Path(params.tables_dir), training["network_lrelu_curvature_ratio"])
          if variant != "float" else None)
classifier_params = classifier.load_classifier(Path(snakemake.input.classifier))
train.train({**snakemake.config["system"], **training}, dataset, variant, images, tables,
            Path(params.outdir), seed=params.seed,
            classifier_features=lambda fake: classifier.dataset_features(classifier_params, fake))
