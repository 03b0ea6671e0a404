"""Rule dw_activation: domain-wall position and readout over the input-current sweep, ReLU and Leaky ReLU."""
from pathlib import Path

import torch

from devices import dw_activation, engine
from devices.params import DWActivationParams
from workflow.rule_log import log_to

log_to(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
dw_activation.run_stage(DWActivationParams.from_config(snakemake.params.dw), engine.resolve_engine(snakemake.params.engine),
                        Path(snakemake.output.run).parent)
