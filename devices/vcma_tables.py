"""The VCMA MTJ device stage (rule vcma_device): the switching probability of the macrospin of devices/vcma.py.

- vcma_switching: one row per pulse amplitude of vcma_mtj.sweep: of `trajectories` trajectories, each started
  from the Boltzmann distribution of the upper well at rest, how many end in the lower well after a rectangular
  pulse of pulse_width_s and relax_s at 0 V; the Wilson 95 % interval; the sigmoid P = F(b0 + b1 V) fitted by
  binomial maximum likelihood (logistic or Gumbel, the lower deviance) with its 95 % band from the fit's
  covariance; the energy of one write and read at that amplitude.
- vcma_devices: one row per device drawn with vcma_mtj.variation (Ki and diameter Gaussian, once per device):
  its thermal stability, its P_sw at the operating amplitude (the nominal device's fitted V50) from
  `variation.trajectories` trajectories with its Wilson interval, and its own V50 estimated from that P with
  the nominal fit's sigmoid and width.
- Energy of one bit: write C V^2 (the barrier's capacitance eps0 eps_r A / t_ox charged from the supply) plus
  V^2 G_P t_p (tunnelling through the barrier in the parallel state, an upper bound), and the read
  V_read^2 G_P t_read; G_P = A / RA.

Random draws: numpy Generators and JAX keys from the config seed, one stream per product.
"""
from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path

import jax
import matplotlib
import numpy as np
import pandas as pd
from scipy import optimize, special, stats

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from devices import mtj, vcma  # noqa: E402
from devices.constants import EPS0_F_PER_M  # noqa: E402
from devices.params import VCMAMTJParams  # noqa: E402
from pipeline import io  # noqa: E402
from pipeline.table_contract import read_table, write_table  # noqa: E402

ENGINE = "macrospin stochastic LLG (devices/vcma.py)"
ENGINE_VERSION = "stochastic Heun, float32, JAX " + jax.__version__
Z95 = stats.norm.ppf(0.975)


def area_m2(p: VCMAMTJParams) -> float:
    return math.pi * p.diameter_m ** 2 / 4


def bit_energy(p: VCMAMTJParams, amplitude_V: float) -> dict:
    """Energies (J) of one random bit at a pulse amplitude (module docstring)."""
    capacitance = EPS0_F_PER_M * p.eps_r_barrier * area_m2(p) / p.t_barrier_m
    g_p = mtj.parallel_state_conductance_S(area_m2(p), p.RA_ohm_um2)
    write_capacitive = capacitance * amplitude_V ** 2
    write_tunnel = amplitude_V ** 2 * g_p * p.sweep.pulse_width_s
    read = p.read_voltage_V ** 2 * g_p * p.read_time_s
    return {"capacitance_F": capacitance, "conductance_P_S": g_p, "write_capacitive_J": write_capacitive,
            "write_tunnel_J": write_tunnel, "read_J": read, "bit_J": write_capacitive + write_tunnel + read}


def switched(spin: vcma.Macrospin, m0: np.ndarray, amplitude_V: float, p: VCMAMTJParams, key) -> np.ndarray:
    """Per trajectory: True where the layer ends in the lower well after the pulse and the relaxation."""
    volts = vcma.pulse_voltages(amplitude_V, p.sweep.pulse_width_s, p.sweep.time_step_s, 0.0, p.sweep.relax_s)
    m, _ = vcma.simulate(spin, m0, volts, p.sweep.time_step_s, key)
    return np.asarray(m[:, 2]) < 0


def sweep_counts(p: VCMAMTJParams, seed: int) -> np.ndarray:
    """Switched trajectories of the nominal device per amplitude of the sweep."""
    spin = vcma.Macrospin.from_params(p)
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(2)[0])
    key = jax.random.fold_in(jax.random.PRNGKey(seed), 1)
    return np.array([int(np.sum(switched(spin, vcma.boltzmann_sample(spin, p.sweep.trajectories, rng), v, p,
                                                  jax.random.fold_in(key, i))))
                     for i, v in enumerate(p.sweep.amplitudes_V)])


