"""Rule robustness_point: the trained hardware generator's classifier FD and KID with one non-ideality scaled."""
from pathlib import Path

from pipeline.io import write_json
from system import classifier, robustness
from system.data import reference_images
from workflow.rule_log import log_to

log_to(snakemake.log[0])
dataset, point = snakemake.wildcards.dataset, snakemake.wildcards.point
n = snakemake.params.n_samples
data_dir = snakemake.config["data_dir"]
real = reference_images(dataset, data_dir, n)
classifier_params = classifier.load_classifier(Path(snakemake.input.classifier))
row = robustness.evaluate_point(snakemake.params.outdir, point, real,
                                lambda images: classifier.dataset_features(classifier_params, images), n,
                                seed=snakemake.params.seed + 1)
write_json(Path(snakemake.output[0]), {"dataset": dataset, **row})
