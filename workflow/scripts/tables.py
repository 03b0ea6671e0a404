"""Rule tables: fit the device lookup tables (CSV, Parquet, JSON sidecar) from the raw device outputs."""
from pathlib import Path

from devices import tables
from workflow.provenance import provenance
from workflow.rule_log import log_to

log_to(snakemake.log[0])
params = snakemake.params
tables.build_tables(Path(snakemake.input.levels).parent, Path(snakemake.input.transfer).parent,
                    params.synapse, params.dw, Path(snakemake.output[0]).parent,
                    provenance({"synapse": params.synapse, "dw_activation": params.dw}))
