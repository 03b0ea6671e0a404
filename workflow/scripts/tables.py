"""Rule tables: fit the device lookup tables (CSV, Parquet, JSON sidecar) from the raw device outputs."""
import sys
from pathlib import Path

from devices import tables
from devices.crossbar import DesignRuleError
from workflow.provenance import provenance
from workflow.rule_log import log_to

log_to(snakemake.log[0])
params = snakemake.params
try:
    tables.build_tables(Path(snakemake.input.levels).parent, Path(snakemake.input.transfer).parent,
                        params.synapse, params.dw, params.crossbar, Path(snakemake.output[0]).parent,
                        provenance({"synapse": params.synapse, "dw_activation": params.dw,
                                    "crossbar": params.crossbar}))
except DesignRuleError as error:  # one line, naming the keys
    sys.exit(f"tables: {error}")
