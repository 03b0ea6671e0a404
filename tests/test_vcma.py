"""The VCMA MTJ macrospin (devices/vcma.py) against analytic results: demagnetising factors, the Boltzmann
distribution at 300 K, the Kittel and Larmor precession frequencies, and precessional switching."""
import dataclasses
import math

import jax
import numpy as np
import pytest
import yaml
from scipy import special, stats

from devices import vcma
from devices.params import VCMAMTJParams
from devices.physics import MU0

from tests.conftest import REPO

K_B = 1.380649e-23


@pytest.fixture(scope="module")
def params():
    return VCMAMTJParams.from_config(yaml.safe_load((REPO / "config" / "config.yaml").read_text())["vcma_mtj"])


def test_demag_factors_against_tabulated_and_limits():
    # cylinder with length = diameter: magnetometric Nz = 0.3116 (Chen, Brug, Goldfarb, IEEE Trans. Magn. 27,
    # 3601 (1991), Table)
    nx, nz = vcma.cylinder_demag_factors(1.0, 1.0)
    assert nz == pytest.approx(0.3116, abs=5e-4)
    assert 2 * nx + nz == pytest.approx(1.0, abs=1e-12)
    # thin disk, tau = 0.002: 1 - Nz ~ (tau / pi) (ln(8 / tau) - 1 / 2), the leading terms for tau -> 0
    tau = 0.002
    assert 1 - vcma.cylinder_demag_factors(1.0, tau / 2)[1] == pytest.approx(tau / math.pi * (math.log(8 / tau) - 0.5),
                                                                             rel=0.03)
    # long rod, tau = L / R = 200: Nz ~ (2 / tau) (4 / (3 pi) - 1 / (4 tau)) from the small-x expansion of J1
    tau = 200.0
    assert vcma.cylinder_demag_factors(1.0, tau / 2)[1] == pytest.approx(2 / tau * (4 / (3 * math.pi) - 1 / (4 * tau)),
                                                                         rel=2e-3)


def test_anisotropy_and_compensation_voltage_from_the_equations(params):
    spin = vcma.Macrospin.from_params(params)
    nx, nz = vcma.cylinder_demag_factors(params.diameter_m, params.t_free_m)
    k_shape = MU0 * params.Ms_A_per_m ** 2 * (nz - nx) / 2
    k_eff = params.Ki_J_per_m2 / params.t_free_m - k_shape
    assert spin.k_eff_J_per_m3(0.0) == pytest.approx(k_eff, rel=1e-12)
    # K_eff(V) = 0 where the VCMA change of Ki, xi V / t_ox, eats the margin Ki - K_shape t_F
    v_c = (params.Ki_J_per_m2 - k_shape * params.t_free_m) * params.t_barrier_m / params.xi_J_per_V_m
    assert spin.compensation_voltage_V == pytest.approx(v_c, rel=1e-12)
    assert spin.k_eff_J_per_m3(v_c) == pytest.approx(0.0, abs=1e-9 * k_eff)


def test_design_rules_of_the_configured_device(params):
    """docs/vcma.md: half a Larmor period about the bias field is 1 ns, and the barrier at rest is 20 k_B T."""
    spin = vcma.Macrospin.from_params(params)
    half_period = math.pi / (vcma.GAMMA0_M_PER_A_S * params.bias_field_A_per_m)
    assert half_period == pytest.approx(1e-9, rel=2e-3)
    assert spin.stability(0.0) == pytest.approx(20.0, rel=0.02)


def _boltzmann_cdf(delta):
    """CDF of |m_z| on [0, 1] for the density exp(delta m_z^2) (uniform measure in m_z on the sphere)."""
    return lambda u: special.erfi(math.sqrt(delta) * np.asarray(u)) / special.erfi(math.sqrt(delta))


def test_equilibrium_mz_follows_boltzmann_at_300K():
    """No pulse, no bias: |m_z| of independent trajectories after equilibration is distributed as
    exp(K_eff Vol m_z^2 / k_B T); a distribution with a 25 % larger barrier is rejected by the same test."""
    hk = 8.0e4
    delta = 3.0
    ms = 1.257e6
    volume = delta * K_B * 300.0 / (MU0 * ms * hk / 2)
    spin = vcma.Macrospin(Ms_A_per_m=ms, alpha=0.1, volume_m3=volume, hk0_A_per_m=hk, hk_per_volt_A_per_m=0.0,
                          bias_A_per_m=0.0, temperature_K=300.0)
    assert spin.stability(0.0) == pytest.approx(delta)
    n, dt = 2000, 0.5e-12
    m0 = np.tile([0.0, 0.0, 1.0], (n, 1))
    steps = 24000           # 12 ns; relaxation time 1 / (alpha gamma0 H_k) = 0.57 ns
    _, records = vcma.simulate(spin, m0, np.zeros(steps), dt, jax.random.PRNGKey(1), record_every=4000)
    samples = np.abs(np.asarray(records[2::2, :, 2])).ravel()   # 4, 8, 12 ns: 3 x 2000 values
    p = stats.kstest(samples, _boltzmann_cdf(delta)).pvalue
    assert p > 0.01, p
    assert stats.kstest(samples, _boltzmann_cdf(1.25 * delta)).pvalue < 1e-3


