"""Rule synapse_update: the synapse's write pulses (devices/synapse.py)."""
from pathlib import Path

import torch

from devices import engine, synapse
from devices.params import SynapseParams
from workflow.rule_log import log_to

log_to(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
synapse.run_update_stage(SynapseParams.from_config(snakemake.params.synapse),
                         engine.resolve_engine(snakemake.params.engine), Path(snakemake.output.run).parent)
