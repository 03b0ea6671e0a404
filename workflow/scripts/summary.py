"""Rule summary: results/summary.csv and its plot, beside the reference numbers."""
from pathlib import Path

from system.io import atomic_path, write_csv
from system.summary import build_summary, plot_summary

summary = build_summary([Path(p) for p in snakemake.input.metrics])
write_csv(Path(snakemake.output.table), summary)
with atomic_path(Path(snakemake.output.plot)) as tmp:
    plot_summary(summary, tmp)
