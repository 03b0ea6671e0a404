"""Rule fcgan_summary: the RRAM GAN runs' table, quality-energy plot and training curves."""
from pathlib import Path

from pipeline.io import write_csv
from system import fcgan_run
from workflow.rule_log import log_to

log_to(snakemake.log[0])
summary = fcgan_run.build_summary([Path(p) for p in snakemake.input.metrics])
write_csv(snakemake.output.table, summary)
fcgan_run.plot_quality_energy(summary, Path(snakemake.output.plot))
fcgan_run.plot_training_curves([Path(p) for p in snakemake.input.history], Path(snakemake.output.curves))
print(summary.to_string(index=False))
