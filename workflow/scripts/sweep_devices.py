"""Rule sweep_devices: the device stage the swept key feeds, rerun at one value on its engine cache, and the
tables (results/sweep/<value>/; pipeline/sweep.py)."""
import sys
from pathlib import Path

import torch

from devices import dw_activation, engine, synapse, synapse_thermal, tables
from devices.crossbar import DesignRuleError
from devices.params import DWActivationParams, SynapseParams, SynapseThermalParams
from pipeline import sweep
from workflow.provenance import provenance
from workflow.rule_log import log_to

if __name__ == "__main__":  # the thermal proxy levels' worker processes import this file again
    log_to(snakemake.log[0])
    torch.set_num_threads(snakemake.threads)
    params, swept = snakemake.params, snakemake.params.swept
    out = Path(snakemake.output.tables[0]).parent.parent
    engine_name, seed = engine.resolve_engine(params.engine), params.seed
    caches = {key: Path(value) for key, value in params.caches.items()}
    print(f"sweep_devices: {params.parameter} = {params.value:g}")
    synapse_dir, dw_dir = Path(snakemake.input.levels).parent, Path(snakemake.input.transfer).parent
    synapse_params = SynapseParams.from_config(swept["synapse"])
    if sweep.section(params.parameter) == "synapse":  # every level in this one job, from the cache where it holds them
        synapse_dir = out / "skyrmion_synapse"
        rows, states = synapse_dir / "level_jobs" / "0.csv", synapse_dir / "level_jobs" / "0.npz"
        synapse.write_level_chunk(synapse_params, engine_name, seed, caches["synapse"], 0, 1, rows, states)
        synapse.run_update_stage(synapse_params, engine_name, synapse_dir, cache_dir=caches["synapse"])
        synapse.gather_stage(synapse_params, [rows], [states], synapse_dir / "update.json", synapse_dir, seed)
    else:
        dw_dir = out / "dw_activation"
        dw_activation.run_stage(DWActivationParams.from_config(swept["dw_activation"]), engine_name, dw_dir,
                                cache_dir=caches["dw_activation"])
    record = provenance({**swept, "sweep": {"parameter": params.parameter, "value": params.value}})
    try:
        tables.build_tables(synapse_dir, dw_dir, swept["synapse"], swept["dw_activation"], swept["crossbar"],
                            out / "tables", record)
    except DesignRuleError as error:  # one line, naming the keys
        sys.exit(f"sweep_devices at {params.parameter} = {params.value:g}: {error}")
    if params.thermal:
        synapse_thermal.build(synapse_params, SynapseThermalParams.from_config(swept["synapse_thermal"]),
                              swept["crossbar"]["read_time_s"], synapse_dir / "levels.csv", out / "tables",
                              out / "synapse_thermal", engine.resolve_engine("magnumnp"), seed,
                              caches["synapse_thermal"], workers=snakemake.threads, provenance=record)
