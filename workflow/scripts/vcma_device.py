"""Rule vcma_device: the VCMA MTJ tables (vcma_switching, vcma_devices) and the switching plot of the macrospin."""
import sys
from pathlib import Path

from devices import vcma_tables
from devices.params import VCMAMTJParams
from workflow.provenance import provenance
from workflow.rule_log import log_to

log_to(snakemake.log[0])
params = snakemake.params
try:  # checked before any job too (workflow/config_check.py); one line naming the key
    vcma = VCMAMTJParams.from_config(params.vcma)
    run = vcma_tables.run_stage(vcma, params.seed, Path(snakemake.output.run).parent,
                                Path(snakemake.output.tables[0]).parent,
                                provenance({"vcma_mtj": params.vcma, "seed": params.seed}))
except ValueError as error:
    sys.exit(f"vcma_device: {error}")
fit = run["fit"]
print(f"vcma_device: done in {run['wall_time_s']:.1f} s; V50 {fit['V50_V']:.4f} +- {fit['V50_se_V']:.4f} V "
      f"({fit['link']} fit), device-to-device V50 spread {run['d2d']['v50_std_V']:.3f} V, "
      f"{run['energy_at_operating']['bit_J']:.3g} J per bit")
