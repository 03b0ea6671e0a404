"""Rule ddpm_summary: the DDPM runs' table, FD and KID beside the software-noise run's."""
from pathlib import Path

from pipeline.io import write_csv
from system import ddpm_run
from workflow.rule_log import log_to

log_to(snakemake.log[0])
summary = ddpm_run.build_summary([Path(p) for p in snakemake.input.metrics])
write_csv(snakemake.output.table, summary)
print(summary.to_string(index=False))
