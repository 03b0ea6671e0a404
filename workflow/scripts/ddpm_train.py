"""Rule ddpm_train: train the DDPM with one noise (software, mtj, mtj_uncorrected), resuming from its checkpoint."""
from pathlib import Path

from system import ddpm_run
from system.data import load_images
from workflow.rule_log import log_to

log_to(snakemake.log[0])
params, wildcards = snakemake.params, snakemake.wildcards
cfg = ddpm_run.DDPMConfig.from_config(params.ddpm, wildcards.ddpm_noise, params.seed)
noise, source = ddpm_run.noise_of(cfg, Path(params.tables_dir))
images = load_images("fashion_mnist", snakemake.config["data_dir"], limit=int(params.ddpm.get("max_train_images", 0)))
ddpm_run.train(cfg, images, noise, Path(snakemake.output.model).parent, int(params.ddpm["checkpoint_every_steps"]),
               source)