def _frequency_Hz(mz, dt):
    """Mean frequency from the upward zero crossings of m_z(t), linearly interpolated."""
    i = np.nonzero((mz[:-1] < 0) & (mz[1:] >= 0))[0]
    t = (i + mz[i] / (mz[i] - mz[i + 1])) * dt
    return (len(t) - 1) / (t[-1] - t[0])


def test_precession_frequency_kittel_and_larmor(params):
    """T = 0, small damping. In-plane field H above H_k at rest: f = gamma0 / 2 pi sqrt(H (H - H_k)) (Kittel);
    at the compensation voltage (K_eff = 0): f = gamma0 H / 2 pi (Larmor). Both within 2 %."""
    spin = dataclasses.replace(vcma.Macrospin.from_params(params), alpha=1e-3, temperature_K=0.0)
    tilt = np.array([[math.cos(0.05), 0.0, math.sin(0.05)]])
    dt = 0.2e-12
    h = 2.0 * spin.hk0_A_per_m
    kittel = dataclasses.replace(spin, bias_A_per_m=h)
    _, rec = vcma.simulate(kittel, tilt, np.zeros(50000), dt, jax.random.PRNGKey(0), record_every=1)
    expected = vcma.GAMMA0_M_PER_A_S / (2 * math.pi) * math.sqrt(h * (h - spin.hk0_A_per_m))
    f = _frequency_Hz(np.asarray(rec[:, 0, 2], dtype=float), dt)
    assert f == pytest.approx(expected, rel=0.02)
    assert abs(f / (vcma.GAMMA0_M_PER_A_S * h / (2 * math.pi)) - 1) > 0.2   # not the Larmor value
    v_c = spin.compensation_voltage_V
    _, rec = vcma.simulate(spin, tilt, np.full(50000, v_c), dt, jax.random.PRNGKey(0), record_every=1)
    f = _frequency_Hz(np.asarray(rec[:, 0, 2], dtype=float), dt)
    assert f == pytest.approx(vcma.GAMMA0_M_PER_A_S * spin.bias_A_per_m / (2 * math.pi), rel=0.02)


def test_precessional_switching_at_zero_temperature(params):
    """At K_eff = 0 the layer precesses about the bias field: a pulse of half a period (the design rule's 1 ns)
    reverses m_z, one of a whole period returns it."""
    spin = dataclasses.replace(vcma.Macrospin.from_params(params), temperature_K=0.0)
    m0 = spin.equilibrium(0.0, up=True)[None, :]
    dt = 1e-12
    for width, flips in ((1e-9, True), (2e-9, False)):
        volts = vcma.pulse_voltages(spin.compensation_voltage_V, width, dt, before_s=0.1e-9, after_s=5e-9)
        m, _ = vcma.simulate(spin, m0, volts, dt, jax.random.PRNGKey(0))
        assert (float(m[0, 2]) < 0) == flips, (width, float(m[0, 2]))


# ---------------------------------------------------------------- the device stage (devices/vcma_tables.py)


def test_boltzmann_sample_matches_the_in_well_distribution():
    """Rejection samples of the upper well without a bias field: m_z distributed as exp(delta m_z^2) on [0, 1]."""
    spin = vcma.Macrospin(Ms_A_per_m=1.257e6, alpha=0.02, volume_m3=1e-24, hk0_A_per_m=2e4, hk_per_volt_A_per_m=0.0,
                          bias_A_per_m=0.0, temperature_K=300.0)
    delta = spin.k_eff_J_per_m3(0.0) * spin.volume_m3 / (K_B * 300.0)
    m = vcma.boltzmann_sample(spin, 20000, np.random.default_rng(0))
    assert np.allclose(np.linalg.norm(m, axis=1), 1.0) and (m[:, 2] >= 0).all()
    assert stats.kstest(m[:, 2], _boltzmann_cdf(delta)).pvalue > 0.01
    assert stats.kstest(m[:, 2], _boltzmann_cdf(1.1 * delta)).pvalue < 1e-3


