"""Rule sample_spread: the trained float and hardware generators' classifier FD and KID at each sample seed, paired."""
import json
from pathlib import Path

from pipeline.io import write_csv, write_json
from system import classifier, robustness
from system.data import reference_images
from workflow.rule_log import log_to

log_to(snakemake.log[0])
dataset, n = snakemake.wildcards.dataset, snakemake.params.n_samples
real = reference_images(dataset, snakemake.config["data_dir"], n)
classifier_params = classifier.load_classifier(Path(snakemake.input.classifier))
rows = []
for seed in snakemake.params.seeds:
    for variant, run_dir in (("float", snakemake.params.float_dir), ("hardware", snakemake.params.hardware_dir)):
        row = robustness.evaluate_run(run_dir, real, lambda x: classifier.dataset_features(classifier_params, x), n,
                                      seed)
        rows.append({"variant": variant, "seed": seed, **row})
        print(json.dumps(rows[-1]), flush=True)
frame, stats = robustness.sample_spread(rows)
write_csv(Path(snakemake.output.table), frame)
write_json(Path(snakemake.output.stats), {"dataset": dataset, "n_samples": n, **stats})
