"""Rule skyrmion_synapse: relaxed conductance levels and update dynamics of the skyrmion synapse."""
from pathlib import Path

import torch

from devices import engine, synapse
from devices.params import SynapseParams
from workflow.rule_log import log_to

if __name__ == "__main__":  # the level relaxations' worker processes import this file again
    log_to(snakemake.log[0])
    torch.set_num_threads(snakemake.threads)
    synapse.run_stage(SynapseParams.from_config(snakemake.params.synapse), engine.resolve_engine(snakemake.params.engine),
                      Path(snakemake.output.run).parent, seed=snakemake.params.seed, workers=snakemake.threads)
