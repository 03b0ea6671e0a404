"""Rule fcgan_evaluate: classifier FD, KID and energies of one trained RRAM GAN run."""
from pathlib import Path

from pipeline.io import write_json
from system import classifier, fcgan_run
from system.data import load_fashion_mnist
from workflow.rule_log import log_to

log_to(snakemake.log[0])
params, wildcards = snakemake.params, snakemake.wildcards
cfg = fcgan_run.run_config(params.fcgan, params.energy, wildcards.fcgan_variant, wildcards.noise, params.seed)
dev = fcgan_run.load_device(Path(params.tables_dir))
source = fcgan_run.noise_source(params.fcgan, params.energy, dev, params.seed) if cfg.noise == "crossbar" else None
weights = classifier.load_classifier(Path(snakemake.input.classifier))
test, _ = load_fashion_mnist(snakemake.config["data_dir"], "test")
metrics = fcgan_run.evaluate(cfg, dev, source, Path(snakemake.input.generator).parent, test,
                             lambda images: classifier.dataset_features(weights, images),
                             int(params.fcgan["n_samples"]))
write_json(snakemake.output.metrics, metrics)
print(f"fcgan_evaluate {cfg.variant}/{cfg.noise}: classifier FD {metrics['classifier_fd']:.1f}, KID {metrics['kid']:.4f}, "
      f"training {metrics['training_energy_J_per_image']:.3g} J per image")