def wilson(k, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Wilson 95 % intervals of k successes out of n (scipy.stats.binomtest)."""
    cis = [stats.binomtest(int(kk), n).proportion_ci(0.95, method="wilson") for kk in np.atleast_1d(k)]
    return np.array([c.low for c in cis]), np.array([c.high for c in cis])


# Sigmoids P = F(b0 + b1 V) for the fit: (F, dF/dz, inverse F). The Gumbel (log-log link) rises steeply from 0
# and approaches 1 slowly; the logistic is symmetric. The stage fits both and keeps the lower deviance.
LINKS = {
    "logistic": (special.expit, lambda z: special.expit(z) * special.expit(-z), special.logit),
    "gumbel": (lambda z: np.exp(-np.exp(-z)), lambda z: np.exp(-z - np.exp(-z)), lambda q: -np.log(-np.log(q))),
}


def fit_sigmoid(amplitudes_V, counts, n: int, link: str) -> dict:
    """Binomial maximum-likelihood fit of P = F(b0 + b1 V) (F of LINKS[link]): V50 where P = 1/2, width 1 / b1, their
    standard errors from the inverse Fisher information (delta method), and the deviance with its chi-square p."""
    cdf, pdf, inverse = LINKS[link]
    v = np.asarray(amplitudes_V, dtype=float)
    k = np.asarray(counts, dtype=float)
    tiny = 1e-300

    def nll(b):
        q = np.clip(cdf(b[0] + b[1] * v), tiny, 1 - 1e-16)
        return -np.sum(k * np.log(q) + (n - k) * np.log1p(-q))

    b1 = 8.0 / (v[-1] - v[0])
    start = [float(inverse(0.5)) - b1 * v[np.argmin(np.abs(k / n - 0.5))], b1]
    res = optimize.minimize(nll, start, method="Nelder-Mead",
                            options={"xatol": 1e-10, "fatol": 1e-10, "maxiter": 20000})
    b0, b1 = res.x
    z = b0 + b1 * v
    q = np.clip(cdf(z), tiny, 1 - 1e-16)
    weight = n * pdf(z) ** 2 / (q * (1 - q))
    fisher = np.array([[weight.sum(), (weight * v).sum()], [(weight * v).sum(), (weight * v * v).sum()]])
    cov = np.linalg.inv(fisher)
    z50 = float(inverse(0.5))
    grad_v50 = np.array([-1 / b1, -(z50 - b0) / b1 ** 2])
    grad_w = np.array([0.0, -1 / b1 ** 2])
    with np.errstate(divide="ignore", invalid="ignore"):
        deviance = 2 * np.sum(np.where(k > 0, k * np.log(k / (n * q)), 0.0)
                              + np.where(k < n, (n - k) * np.log((n - k) / (n * (1 - q))), 0.0))
    return {"link": link, "b0": float(b0), "b1_per_V": float(b1), "cov_b": cov.tolist(), "V50_V": (z50 - b0) / b1,
            "V50_se_V": float(math.sqrt(grad_v50 @ cov @ grad_v50)), "width_V": float(1 / b1),
            "width_se_V": float(math.sqrt(grad_w @ cov @ grad_w)), "deviance": float(deviance),
            "deviance_dof": int(len(v) - 2), "deviance_p": float(stats.chi2.sf(deviance, len(v) - 2))}


def fit_switching(amplitudes_V, counts, n: int) -> dict:
    """Both sigmoids fitted; the one of lower deviance, with the other's figures under "alternatives"."""
    fits = sorted((fit_sigmoid(amplitudes_V, counts, n, link) for link in LINKS), key=lambda f: f["deviance"])
    return {**fits[0], "alternatives": fits[1:]}


def fit_band(fit: dict, amplitudes_V) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(P, lower, upper) of the fitted sigmoid and its pointwise 95 % band."""
    cdf = LINKS[fit["link"]][0]
    v = np.asarray(amplitudes_V, dtype=float)
    design = np.stack([np.ones_like(v), v], axis=1)
    z = fit["b0"] + fit["b1_per_V"] * v
    se = np.sqrt(np.einsum("ij,jk,ik->i", design, np.asarray(fit["cov_b"]), design))
    return cdf(z), cdf(z - Z95 * se), cdf(z + Z95 * se)


def own_v50(fit: dict, operating_V: float, p_sw: np.ndarray, n: int) -> np.ndarray:
    """A device's 50 % point from its P_sw at the operating amplitude, with the nominal fit's sigmoid and width
    (P_sw clipped to [1 / 2n, 1 - 1 / 2n])."""
    inverse = LINKS[fit["link"]][2]
    z = inverse(np.clip(p_sw, 0.5 / n, 1 - 0.5 / n))
    return operating_V - (z - inverse(0.5)) / fit["b1_per_V"]


def switching_frame(p: VCMAMTJParams, counts: np.ndarray, fit: dict) -> pd.DataFrame:
    n = p.sweep.trajectories
    v = np.asarray(p.sweep.amplitudes_V, dtype=float)
    low, high = wilson(counts, n)
    p_fit, band_low, band_high = fit_band(fit, v)
    return pd.DataFrame({
        "amplitude_V": v, "pulse_width_s": p.sweep.pulse_width_s, "trajectories": n,
        "switched": counts.astype(np.int64), "p_sw": counts / n, "ci_low": low, "ci_high": high, "p_fit": p_fit,
        "fit_band_low": band_low, "fit_band_high": band_high,
        "bit_energy_J": [bit_energy(p, a)["bit_J"] for a in v]})


def device_draws(p: VCMAMTJParams, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(Ki (J/m^2), diameter (m)) of the drawn devices."""
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(2)[1])
    z = rng.standard_normal((2, p.variation.devices))
    return (p.Ki_J_per_m2 * (1 + p.variation.Ki_rel_sigma * z[0]),
            p.diameter_m + p.variation.diameter_sigma_m * z[1])


