"""Rule training_spread: float and hardware trained at several seeds, each scored at every sample seed."""
import json
from pathlib import Path

import pandas as pd

from pipeline.io import write_csv, write_json
from system import classifier, robustness
from system.data import reference_images
from workflow.rule_log import log_to

log_to(snakemake.log[0])
dataset, n = snakemake.wildcards.dataset, snakemake.params.n_samples
real = reference_images(dataset, snakemake.config["data_dir"], n)
classifier_params = classifier.load_classifier(Path(snakemake.input.classifier))
rows = []
for variant, training_seed, run_dir in snakemake.params.runs:
    for sample_seed in snakemake.params.sample_seeds:
        row = robustness.evaluate_run(run_dir, real, lambda x: classifier.dataset_features(classifier_params, x), n,
                                      sample_seed)
        rows.append({"variant": variant, "training_seed": training_seed, "sample_seed": sample_seed, **row})
        print(json.dumps(rows[-1]), flush=True)
stats = robustness.training_spread(rows)
write_csv(Path(snakemake.output.table), pd.DataFrame(rows))
robustness.plot_training_spread(Path(snakemake.output.plot), pd.DataFrame(rows), stats)
write_json(Path(snakemake.output.stats), {"dataset": dataset, "n_samples": n, **stats})
