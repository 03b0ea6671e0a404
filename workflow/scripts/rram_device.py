"""Rule rram_device: the RRAM tables (rram_read, rram_update), G-vs-pulse curves and I-V plot of the compact model."""
import sys
from pathlib import Path

from devices import rram_tables
from devices.crossbar import DesignRuleError
from devices.params import RRAMParams
from workflow.provenance import provenance
from workflow.rule_log import log_to

log_to(snakemake.log[0])
params = snakemake.params
try:  # a value outside the model, or a tile that breaks the design rule: one line naming the key
    rram = RRAMParams.from_config(params.rram)
    rram_tables.check_stage(rram, params.crossbar["read_voltage_V"])
    rram_tables.design_rule(rram, params.crossbar)
except (ValueError, DesignRuleError) as error:
    sys.exit(f"rram_device: {error}")
run = rram_tables.run_stage(rram, params.crossbar, params.seed, Path(snakemake.output.run).parent,
                            Path(snakemake.output.tables[0]).parent,
                            provenance({"rram": params.rram, "crossbar": params.crossbar, "seed": params.seed}))
print(f"rram_device: done in {run['wall_time_s']:.2f} s; mean step per pulse in the window's bins (S): "
      f"{run['mean_step_in_window_S']}")
