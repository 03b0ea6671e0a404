"""True-random generator input from the temporal read noise of RRAM pairs (devices' Johnson noise).

One latent dimension is one differential pair of devices programmed to the operating window's centre and
read at V_read: a read gives I+ - I- = offset + n, the offset fixed by the pair's device draws (the model's
device-to-device variation of A1 and A3), n ~ N(0, sigma^2) with sigma^2 = 4 k_B T df (A1+ + A1-), redrawn
per read (the temporal noise of the read table). Calibration: `calibration_reads` reads per pair give its
offset and sigma estimates (sample mean and standard deviation). A sample: `reads_per_sample` reads, each
corrected, (I - offset_est) / sigma_est, digitised by an ADC of `adc_bits` over +-FULL_SCALE standard
deviations, summed and divided by sqrt(reads). The estimates' errors leave each dimension a small mean and
scale error; the ADC leaves its quantisation.

Energy per latent value: reads_per_sample x (a pair's read, t_read V_read I summed over both devices, plus
one ADC conversion, FOM 2^bits). The calibration is a one-off cost per pair, reported apart.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from scipy import stats

from system.crossbar import quantise

CHI2_BINS = 50   # equiprobable bins of the chi-square test (statistics)
FULL_SCALE = 4.0  # ADC full scale of a corrected read, in standard deviations (clips 6e-5 of reads)


@dataclass(frozen=True)
class NoiseSource:
    """Per pair (L,): offset (A), sigma (A) and their calibrated estimates; read energy per pair (J)."""
    offset_A: np.ndarray
    sigma_A: np.ndarray
    offset_est_A: np.ndarray
    sigma_est_A: np.ndarray
    read_energy_J: np.ndarray
    reads_per_sample: int
    calibration_reads: int
    adc_bits: int
    adc_energy_J: float

    @classmethod
    def build(cls, dev, latent_dim: int, reads_per_sample: int, calibration_reads: int, adc_bits: int,
              adc_energy_J: float, seed: int) -> NoiseSource:
        """latent_dim pairs at the window's centre with device draws from seed; calibration simulated."""
        rng = np.random.default_rng(seed)
        centre = np.full(latent_dim, 0.5 * (dev.g_low_S + dev.g_high_S))
        xi = rng.standard_normal((2, latent_dim))
        (a1p, a3p), (a1m, a3m) = (map(np.asarray, dev.coefficients(jnp.asarray(centre), jnp.asarray(x))) for x in xi)
        V = dev.read_voltage_V
        ip, im = a1p * V + a3p * V ** 3, a1m * V + a3m * V ** 3
        sigma = np.sqrt(dev.noise_power_A2_per_S * (a1p + a1m))
        calibration = (ip - im) + sigma * rng.standard_normal((calibration_reads, latent_dim))
        sigma_est = calibration.std(axis=0, ddof=1) if calibration_reads > 1 else sigma
        return cls(offset_A=ip - im, sigma_A=sigma, offset_est_A=calibration.mean(axis=0), sigma_est_A=sigma_est,
                   read_energy_J=dev.read_time_s * V * (ip + im), reads_per_sample=reads_per_sample,
                   calibration_reads=calibration_reads, adc_bits=adc_bits, adc_energy_J=adc_energy_J)

    def sample(self, key, n: int):
        """(n, L) latent samples (JAX, float32)."""
        L = len(self.offset_A)
        reads = (jnp.asarray(self.offset_A, jnp.float32)
                 + jnp.asarray(self.sigma_A, jnp.float32) * jax.random.normal(key, (self.reads_per_sample, n, L)))
        corrected = (reads - jnp.asarray(self.offset_est_A, jnp.float32)) / jnp.asarray(self.sigma_est_A, jnp.float32)
        digital = quantise(corrected, self.adc_bits, jnp.asarray(FULL_SCALE))
        return jnp.sum(digital, axis=0) / math.sqrt(self.reads_per_sample)

    def energy_per_value_J(self) -> float:
        """Mean energy (J) of one latent value: its reads and their ADC conversions."""
        return float(self.reads_per_sample * (np.mean(self.read_energy_J) + self.adc_energy_J))

    def calibration_energy_J(self) -> float:
        """One-off energy (J) of calibrating all pairs."""
        return float(self.calibration_reads * (np.sum(self.read_energy_J) + len(self.read_energy_J) * self.adc_energy_J))


