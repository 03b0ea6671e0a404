"""Rule synapse_levels: one scattered job of the synapse's level relaxations (devices/synapse.py)."""
from pathlib import Path

import torch

from devices import engine, synapse
from devices.params import SynapseParams
from workflow.rule_log import log_to

log_to(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
synapse.write_level_chunk(SynapseParams.from_config(snakemake.params.synapse),
                          engine.resolve_engine(snakemake.params.engine), snakemake.params.seed,
                          Path(snakemake.output.rows).parent.parent / ".cache", int(snakemake.wildcards.job),
                          snakemake.params.jobs, Path(snakemake.output.rows), Path(snakemake.output.states))
