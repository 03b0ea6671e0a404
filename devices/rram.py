"""Passive (0T1R) Pt/Al2O3/TiO2-x RRAM: the compact phenomenological model of Nili et al.

H. Nili, A. F. Vincent, M. Prezioso, M. R. Mahmoodi, I. Kataeva, D. B. Strukov, "Comprehensive compact
phenomenological modeling of integrated metal-oxide memristors", IEEE Trans. Nanotechnology 19, 344 (2020).
The coefficients below are those of the public re-implementation
github.com/caixunshiren/pytorch-metal-oxide-memristor-crossbar (memristor/params.yaml and
memristor/dynamic_params.txt), which transcribes the paper's tables; docs/rram.md lists the conventions
this module had to decide. G0 is a device's state: its programmed conductance (S).

Static I-V, per device:  I(V) = A1 V + A3 V^3,
    A1 = a0 + a1 G0 + a2 T + xi sigma_A1,    sigma_A1 = p0 + p1 G0 + p2 T + p3 G0^2
    A3 = b0 G0 + b1 G0^2 + b2 T^-1.33 + xi sigma_A3,
    sigma_A3 = q0 + q1 G0 + q2 T + q3 G0^2 + q4 G0 T
with T in degrees Celsius and xi ~ N(0, 1) drawn once per device (device-to-device variation).
Temporal (read) noise: Johnson-Nyquist current noise of the chord conductance I/V over the read bandwidth
1 / (2 t_read), with T in kelvin, redrawn per read.

Switching, per pulse of amplitude V (V) and duration t (s), L = ln(t / 1 s), coefficients of the
conductance bin holding G0:
    SET:   D = c0 (1 - tanh(c1 (L - c2))) (tanh(c3 V - c4) + 1)
    RESET: D = c0 (-1 - tanh(c1 (L - c2))) (tanh(c3 V - c4) - 1)
    spread s = D (d0 + d1 L^2 + d2 V L + d3 V^2 L + d4 V^3)
    dG = D + s (sqrt(f) zeta_device + sqrt(1 - f) zeta_pulse),  f = SWITCHING_D2D_FRACTION = 1/2
The model gives one spread s; this project splits its variance equally (an assumption: no source gives the
split; the re-implementation draws it all once per device, f = 1) into a device-to-device part
(zeta_device ~ N(0, 1), drawn once per device) and a cycle-to-cycle part (zeta_pulse, redrawn per pulse),
so that the total spread is the model's. G0 stays inside the model's window [3.16, 316] uS.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from devices.arrays import array_module
from devices.constants import K_B_J_PER_K, ZERO_CELSIUS_K


# Static I-V coefficients: (value, unit) with T in degrees Celsius
A1_COEFFS = {"a0": (-2.58e-6, "S"), "a1": (0.977, "1"), "a2": (1.166e-7, "S/degC")}
A1_SPREAD = {"p0": (-1.07e-6, "S"), "p1": (0.25, "1"), "p2": (2.20e-8, "S/degC"), "p3": (-1300.0, "1/S")}
A3_COEFFS = {"b0": (1.18, "1/V^2"), "b1": (6596.0, "1/(S V^2)"), "b2": (1.605e-3, "S degC^1.33/V^2")}
A3_SPREAD = {"q0": (1.17e-5, "S/V^2"), "q1": (1.30, "1/V^2"), "q2": (-1.0e-7, "S/(degC V^2)"),
             "q3": (-6500.0, "1/(S V^2)"), "q4": (-2.50e-3, "1/(degC V^2)")}
A3_TEMPERATURE_EXPONENT = -1.33

# Switching coefficients per conductance bin. Bin edges (S): 10^(k/4) uS from 10^0.5 to 10^2.5
# (written out in S: a product such as 100.0 * 1e-6 is 9.999999999999999e-05, and a config value of 100.0e-6
# would not sit on the edge)
BIN_EDGES_S = np.array([3.16e-6, 5.62e-6, 10.0e-6, 17.8e-6, 31.6e-6, 56.2e-6, 100.0e-6, 178.0e-6, 316.0e-6])
SWITCHING_NAMES = ("c0", "c1", "c2", "c3", "c4", "d0", "d1", "d2", "d3", "d4")
SET_COEFFS = np.array([  # c0 (S), c1, c2, c3 (1/V), c4, d0, d1, d2 (1/V), d3 (1/V^2), d4 (1/V^3)
    [1.55e-4, -0.47, -3.851, 9.369, 10.4, -1.26, -0.02, 0.82, -0.57, 0.94],
    [1.55e-4, -0.47, -3.769, 7.512, 8.419, -1.22, -0.02, 0.84, -0.57, 0.81],
    [1.55e-4, -0.47, -3.729, 6.801, 7.582, -1.03, -0.02, 0.72, -0.47, 0.63],
    [1.55e-4, -0.47, -3.517, 6.180, 6.851, -0.78, -0.01, 0.53, -0.33, 0.45],
    [1.55e-4, -0.47, -3.426, 5.946, 6.558, -0.37, 5e-3, 0.15, -0.01, 0.11],
    [1.55e-4, -0.47, -3.373, 5.005, 5.792, 0.14, 0.01, -0.29, 0.31, -0.21],
    [1.55e-4, -0.47, -3.422, 4.936, 5.840, 0.34, 0.01, -0.41, 0.37, -0.29],
    [1.55e-4, -0.47, -3.572, 4.864, 5.785, 0.26, 0.01, -0.29, 0.25, -0.20]])
RESET_COEFFS = np.array([
    [-0.89e-4, 0.89, 8.96, 6.2, -10.90, 0.04, 2e-4, 0.02, 5e-3, 0.03],
    [-0.89e-4, 0.51, 6.88, 6.2, -8.61, -5e-3, -4e-4, -2e-3, -0.01, 0.02],
    [-0.89e-4, 0.34, 4.93, 6.2, -8.14, -0.07, -3e-3, -0.07, -0.05, -0.02],
    [-0.89e-4, 0.25, 3.63, 6.2, -7.77, -0.11, -4e-3, -0.11, -0.09, -0.03],
    [-0.89e-4, 0.23, 2.91, 6.2, -7.42, -0.15, -6e-3, -0.17, -0.13, -0.06],
    [-0.89e-4, 0.21, 2.33, 6.2, -7.30, -0.12, -5e-3, -0.16, -0.13, -0.06],
    [-0.89e-4, 0.22, 1.93, 6.2, -7.10, -0.04, -2e-3, -0.10, -0.11, -0.04],
    [-0.89e-4, 0.28, 1.68, 6.2, -7.00, 0.10, 3e-3, 0.02, -0.05, -4e-3]])

SWITCHING_D2D_FRACTION = 0.5  # share of the switching spread's variance drawn once per device (docstring)
MODEL_WINDOW_S = (float(BIN_EDGES_S[0]), float(BIN_EDGES_S[-1]))
# The ranges the model is stated for (the re-implementation's documentation and examples): reads within
# +-0.4 V; pulses 100 ns to 100 ms; SET +0.8 to +1.5 V; RESET -0.8 to -1.8 V (with these coefficients a
# RESET pulse above -1.2 V changes G0 by less than 0.3 % of its largest step)
READ_RANGE_V = 0.4
PULSE_DURATION_RANGE_S = (1e-7, 1e-1)
SET_RANGE_V = (0.8, 1.5)
RESET_RANGE_V = (-1.8, -0.8)


def read_coefficients(g0, temperature_C: float, xi=0.0):
    """(A1 (S), A3 (S/V^2)) of devices in state g0 (S) at temperature_C (degC), device draw xi (1)."""
    xp = array_module(g0, xi)
    T = temperature_C
    a1 = A1_COEFFS["a0"][0] + A1_COEFFS["a1"][0] * g0 + A1_COEFFS["a2"][0] * T
    s1 = A1_SPREAD["p0"][0] + A1_SPREAD["p1"][0] * g0 + A1_SPREAD["p2"][0] * T + A1_SPREAD["p3"][0] * g0 ** 2
    a3 = A3_COEFFS["b0"][0] * g0 + A3_COEFFS["b1"][0] * g0 ** 2 + A3_COEFFS["b2"][0] * T ** A3_TEMPERATURE_EXPONENT
    s3 = (A3_SPREAD["q0"][0] + A3_SPREAD["q1"][0] * g0 + A3_SPREAD["q2"][0] * T + A3_SPREAD["q3"][0] * g0 ** 2
          + A3_SPREAD["q4"][0] * g0 * T)
    return a1 + xp.asarray(xi) * s1, a3 + xp.asarray(xi) * s3


def read_spreads(g0, temperature_C: float):
    """(sigma_A1 (S), sigma_A3 (S/V^2)): the device-to-device spreads of the two coefficients."""
    a1, a3 = read_coefficients(g0, temperature_C, 1.0)
    m1, m3 = read_coefficients(g0, temperature_C, 0.0)
    return a1 - m1, a3 - m3


def current(voltage, a1, a3):
    """Noise-free current (A) through devices of coefficients a1 (S), a3 (S/V^2) at voltage (V)."""
    return a1 * voltage + a3 * voltage ** 3


def johnson_sigma(chord_conductance, temperature_C: float, read_time_s: float):
    """Johnson-Nyquist current noise (A, one standard deviation) of a conductance (S) over the read
    bandwidth 1 / (2 t_read) (Hz): sqrt(4 k_B T G df), T in kelvin."""
    xp = array_module(chord_conductance)
    bandwidth = 1.0 / (2.0 * read_time_s)
    return xp.sqrt(4.0 * K_B_J_PER_K * (temperature_C + ZERO_CELSIUS_K) * xp.abs(chord_conductance) * bandwidth)


def bin_index(g0):
    """Index (0..7) of the switching bin holding g0 (S); values outside the window take the end bins."""
    xp = array_module(g0)
    return xp.clip(xp.searchsorted(xp.asarray(BIN_EDGES_S), g0, side="right") - 1, 0, len(BIN_EDGES_S) - 2)


def switching_step(g0, amplitude_V: float, duration_s: float):
    """(mean step D (S), spread s (S)) of one pulse on devices in state g0 (S): SET for a positive
    amplitude, RESET for a negative one (module docstring)."""
    xp = array_module(g0)
    coeffs = xp.asarray(SET_COEFFS if amplitude_V > 0 else RESET_COEFFS)[bin_index(g0)]
    c0, c1, c2, c3, c4, d0, d1, d2, d3, d4 = (coeffs[..., k] for k in range(10))
    L, V = math.log(duration_s), amplitude_V
    if amplitude_V > 0:
        mean = c0 * (1.0 - xp.tanh(c1 * (L - c2))) * (xp.tanh(c3 * V - c4) + 1.0)
    else:
        mean = c0 * (-1.0 - xp.tanh(c1 * (L - c2))) * (xp.tanh(c3 * V - c4) - 1.0)
    spread = mean * (d0 + d1 * L ** 2 + d2 * V * L + d3 * V ** 2 * L + d4 * V ** 3)
    return mean, spread


def pulse_step(g0, amplitude_V: float, duration_s: float, zeta_device=0.0, zeta_pulse=0.0):
    """Conductance change (S) of one pulse on devices in state g0 (S), before the window clip:
    D + s (sqrt(f) zeta_device + sqrt(1 - f) zeta_pulse)."""
    mean, spread = switching_step(g0, amplitude_V, duration_s)
    f = SWITCHING_D2D_FRACTION
    return mean + spread * (math.sqrt(f) * zeta_device + math.sqrt(1.0 - f) * zeta_pulse)


def apply_pulse(g0, amplitude_V: float, duration_s: float, zeta_device=0.0, zeta_pulse=0.0):
    """New state (S) after one pulse (pulse_step), kept in the model's window."""
    xp = array_module(g0, zeta_device, zeta_pulse)
    step = pulse_step(g0, amplitude_V, duration_s, zeta_device, zeta_pulse)
    return xp.clip(g0 + step, MODEL_WINDOW_S[0], MODEL_WINDOW_S[1])


