"""Voltage-controlled (VCMA) perpendicular MTJ free layer as a macrospin at temperature T.

The free layer is a disk (diameter d, thickness t_F, volume Vol) of saturation magnetisation Ms whose
interfacial anisotropy Ki a voltage V across the barrier (thickness t_ox) lowers through the VCMA
coefficient xi (the change of Ki per barrier field V / t_ox):

    K_eff(V) = (Ki - xi V / t_ox) / t_F - mu0 Ms^2 (Nz - Nx) / 2        (J/m^3, easy axis z)

with the disk's magnetometric demagnetising factors (`cylinder_demag_factors`). Energy of the unit
magnetisation m:  E = Vol [-K_eff m_z^2 - mu0 Ms H_b m_x],  H_b an in-plane bias field along +x.

Dynamics: the stochastic Landau-Lifshitz-Gilbert equation in Landau-Lifshitz form,

    dm/dt = -gamma0 / (1 + alpha^2) [m x H + alpha m x (m x H)],   H = H_k(V) m_z z + H_b x + H_th,
    H_k(V) = 2 K_eff(V) / (mu0 Ms),

with Brown's thermal field (W. F. Brown, Phys. Rev. 130, 1677 (1963)): Gaussian and white,
<H_th,i(t) H_th,j(t')> = 2 alpha k_B T / (gamma0 mu0 Ms Vol) delta_ij delta(t - t'), integrated with the
stochastic Heun scheme, which converges to the Stratonovich solution (J. L. Garcia-Palacios and F. J. Lazaro,
Phys. Rev. B 58, 14937 (1998)); m is renormalised after every step. Many independent trajectories run at
once as the rows of an (N, 3) array (JAX, float32).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from scipy import integrate, special

from devices.params import VCMAMTJParams
from devices.constants import GAMMA_E_RAD_PER_S_T, K_B_J_PER_K, MU0

GAMMA0_M_PER_A_S = GAMMA_E_RAD_PER_S_T * MU0  # gamma0 = |gamma_e| mu0 (m/(A s)) = 2.2128e5


def cylinder_demag_factors(diameter_m: float, thickness_m: float) -> tuple[float, float]:
    """Magnetometric demagnetising factors (Nx = Ny, Nz) of a uniformly magnetised cylinder with axis z:
    Nz = (2 / tau) int_0^inf J1(x)^2 / x^2 (1 - exp(-tau x)) dx, tau = thickness / radius (the energy of the
    two charged faces in Fourier-Bessel form); Nx = (1 - Nz) / 2. Limits: Nz -> 1 for a thin disk, -> 0 for a
    long rod."""
    tau = 2.0 * thickness_m / diameter_m

    def integrand(x):
        return special.j1(x) ** 2 / x ** 2 * -math.expm1(-tau * x) if x > 0 else 0.0

    # split at the first zeros of J1 so that quad sees one lobe of the oscillation at a time
    edges = [0.0, *special.jn_zeros(1, 200)]
    body = sum(integrate.quad(integrand, a, b, limit=200)[0] for a, b in zip(edges[:-1], edges[1:]))
    # beyond the last edge J1(x)^2 ~ 2 cos^2(...) / (pi x) averages to 1 / (pi x): tail ~ 1 / (2 pi X^2)
    tail = 1.0 / (2.0 * math.pi * edges[-1] ** 2)
    nz = 2.0 / tau * (body + tail)
    return (1.0 - nz) / 2.0, nz


@dataclass(frozen=True)
class Macrospin:
    """The free layer as the integrator needs it (SI units)."""
    Ms_A_per_m: float
    alpha: float
    volume_m3: float
    hk0_A_per_m: float          # anisotropy field 2 K_eff(0) / (mu0 Ms)
    hk_per_volt_A_per_m: float  # its decrease per volt: 2 xi / (mu0 Ms t_ox t_F)
    bias_A_per_m: float
    temperature_K: float
    gamma0_m_per_A_s: float = GAMMA0_M_PER_A_S

    @classmethod
    def from_params(cls, p: VCMAMTJParams) -> Macrospin:
        nx, nz = cylinder_demag_factors(p.diameter_m, p.t_free_m)
        k_eff0 = p.Ki_J_per_m2 / p.t_free_m - MU0 * p.Ms_A_per_m ** 2 * (nz - nx) / 2
        to_field = 2.0 / (MU0 * p.Ms_A_per_m)
        return cls(Ms_A_per_m=p.Ms_A_per_m, alpha=p.alpha,
                   volume_m3=math.pi * p.diameter_m ** 2 / 4 * p.t_free_m,
                   hk0_A_per_m=to_field * k_eff0,
                   hk_per_volt_A_per_m=to_field * p.xi_J_per_V_m / (p.t_barrier_m * p.t_free_m),
                   bias_A_per_m=p.bias_field_A_per_m, temperature_K=p.temperature_K)

    def hk_A_per_m(self, voltage_V):
        """Anisotropy field H_k(V) (A/m); negative once the voltage makes the layer easy-plane."""
        return self.hk0_A_per_m - self.hk_per_volt_A_per_m * voltage_V

    def k_eff_J_per_m3(self, voltage_V):
        """Effective anisotropy K_eff(V) = mu0 Ms H_k(V) / 2 (J/m^3)."""
        return MU0 * self.Ms_A_per_m * self.hk_A_per_m(voltage_V) / 2

    @property
    def compensation_voltage_V(self) -> float:
        """The voltage at which K_eff = 0 (V)."""
        return self.hk0_A_per_m / self.hk_per_volt_A_per_m

    def stability(self, voltage_V: float = 0.0) -> float:
        """Barrier between the two wells over k_B T (1): K_eff Vol / k_B T (1 - h)^2 with h = H_b / H_k, the
        Stoner-Wohlfarth barrier in a transverse field (0 for h >= 1)."""
        hk = self.hk_A_per_m(voltage_V)
        if hk <= 0:
            return 0.0
        h = min(self.bias_A_per_m / hk, 1.0)
        return self.k_eff_J_per_m3(voltage_V) * self.volume_m3 / (K_B_J_PER_K * self.temperature_K) * (1 - h) ** 2

    def thermal_sigma_A_per_m(self, dt_s: float) -> float:
        """Standard deviation (A/m) of each thermal-field component held for one step dt_s."""
        return np.sqrt(2 * self.alpha * K_B_J_PER_K * self.temperature_K
                       / (self.gamma0_m_per_A_s * MU0 * self.Ms_A_per_m * np.asarray(self.volume_m3) * dt_s))

    def equilibrium(self, voltage_V: float = 0.0, up: bool = True) -> np.ndarray:
        """Unit m of the zero-temperature minimum in the upper (or lower) well: tilted towards +x by
        sin(theta) = H_b / H_k; along +x where H_b >= H_k."""
        hk = self.hk_A_per_m(voltage_V)
        s = 1.0 if hk <= 0 else min(self.bias_A_per_m / hk, 1.0)
        return np.array([s, 0.0, (1.0 if up else -1.0) * math.sqrt(1.0 - s * s)])


def _cross(a, b):
    return jnp.stack([a[..., 1] * b[..., 2] - a[..., 2] * b[..., 1],
                      a[..., 2] * b[..., 0] - a[..., 0] * b[..., 2],
                      a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]], axis=-1)


def _normalise(m):
    return m / jnp.linalg.norm(m, axis=-1, keepdims=True)


@partial(jax.jit, static_argnames=("record_every",))
def _integrate(m0, voltages, key, hk0, hk_per_volt, bias, alpha, gamma0, sigma, dt, record_every):
    gamma_ll = gamma0 / (1.0 + alpha ** 2)

    def rhs(m, h):
        mxh = _cross(m, h)
        return -gamma_ll * (mxh + alpha * _cross(m, mxh))

    def step(carry, voltage):
        m, key = carry
        key, sub = jax.random.split(key)
        h_th = sigma[:, None] * jax.random.normal(sub, m.shape, dtype=m.dtype)
        hk = hk0 - hk_per_volt * voltage

        def field(m):
            return h_th + jnp.stack([jnp.full_like(m[:, 0], bias), jnp.zeros_like(m[:, 0]), hk * m[:, 2]], axis=-1)

        f1 = rhs(m, field(m))
        predicted = _normalise(m + dt * f1)
        m = _normalise(m + 0.5 * dt * (f1 + rhs(predicted, field(predicted))))
        return (m, key), None

    def block(carry, block_voltages):
        carry, _ = jax.lax.scan(step, carry, block_voltages)
        return carry, carry[0]

    (m, _), records = jax.lax.scan(block, (m0, key), voltages.reshape(-1, record_every))
    return m, records


def simulate(spin: Macrospin, m0, voltages_V, dt_s: float, key, record_every: int | None = None):
    """Integrate N trajectories from m0 (N, 3) through the voltage sequence voltages_V (V, one value per step
    of dt_s seconds). The spin's fields may be arrays of N values (one device per trajectory; alpha, bias and
    temperature shared). Returns (m at the end (N, 3), m after every record_every steps (n_records, N, 3));
    record_every defaults to the whole sequence (one record)."""
    voltages = jnp.asarray(voltages_V, dtype=jnp.float32)
    n = int(voltages.shape[0])
    record_every = n if record_every is None else int(record_every)
    if n == 0 or n % record_every:
        raise ValueError(f"{n} steps are not a positive multiple of record_every={record_every}")
    m0 = _normalise(jnp.asarray(m0, dtype=jnp.float32))
    rows = m0.shape[0]

    def per_row(value):
        return jnp.broadcast_to(jnp.asarray(value, dtype=jnp.float32), (rows,))

    sigma = spin.thermal_sigma_A_per_m(dt_s) if spin.temperature_K > 0 else 0.0
    return _integrate(m0, voltages, key, per_row(spin.hk0_A_per_m), per_row(spin.hk_per_volt_A_per_m),
                      spin.bias_A_per_m, spin.alpha, spin.gamma0_m_per_A_s, per_row(sigma), dt_s, record_every)


def pulse_voltages(amplitude_V: float, width_s: float, dt_s: float, before_s: float, after_s: float) -> np.ndarray:
    """A rectangular pulse (rise and fall within one step) with before_s at 0 V ahead and after_s behind it."""
    steps = [round(t / dt_s) for t in (before_s, width_s, after_s)]
    return np.concatenate([np.zeros(steps[0]), np.full(steps[1], amplitude_V), np.zeros(steps[2])])


def boltzmann_sample(spin: Macrospin, n: int, rng: np.random.Generator, voltage_V: float = 0.0,
                     up: bool = True) -> np.ndarray:
    """n unit vectors (n, 3) drawn from the Boltzmann distribution exp(-E / k_B T) of the free layer at rest
    (E = Vol [-K_eff m_z^2 - mu0 Ms H_b m_x]) restricted to the upper (or lower) hemisphere: rejection sampling
    of uniform directions, exact for any barrier."""
    kt = K_B_J_PER_K * spin.temperature_K
    k_vol = spin.k_eff_J_per_m3(voltage_V) * spin.volume_m3 / kt
    zeeman = MU0 * spin.Ms_A_per_m * spin.bias_A_per_m * spin.volume_m3 / kt

    def reduced_energy(m):
        return -k_vol * m[:, 2] ** 2 - zeeman * m[:, 0]

    e_min = float(reduced_energy(spin.equilibrium(voltage_V, up)[None, :])[0])
    out = []
    while sum(len(o) for o in out) < n:
        m = rng.standard_normal((max(4 * n, 100_000), 3))
        m /= np.linalg.norm(m, axis=1, keepdims=True)
        m[:, 2] = np.abs(m[:, 2]) if up else -np.abs(m[:, 2])
        keep = rng.random(len(m)) < np.exp(-(reduced_energy(m) - e_min))
        out.append(m[keep])
    return np.concatenate(out)[:n]


def switching_counts(spin: Macrospin, amplitudes_V, width_s: float, n: int, dt_s: float, seed: int,
                     after_s: float = 2e-9) -> np.ndarray:
    """For each pulse amplitude (V): how many of n trajectories, started in the upper well from the Boltzmann
    distribution at rest, end in the lower one after a rectangular pulse of width_s and after_s at 0 V."""
    rng = np.random.default_rng(seed)
    counts = []
    for i, amplitude in enumerate(amplitudes_V):
        m0 = boltzmann_sample(spin, n, rng)
        volts = pulse_voltages(float(amplitude), width_s, dt_s, before_s=0.0, after_s=after_s)
        m, _ = simulate(spin, m0, volts, dt_s, jax.random.PRNGKey(seed * 100_003 + i))
        counts.append(int(np.sum(np.asarray(m[:, 2]) < 0)))
    return np.array(counts)


def wilson_interval(k, n: int, z: float = 1.959963984540054):
    """Wilson score interval (lower, upper) of a binomial proportion k / n (z = 1.96: 95 %)."""
    k = np.asarray(k, dtype=float)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half
