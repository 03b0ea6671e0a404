"""Rule fcgan_train: train one RRAM GAN run (variant/noise) on Fashion-MNIST, resuming from its checkpoint."""
from pathlib import Path

from system import fcgan_run
from system.data import load_images
from workflow.rule_log import log_to

log_to(snakemake.log[0])
params, wildcards = snakemake.params, snakemake.wildcards
cfg = fcgan_run.run_config(params.fcgan, params.energy, wildcards.fcgan_variant, wildcards.noise, params.seed)
dev = fcgan_run.load_device(Path(params.tables_dir))
source = fcgan_run.noise_source(params.fcgan, params.energy, dev, params.seed) if cfg.noise == "crossbar" else None
images = load_images("fashion_mnist", snakemake.config["data_dir"], limit=int(params.fcgan.get("max_train_images", 0)))
fcgan_run.train(cfg, images, dev, source, Path(snakemake.output.generator).parent,
                int(params.fcgan.get("checkpoint_every_steps", 500)))
