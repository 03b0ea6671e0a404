"""Gaussian noise from the random bits of a bank of VCMA MTJs (the devices of the vcma_devices table).

Bits: each device is pulsed again and again at the operating amplitude; a pulse switches device i with its
probability p_i (vcma_devices.p_sw), independently of the earlier pulses (each pulse starts from the thermal
distribution of a well; between pulses the layer relaxes). A bit is whether the pulse switched the device:
the read after one pulse is the read before the next, so a bit costs one write and one read.

Bias correction: von Neumann's (J. von Neumann, "Various techniques used in connection with random digits",
NBS Appl. Math. Ser. 12, 36 (1951)): per device, non-overlapping pairs of raw bits, 01 -> 0, 10 -> 1, 00 and 11
dropped. For independent bits of any fixed p the output is unbiased; it keeps 2 p (1 - p) pairs per pair, so
1 / (p (1 - p)) raw bits per corrected bit (4 at p = 1/2).

Gaussian samples: BITS_PER_SAMPLE bits form an integer k, U = (k + 1/2) / 2^BITS_PER_SAMPLE, z = Phi^-1(U): exactly
N(0, 1) up to the 24-bit resolution when the bits are fair; biased bits shift and distort it (the most
significant bit decides the sign).

Statistical tests of bits: the frequency (monobit) and runs tests of NIST SP 800-22 Rev. 1a (Rukhin et al.,
2010), sections 2.1 and 2.3, at the NIST level 0.01.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

BITS_PER_SAMPLE = 24
NIST_ALPHA = 0.01


@dataclass(frozen=True)
class BitBank:
    """Devices with their switching probabilities p (D,) at the operating amplitude; energy per raw bit (J)."""
    p: np.ndarray
    energy_per_bit_J: float

    def raw_bits(self, rng: np.random.Generator, per_device: int) -> np.ndarray:
        """(D, per_device) bits (uint8): 1 where a pulse switched the device (a 16-bit uniform below p 2^16, so p
        is resolved to 2^-16)."""
        uniform = np.frombuffer(rng.bytes(2 * len(self.p) * per_device), dtype=np.uint16)
        threshold = np.round(self.p * 65536.0).astype(np.uint32)[:, None]
        return (uniform.reshape(len(self.p), per_device) < threshold).view(np.uint8)

    def interleaved_raw_bits(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """n raw bits (uint8) read from the devices in turn, as a bank is read."""
        return self.raw_bits(rng, -(-n // len(self.p))).T.ravel()[:n]

    def corrected_bits(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, int]:
        """At least n von-Neumann-corrected bits (the first n returned) and the raw bits spent on them."""
        out, spent = [], 0
        rate = float(np.mean(self.p * (1 - self.p)))  # corrected bits per raw bit, averaged over the devices
        while sum(len(o) for o in out) < n:
            per_device = 2 * math.ceil((n - sum(len(o) for o in out)) / (len(self.p) * max(rate, 1e-3)) / 2 + 1)
            out.append(von_neumann(self.raw_bits(rng, per_device)))
            spent += len(self.p) * per_device
        return np.concatenate(out)[:n], spent


def von_neumann(bits: np.ndarray) -> np.ndarray:
    """Corrected bits of each row (device) of raw bits (D, 2m), rows concatenated: pairs 01 -> 0, 10 -> 1."""
    pairs = bits[:, : bits.shape[1] // 2 * 2].reshape(bits.shape[0], -1, 2)
    keep = pairs[..., 0] != pairs[..., 1]
    return pairs[..., 0][keep]


def gaussians(bits: np.ndarray) -> np.ndarray:
    """z = Phi^-1((k + 1/2) / 2^24) of consecutive groups of BITS_PER_SAMPLE bits (most significant first)."""
    n = len(bits) // BITS_PER_SAMPLE
    weights = 2.0 ** np.arange(BITS_PER_SAMPLE - 1, -1, -1)
    k = bits[: n * BITS_PER_SAMPLE].reshape(n, BITS_PER_SAMPLE).astype(np.float64) @ weights
    return special.ndtri((k + 0.5) / 2.0 ** BITS_PER_SAMPLE)


def frequency_test(bits: np.ndarray) -> float:
    """NIST SP 800-22 2.1 (monobit) p-value: erfc(|sum(2b - 1)| / sqrt(2 n))."""
    n = len(bits)
    s = abs(int(np.sum(2 * bits.astype(np.int64) - 1)))
    return float(special.erfc(s / math.sqrt(2 * n)))


def runs_test(bits: np.ndarray) -> float:
    """NIST SP 800-22 2.3 (runs) p-value; 0 where the frequency prerequisite |pi - 1/2| < 2 / sqrt(n) fails."""
    n = len(bits)
    pi = float(np.mean(bits))
    if abs(pi - 0.5) >= 2 / math.sqrt(n):
        return 0.0
    runs = 1 + int(np.count_nonzero(bits[1:] != bits[:-1]))
    return float(special.erfc(abs(runs - 2 * n * pi * (1 - pi)) / (2 * math.sqrt(2 * n) * pi * (1 - pi))))


def bit_statistics(bits: np.ndarray) -> dict:
    """Frequency and runs tests of a bit stream, with its fraction of ones."""
    freq, runs = frequency_test(bits), runs_test(bits)
    return {"n_bits": int(len(bits)), "ones_fraction": float(np.mean(bits)), "frequency_p": freq, "runs_p": runs,
            "frequency_pass": freq >= NIST_ALPHA, "runs_pass": runs >= NIST_ALPHA}


def gaussian_statistics(z: np.ndarray, alpha: float = 1e-3) -> dict:
    """Samples z against N(0, 1) itself (no standardisation, so a shifted or scaled source fails): Kolmogorov-Smirnov
    (gaussian_pass), D'Agostino-Pearson on the shape, and the lag-1 correlation against its bound
    z_(alpha/2) / sqrt(n)."""
    z = np.asarray(z, dtype=np.float64).ravel()
    ks = float(stats.kstest(z, "norm").pvalue)
    lag = float(np.corrcoef(z[:-1], z[1:])[0, 1])
    bound = float(stats.norm.isf(alpha / 2) / math.sqrt(len(z) - 1))
    return {"n_samples": int(len(z)), "mean": float(z.mean()), "std": float(z.std()), "ks_p": ks,
            "normaltest_p": float(stats.normaltest(z).pvalue), "gaussian_pass": ks > alpha,
            "lag1_corr": lag, "lag1_corr_bound": bound, "lag1_corr_pass": abs(lag) < bound}


def area_comparison(energy_per_bit_J: float, device_area_m2: float, cmos: dict) -> dict:
    """Energy per bit, area and their product (J m^2, lower is better) of one MTJ (its junction only: the access
    transistor and the sense amplifier are not modelled, so its area is a lower bound) beside the CMOS generator."""
    mtj = energy_per_bit_J * device_area_m2
    reference = cmos["energy_per_bit_J"] * cmos["area_m2"]
    return {"mtj_energy_per_bit_J": energy_per_bit_J, "mtj_area_m2": device_area_m2, "mtj_energy_area_J_m2": mtj,
            "cmos_energy_per_bit_J": cmos["energy_per_bit_J"], "cmos_area_m2": cmos["area_m2"],
            "cmos_energy_area_J_m2": reference, "cmos_over_mtj": reference / mtj}


def source_statistics(p_sw: np.ndarray, energy_per_bit_J: float, samples: int, seed: int) -> tuple[dict, dict]:
    """The bank's raw and corrected streams, each turned into `samples` Gaussian samples: their bit and sample
    statistics and energies. The raw stream reads the devices in turn (device-interleaved), as a bank would.
    Returns (statistics, {"raw": z, "corrected": z})."""
    bank = BitBank(p=np.asarray(p_sw, dtype=float), energy_per_bit_J=energy_per_bit_J)
    rng = np.random.default_rng(seed)
    n_bits = samples * BITS_PER_SAMPLE
    raw = bank.interleaved_raw_bits(rng, n_bits)
    corrected, spent = bank.corrected_bits(rng, n_bits)
    z = {"raw": gaussians(raw), "corrected": gaussians(corrected)}
    per_corrected_bit = energy_per_bit_J * spent / n_bits
    result = {
        "devices": int(len(bank.p)), "p_sw_mean": float(bank.p.mean()), "p_sw_std": float(bank.p.std(ddof=1)),
        "bits_per_sample": BITS_PER_SAMPLE, "raw_bits_per_corrected_bit": spent / n_bits,
        "energy_per_raw_bit_J": energy_per_bit_J, "energy_per_corrected_bit_J": per_corrected_bit,
        "energy_per_sample_J": {"raw": energy_per_bit_J * BITS_PER_SAMPLE,
                                "corrected": per_corrected_bit * BITS_PER_SAMPLE},
        "bits": {"raw": bit_statistics(raw), "corrected": bit_statistics(corrected)},
        "samples": {name: gaussian_statistics(values) for name, values in z.items()}}
    return result, z


def plot_source(path, z: dict, p_sw: np.ndarray, result: dict) -> None:
    """Histograms of the raw and corrected samples over the N(0, 1) density; the devices' P_sw."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pipeline.io import save_figure

    fig, (ax_z, ax_p) = plt.subplots(1, 2, figsize=(10, 4))
    grid = np.linspace(-4.5, 4.5, 300)
    for name, color in (("raw", "C3"), ("corrected", "C0")):
        s = result["samples"][name]
        ax_z.hist(z[name], bins=120, range=(-4.5, 4.5), density=True, histtype="step", color=color, lw=1.5,
                  label=f"{name}: mean {s['mean']:+.3f}, std {s['std']:.3f}, KS p {s['ks_p']:.2g}")
    ax_z.plot(grid, stats.norm.pdf(grid), "k--", lw=1, label="N(0, 1)")
    ax_z.set(xlabel="sample", ylabel="density", title=f"{len(z['corrected'])} samples of {BITS_PER_SAMPLE} bits")
    ax_z.legend(fontsize=7)
    ax_p.bar(np.arange(len(p_sw)), np.sort(p_sw), color="C2")
    ax_p.axhline(0.5, color="k", lw=1)
    ax_p.set(xlabel="device (sorted)", ylabel="P_sw at the operating amplitude",
             title=f"{result['raw_bits_per_corrected_bit']:.2f} raw bits per corrected bit")
    fig.tight_layout()
    save_figure(path, fig)