def statistics(z: np.ndarray, alpha: float = 1e-3) -> dict:
    """Tests of samples z (N, L) for i.i.d. Gaussian values, each at family-wise level alpha.

    Shape: each dimension standardised by its own mean and std, pooled: D'Agostino-Pearson (skewness and
    kurtosis; gaussian_pass) and, reported beside it, a chi-square goodness of fit over CHI2_BINS equiprobable
    bins of N(0, 1). The chi-square also sees the ADC's lattice once N is large (at 64 x 10^4 values and 8 bits
    it rejects, at 12 bits the same source gives p 0.8: docs/rram.md), so it does not decide the pass; a
    Kolmogorov-Smirnov test would reject the discrete values at any large N.
    Independence: the largest |r| across dimensions (off-diagonal Pearson) and across consecutive samples
    (lag-1, per dimension) against the Bonferroni bound z_(alpha / 2m) / sqrt(N), m the number of r's.
    Calibration: per-dimension mean and std (the calibration's residual error), reported, not tested."""
    z = np.asarray(z, dtype=np.float64)
    n, L = z.shape
    standard = ((z - z.mean(axis=0)) / z.std(axis=0)).ravel()
    edges = stats.norm.ppf(np.linspace(0, 1, CHI2_BINS + 1))
    counts = np.histogram(standard, bins=edges)[0]
    chi2_p = float(stats.chisquare(counts).pvalue)
    normal_p = float(stats.normaltest(standard).pvalue)
    pairs = L * (L - 1) // 2
    dims = np.corrcoef(z, rowvar=False)[np.triu_indices(L, 1)] if L > 1 else np.zeros(1)
    lag = np.array([np.corrcoef(z[:-1, j], z[1:, j])[0, 1] for j in range(L)])
    dim_bound = stats.norm.isf(alpha / (2 * max(pairs, 1))) / math.sqrt(n)
    lag_bound = stats.norm.isf(alpha / (2 * L)) / math.sqrt(n - 1)
    return {
        "n_samples": n, "latent_dim": L, "alpha": alpha,
        "mean": float(z.mean()), "std": float(z.std()),
        "dim_mean_max_abs": float(np.abs(z.mean(axis=0)).max()), "dim_std_min": float(z.std(axis=0).min()),
        "dim_std_max": float(z.std(axis=0).max()),
        "normaltest_p": normal_p, "chi2_p": chi2_p, "gaussian_pass": bool(normal_p > alpha),
        "dim_corr_max_abs": float(np.abs(dims).max()), "dim_corr_bound": float(dim_bound),
        "dim_corr_pass": bool(np.abs(dims).max() < dim_bound),
        "lag1_corr_max_abs": float(np.abs(lag).max()), "lag1_corr_bound": float(lag_bound),
        "lag1_corr_pass": bool(np.abs(lag).max() < lag_bound),
    }


def plot_statistics(z: np.ndarray, stats_: dict, path) -> None:
    """Histogram of the pooled samples over the N(0, 1) density, and the dimensions' correlation matrix."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pipeline.io import save_figure

    z = np.asarray(z, dtype=np.float64)
    fig, (ax_h, ax_c) = plt.subplots(1, 2, figsize=(10, 4))
    x = np.linspace(-5, 5, 201)
    ax_h.hist(z.ravel(), bins=100, range=(-5, 5), density=True, color="tab:blue", alpha=0.7, label="crossbar noise")
    ax_h.plot(x, stats.norm.pdf(x), "k", label="N(0, 1)")
    ax_h.set_xlabel("latent value (1)")
    ax_h.set_ylabel("density")
    ax_h.set_title(f"normaltest p = {stats_['normaltest_p']:.3g}, chi-square p = {stats_['chi2_p']:.3g}")
    ax_h.legend()
    corr = np.corrcoef(z, rowvar=False)
    image = ax_c.imshow(corr - np.eye(len(corr)), cmap="RdBu_r", vmin=-0.1, vmax=0.1)
    ax_c.set_title(f"correlation across dimensions (max |r| {stats_['dim_corr_max_abs']:.3f}, "
                   f"bound {stats_['dim_corr_bound']:.3f})", fontsize=9)
    ax_c.set_xlabel("dimension")
    ax_c.set_ylabel("dimension")
    fig.colorbar(image, ax=ax_c, label="r (diagonal removed)")
    fig.tight_layout()
    save_figure(path, fig)