@dataclass(frozen=True)
class Population:
    """N devices: states g0 (S) and their standard-normal draws, fixed per device."""
    g0: np.ndarray
    xi_read: np.ndarray
    zeta_switch: np.ndarray

    @classmethod
    def draw(cls, g0, rng: np.random.Generator) -> Population:
        g0 = np.asarray(g0, dtype=float)
        return cls(g0, rng.standard_normal(g0.shape), rng.standard_normal(g0.shape))


def check_params(params) -> None:
    """Raise ValueError naming the `rram` key of a value outside the model (params: devices.params.RRAMParams)."""
    lo, hi = MODEL_WINDOW_S
    if not params.g_low_S < params.g_high_S:
        raise ValueError(f"rram.g_low_S: {params.g_low_S:g} S is not below rram.g_high_S ({params.g_high_S:g} S): "
                         f"the conductance window is inverted")
    for key in ("g_low_S", "g_high_S"):
        value = getattr(params, key)
        if not lo <= value <= hi:
            raise ValueError(f"rram.{key}: {value:g} S is outside the model's window [{lo:g}, {hi:g}] S")
    if not params.temperature_C > 0:
        raise ValueError(f"rram.temperature_C: {params.temperature_C:g} degC; the model's A3 term T^-1.33 "
                         f"(T in degC) needs T > 0")
    for key, (v_lo, v_hi) in (("set_pulse", SET_RANGE_V), ("reset_pulse", RESET_RANGE_V)):
        pulse = getattr(params, key)
        if not v_lo <= pulse.amplitude_V <= v_hi:
            raise ValueError(f"rram.{key}.amplitude_V: {pulse.amplitude_V:g} V is outside the model's range "
                             f"[{v_lo:g}, {v_hi:g}] V")
        t_lo, t_hi = PULSE_DURATION_RANGE_S
        if not t_lo <= pulse.duration_s <= t_hi:
            raise ValueError(f"rram.{key}.duration_s: {pulse.duration_s:g} s is outside the model's range "
                             f"[{t_lo:g}, {t_hi:g}] s")
