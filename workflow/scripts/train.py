"""Rule train: train the DCGAN of one dataset and variant (float baseline or hardware), resuming if interrupted."""
from pathlib import Path

from system import train
from system.data import load_images
from system.tables import load_device_tables

params = snakemake.params
dataset, variant = snakemake.wildcards.dataset, snakemake.wildcards.variant
training = params.training
images = load_images(dataset, params.data_dir, params.download, limit=training["max_train_images"])
tables = (load_device_tables(Path(params.tables_dir), training["network_lrelu_curvature_ratio"])
          if variant != "float" else None)
train.train({**snakemake.config["system"], **training}, dataset, variant, images, tables,
            Path(params.outdir), seed=params.seed)
