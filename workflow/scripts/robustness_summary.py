"""Rule robustness_summary: the points' FD over the float run's, the first point past 10 % per kind, the trained
hardware over float paired over sample seeds (rule sample_spread), a plot."""
import json
from pathlib import Path

from pipeline.io import write_csv, write_json
from system import robustness
from workflow.rule_log import log_to

log_to(snakemake.log[0])
rows = [json.loads(Path(p).read_text()) for p in snakemake.input.points]
float_fd = json.loads(Path(snakemake.input.float_metrics).read_text())["classifier_fd"]
spread = json.loads(Path(snakemake.input.spread).read_text())
frame, first = robustness.summarise(rows, float_fd)
write_csv(Path(snakemake.output.table), frame)
write_json(Path(snakemake.output.first), {"float_classifier_fd": float_fd, "margin": robustness.QUALITY_MARGIN,
                                          "first_point_past_margin": first,
                                          "trained_hardware_over_float_paired_over_sample_seeds": {
                                              key: spread[key] for key in ("fd_over_float", "kid_over_float",
                                                                           "seeds")}})
robustness.plot(Path(snakemake.output.plot), frame, first, spread)
