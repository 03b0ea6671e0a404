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