def devices_frame(p: VCMAMTJParams, operating_V: float, fit: dict, seed: int) -> pd.DataFrame:
    """The drawn devices at the operating amplitude: all of them in one integration, one row block per device."""
    ki, diameter = device_draws(p, seed)
    n = p.variation.trajectories
    spins = [vcma.Macrospin.from_params(dataclasses.replace(p, Ki_J_per_m2=float(a), diameter_m=float(d)))
             for a, d in zip(ki, diameter)]
    if any(s.hk0_A_per_m <= 0 for s in spins):
        raise ValueError("vcma_mtj.variation.Ki_rel_sigma: a drawn device is in-plane at rest (K_eff <= 0); the "
                         "spread is too large for this free layer")
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(3)[2])
    m0 = np.concatenate([vcma.boltzmann_sample(s, n, rng) for s in spins])
    rows = dataclasses.replace(spins[0], **{name: np.repeat([getattr(s, name) for s in spins], n)
                                            for name in ("hk0_A_per_m", "hk_per_volt_A_per_m", "volume_m3")})
    ended_low = switched(rows, m0, operating_V, p, jax.random.fold_in(jax.random.PRNGKey(seed), 2))
    counts = ended_low.reshape(len(spins), n).sum(axis=1)
    low, high = wilson(counts, n)
    return pd.DataFrame({
        "device": np.arange(len(spins), dtype=np.int64), "Ki_J_per_m2": ki, "diameter_m": diameter,
        "stability": [s.stability(0.0) for s in spins], "operating_V": operating_V, "trajectories": n,
        "switched": counts.astype(np.int64), "p_sw": counts / n, "ci_low": low, "ci_high": high,
        "v50_V": own_v50(fit, operating_V, counts / n, n)})


def device_figures(p: VCMAMTJParams) -> dict:
    spin = vcma.Macrospin.from_params(p)
    nx, nz = vcma.cylinder_demag_factors(p.diameter_m, p.t_free_m)
    return {"Nx": nx, "Nz": nz, "area_m2": area_m2(p), "volume_m3": spin.volume_m3,
            "Hk_rest_A_per_m": spin.hk0_A_per_m,
            "K_eff_rest_J_per_m3": spin.k_eff_J_per_m3(0.0), "Hk_per_volt_A_per_m": spin.hk_per_volt_A_per_m,
            "compensation_voltage_V": spin.compensation_voltage_V, "stability_rest": spin.stability(0.0),
            "larmor_half_period_s": math.pi / (spin.gamma0_m_per_A_s * p.bias_field_A_per_m),
            "gamma0_m_per_A_s": spin.gamma0_m_per_A_s}


