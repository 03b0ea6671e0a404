"""Rule mtj_noise: Gaussian samples from the VCMA devices' bits, raw and von-Neumann-corrected; their tests and plot."""
from devices.vcma_tables import read_device_area_m2, read_devices
from pipeline import io
from system import mtj_noise
from workflow.rule_log import log_to

log_to(snakemake.log[0])
params = snakemake.params
p_sw, energy_per_bit = read_devices(params.tables_dir)
result, z = mtj_noise.source_statistics(p_sw, energy_per_bit, params.samples, params.seed)
result["per_area"] = mtj_noise.area_comparison(result["energy_per_corrected_bit_J"],
                                               read_device_area_m2(params.tables_dir), params.cmos_reference)
io.write_json(snakemake.output.statistics, result)
mtj_noise.plot_source(snakemake.output.plot, z, p_sw, result)
bits = result["bits"]
print(f"mtj_noise: {result['devices']} devices; frequency p raw {bits['raw']['frequency_p']:.3g}, corrected "
      f"{bits['corrected']['frequency_p']:.3g}; runs p corrected {bits['corrected']['runs_p']:.3g}; KS p raw "
      f"{result['samples']['raw']['ks_p']:.3g}, corrected {result['samples']['corrected']['ks_p']:.3g}; "
      f"{result['energy_per_sample_J']['corrected']:.3g} J per corrected sample; energy x area "
      f"{result['per_area']['cmos_over_mtj']:.3g} times below the CMOS reference")