def test_sigmoid_fit_recovers_known_parameters():
    """Binomial draws from a known Gumbel sigmoid: the maximum-likelihood fit finds b0, b1 within 3 standard errors,
    its deviance is consistent with chi-square, and the Gumbel fits better than the logistic."""
    from devices import vcma_tables
    rng = np.random.default_rng(3)
    v = np.linspace(0.8, 1.8, 11)
    b0, b1, n = -9.0, 8.0, 20000
    counts = rng.binomial(n, np.exp(-np.exp(-(b0 + b1 * v))))
    fit = vcma_tables.fit_switching(v, counts, n)
    assert fit["link"] == "gumbel"
    se = np.sqrt(np.diag(fit["cov_b"]))
    assert abs(fit["b0"] - b0) < 3 * se[0] and abs(fit["b1_per_V"] - b1) < 3 * se[1]
    assert fit["V50_V"] == pytest.approx((-math.log(math.log(2)) - b0) / b1, abs=3 * fit["V50_se_V"])
    assert fit["deviance_p"] > 1e-3
    p, low, high = vcma_tables.fit_band(fit, v)
    assert (low < p).all() and (p < high).all()


def test_wilson_interval_textbook_values():
    from devices import vcma_tables
    low, high = vcma_tables.wilson([0, 5], 10)
    assert low[0] == 0.0 and high[0] == pytest.approx(1.959964 ** 2 / (10 + 1.959964 ** 2), rel=1e-6)  # 0 of 10
    assert low[1] == pytest.approx(1 - high[1], rel=1e-9)  # symmetric about 1/2 at 5 of 10


def test_bit_energy_from_the_circuit(params):
    from devices import vcma_tables
    area = math.pi * params.diameter_m ** 2 / 4
    c = 8.8541878188e-12 * params.eps_r_barrier * area / params.t_barrier_m
    g = area / (params.RA_ohm_um2 * 1e-12)
    e = vcma_tables.bit_energy(params, 1.2)
    assert e["capacitance_F"] == pytest.approx(c, rel=1e-12)
    assert e["bit_J"] == pytest.approx(c * 1.44 + 1.44 * g * params.sweep.pulse_width_s
                                       + params.read_voltage_V ** 2 * g * params.read_time_s, rel=1e-12)


def test_stage_tables_follow_the_contract(params, tmp_path):
    """A small run of the stage: both tables read back through the contract; P_sw rises through 1/2 across the
    sweep; the devices' P_sw at the operating amplitude centre near 1/2 and spread with the variation."""
    from devices import vcma_tables
    from pipeline.table_contract import read_table
    small = dataclasses.replace(params, sweep=dataclasses.replace(params.sweep, trajectories=400),
                                variation=dataclasses.replace(params.variation, devices=8, trajectories=200))
    run = vcma_tables.run_stage(small, 0, tmp_path, tmp_path, {"test": True})
    switching, sidecar = read_table(tmp_path, "vcma_switching")
    devices, _ = read_table(tmp_path, "vcma_devices")
    assert switching["p_sw"].iloc[0] < 0.1 and switching["p_sw"].iloc[-1] > 0.9
    assert min(small.sweep.amplitudes_V) < sidecar["fitted"]["fit"]["V50_V"] < max(small.sweep.amplitudes_V)
    assert ((switching["ci_low"] <= switching["p_sw"]) & (switching["p_sw"] <= switching["ci_high"])).all()
    assert len(devices) == 8 and devices["p_sw"].std() > 0.05
    assert (tmp_path / "switching.png").stat().st_size > 10_000 and run["wall_time_s"] > 0


def test_macrospin_and_magnumnp_agree_on_one_pulse(params):
    """The same 4000 initial states and pulse (the sweep's width at 1.14 V, near P_sw = 1/2) in this project's
    integrator and in magnum.np (its ThermalField and Heun solver, devices/vcma_magnumnp.py): the switched
    fractions agree within three standard errors of their difference."""
    from devices import vcma_magnumnp
    spin = vcma.Macrospin.from_params(params)
    n, dt, amplitude = 4000, params.sweep.time_step_s, 1.14
    m0 = vcma.boltzmann_sample(spin, n, np.random.default_rng(5))
    m_engine = vcma_magnumnp.run_pulse(spin, m0, amplitude, params.sweep.pulse_width_s, params.sweep.relax_s, dt, 0)
    volts = vcma.pulse_voltages(amplitude, params.sweep.pulse_width_s, dt, 0.0, params.sweep.relax_s)
    m_jax, _ = vcma.simulate(spin, m0, volts, dt, jax.random.PRNGKey(9))
    p_engine, p_jax = float(np.mean(m_engine[:, 2] < 0)), float(np.mean(np.asarray(m_jax[:, 2]) < 0))
    assert 0.2 < p_jax < 0.8
    pooled = (p_engine + p_jax) / 2
    assert abs(p_engine - p_jax) < 3 * math.sqrt(2 * pooled * (1 - pooled) / n), (p_engine, p_jax)