def build_tables(p: VCMAMTJParams, seed: int, tables_dir, provenance: dict) -> dict:
    """Sweep, fit, devices; writes vcma_switching and vcma_devices to tables_dir under the table contract."""
    counts = sweep_counts(p, seed)
    fit = fit_switching(p.sweep.amplitudes_V, counts, p.sweep.trajectories)
    if not min(p.sweep.amplitudes_V) < fit["V50_V"] < max(p.sweep.amplitudes_V):
        raise ValueError(f"vcma_mtj.sweep.amplitudes_V: the fitted 50 % point {fit['V50_V']:.3g} V lies outside the "
                         f"sweep {list(p.sweep.amplitudes_V)}")
    switching = switching_frame(p, counts, fit)
    operating = fit["V50_V"]
    devices = devices_frame(p, operating, fit, seed)
    energy = bit_energy(p, operating)
    common = {"device": device_figures(p), "fit": fit, "operating_V": operating, "energy_at_operating": energy,
              "seed": seed}
    d2d = {"v50_std_V": float(devices["v50_V"].std(ddof=1)), "p_sw_mean": float(devices["p_sw"].mean()),
           "p_sw_std": float(devices["p_sw"].std(ddof=1)),
           "p_sw_quantiles_10_50_90": devices["p_sw"].quantile([0.1, 0.5, 0.9]).tolist(),
           "fraction_outside_0.4_0.6": float(((devices["p_sw"] - 0.5).abs() > 0.1).mean()),
           "Ki_rel_sigma": p.variation.Ki_rel_sigma, "diameter_sigma_m": p.variation.diameter_sigma_m}
    write_table(tables_dir, "vcma_switching", switching, fitted=common, engine=ENGINE, engine_version=ENGINE_VERSION,
                provenance=provenance)
    write_table(tables_dir, "vcma_devices", devices, fitted={**common, "d2d": d2d}, engine=ENGINE,
                engine_version=ENGINE_VERSION, provenance=provenance)
    return {"switching": switching, "devices": devices, "fit": fit, "d2d": d2d, "energy": energy}


def plot(path, built: dict, p: VCMAMTJParams) -> None:
    """P_sw(V) with Wilson intervals and the fitted sigmoid's band; the devices' P_sw at the operating amplitude."""
    sw, dev, fit = built["switching"], built["devices"], built["fit"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    v = np.linspace(sw["amplitude_V"].min(), sw["amplitude_V"].max(), 200)
    prob, low, high = fit_band(fit, v)
    left.fill_between(v, low, high, color="C0", alpha=0.3, label=f"{fit['link']} fit, 95 % band")
    left.plot(v, prob, color="C0")
    left.errorbar(sw["amplitude_V"], sw["p_sw"], yerr=[sw["p_sw"] - sw["ci_low"], sw["ci_high"] - sw["p_sw"]],
                  fmt="o", color="k", ms=3, capsize=2, label=f"{p.sweep.trajectories} trajectories, Wilson 95 %")
    left.axvline(fit["V50_V"], color="C1", ls="--", label=f"V50 = {fit['V50_V']:.3f} V")
    left.set(xlabel="pulse amplitude (V)", ylabel="switching probability",
             title=f"{p.sweep.pulse_width_s * 1e9:g} ns pulse, {p.temperature_K:g} K")
    left.legend(fontsize=7)
    right.hist(dev["p_sw"], bins=20, range=(0, 1), color="C2")
    right.set(xlabel=f"P_sw at {built['fit']['V50_V']:.3f} V", ylabel="devices",
              title=f"{len(dev)} devices: Ki +-{p.variation.Ki_rel_sigma:.1%}, "
                    f"d +-{p.variation.diameter_sigma_m * 1e9:g} nm")
    fig.tight_layout()
    io.save_figure(path, fig)


def run_stage(p: VCMAMTJParams, seed: int, outdir, tables_dir, provenance: dict) -> dict:
    """The whole stage: the two tables into tables_dir, switching.png and run.json into outdir."""
    start = time.perf_counter()
    outdir = Path(outdir)
    built = build_tables(p, seed, tables_dir, provenance)
    plot(outdir / "switching.png", built, p)
    run = {"engine": ENGINE, "engine_version": ENGINE_VERSION, "seed": seed, "fit": built["fit"], "d2d": built["d2d"],
           "energy_at_operating": built["energy"], "wall_time_s": time.perf_counter() - start}
    io.write_json(outdir / "run.json", run)
    return run


def read_devices(tables_dir) -> tuple[np.ndarray, float]:
    """(P_sw of each drawn device at the operating amplitude, energy of one bit there (J)) from vcma_devices."""
    devices, sidecar = read_table(tables_dir, "vcma_devices")
    return devices["p_sw"].to_numpy(), float(sidecar["fitted"]["energy_at_operating"]["bit_J"])


def read_device_area_m2(tables_dir) -> float:
    """Junction area (m^2) of the nominal device of the vcma_devices table."""
    _, sidecar = read_table(tables_dir, "vcma_devices")
    return float(sidecar["fitted"]["device"]["area_m2"])
