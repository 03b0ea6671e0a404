"""Rule sweep_summary: quality and energy per image against the swept device parameter (pipeline/sweep.py)."""
import json
from pathlib import Path

from pipeline import io, sweep
from workflow.rule_log import log_to

log_to(snakemake.log[0])
float_fd = json.loads(Path(snakemake.input.float_metrics).read_text())["classifier_fd"]
points = [json.loads(Path(path).read_text()) for path in snakemake.input.points]
frame = sweep.summarise(points, float_fd, snakemake.params.trained_value)
io.write_csv(Path(snakemake.output.table), frame.drop(columns=["levels_S"]))
sweep.plot(Path(snakemake.output.plot), frame, snakemake.params.parameter, float_fd)
print(frame.drop(columns=["levels_S"]).to_string())
