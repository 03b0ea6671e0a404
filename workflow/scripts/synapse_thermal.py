"""Rule synapse_thermal: the synapse's relaxed states at room temperature (devices/synapse_thermal.py)."""
from pathlib import Path

import torch

from devices import engine, synapse_thermal
from devices.params import SynapseParams, SynapseThermalParams
from workflow.rule_log import log_to

if __name__ == "__main__":  # the proxy levels' worker processes import this file again
    log_to(snakemake.log[0])
    torch.set_num_threads(snakemake.threads)
    outdir = Path(snakemake.output.run).parent
    synapse_thermal.build(SynapseParams.from_config(snakemake.params.synapse),
                          SynapseThermalParams.from_config(snakemake.params.thermal), snakemake.params.read_time_s,
                          Path(snakemake.input.levels), Path(snakemake.output[0]).parent, outdir,
                          engine.resolve_engine("magnumnp"),
                          snakemake.params.seed, outdir / ".cache", workers=snakemake.threads,
                          provenance={"rule": "synapse_thermal", "engine_choice": snakemake.params.engine})
