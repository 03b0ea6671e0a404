"""Rule training_setup: the setup of one training run (dataset, variant, seed, the system keys it uses) as JSON."""
from pathlib import Path

from pipeline.io import write_json
from workflow.rule_log import log_to

log_to(snakemake.log[0])
write_json(Path(snakemake.output[0]), snakemake.params.setup)
