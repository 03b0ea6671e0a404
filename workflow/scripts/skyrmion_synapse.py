"""Rule skyrmion_synapse: the synapse's level jobs and write pulses gathered (devices/synapse.py)."""
from pathlib import Path

from devices import synapse
from devices.params import SynapseParams
from workflow.rule_log import log_to

log_to(snakemake.log[0])
synapse.gather_stage(SynapseParams.from_config(snakemake.params.synapse), [Path(p) for p in snakemake.input.rows],
                     [Path(p) for p in snakemake.input.states], Path(snakemake.input.update_run),
                     Path(snakemake.output.run).parent, snakemake.params.seed)
