"""Rule summary: results/summary.csv (the DCGAN runs, the RRAM FC-GAN runs, the DDPM runs), its plot and its RST table (the report's front page) beside the reference
numbers; the energy breakdown of the hardware runs by component (table and per-layer plot); the training curves
of every run."""
from pathlib import Path

import pandas as pd

from pipeline.io import atomic_path, write_csv, write_json, write_text
from system.summary import (build_summary, energy_by_component, non_idealities_by_run, plot_energy_breakdown,
                            plot_summary, plot_training_curves, summary_rst)
from workflow.rule_log import log_to

log_to(snakemake.log[0])
summary = build_summary([Path(p) for p in snakemake.input.metrics], pd.read_csv(snakemake.input.fcgan),
                        pd.read_csv(snakemake.input.ddpm))
write_csv(Path(snakemake.output.table), summary)
write_json(Path(snakemake.output.sidecar), non_idealities_by_run([Path(p) for p in snakemake.input.metrics]))
with atomic_path(Path(snakemake.output.plot)) as tmp:
    plot_summary(summary, tmp)
write_text(Path(snakemake.output.report_table), summary_rst(summary))
energy_files = {Path(p).parent.parent.name: Path(p) for p in snakemake.input.energy}
write_csv(Path(snakemake.output.energy_table), energy_by_component(energy_files))
with atomic_path(Path(snakemake.output.energy_plot)) as tmp:
    plot_energy_breakdown(energy_files, tmp)
with atomic_path(Path(snakemake.output.curves)) as tmp:
    plot_training_curves([Path(p) for p in snakemake.input.history], tmp)
