"""Rule fcgan_noise: statistics of the crossbar noise source (normality, correlations, energy) and their plot."""
from pathlib import Path

import jax

from pipeline.io import write_json
from system import fcgan_run, rram_noise
from workflow.rule_log import log_to

log_to(snakemake.log[0])
params = snakemake.params
dev = fcgan_run.load_device(Path(params.tables_dir))
source = fcgan_run.noise_source(params.fcgan, params.energy, dev, params.seed)
n = max(int(params.fcgan["n_samples"]), 1000)
z = jax.device_get(source.sample(jax.random.PRNGKey(params.seed), n))
stats = rram_noise.statistics(z)
stats.update(energy_per_value_J=source.energy_per_value_J(), calibration_energy_J=source.calibration_energy_J(),
             reads_per_sample=source.reads_per_sample, calibration_reads=source.calibration_reads)
write_json(snakemake.output.stats, stats)
rram_noise.plot_statistics(z, stats, snakemake.output.plot)
print(f"fcgan_noise: {n} x {z.shape[1]} samples, normaltest p {stats['normaltest_p']:.3g}, chi-square p {stats['chi2_p']:.3g}, "
      f"max |r| across dimensions {stats['dim_corr_max_abs']:.3f} (bound {stats['dim_corr_bound']:.3f}), "
      f"{stats['energy_per_value_J']:.3g} J per value")
