"""Rule ddpm_evaluate: classifier FD, KID, noise energy and wall times of one trained DDPM run."""
from pathlib import Path

from pipeline.io import write_json
from system import classifier, ddpm_run
from system.data import load_fashion_mnist
from workflow.rule_log import log_to

log_to(snakemake.log[0])
params, wildcards = snakemake.params, snakemake.wildcards
cfg = ddpm_run.DDPMConfig.from_config(params.ddpm, wildcards.ddpm_noise, params.seed)
noise, _ = ddpm_run.noise_of(cfg, Path(params.tables_dir))
weights = classifier.load_classifier(Path(snakemake.input.classifier))
test, _ = load_fashion_mnist(snakemake.config["data_dir"], "test")
metrics = ddpm_run.evaluate(cfg, noise, Path(snakemake.input.model).parent, test,
                            lambda images: classifier.dataset_features(weights, images), int(params.ddpm["n_samples"]))
write_json(snakemake.output.metrics, metrics)
print(f"ddpm_evaluate {cfg.noise}: classifier FD {metrics['classifier_fd']:.1f}, KID {metrics['kid']:.4f}, "
      f"noise {metrics['noise_energy_J_per_image']:.3g} J per image")
