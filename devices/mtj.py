"""MTJ readout and electrical energies (SI units; RA in the config's ohm um^2).

Reference layer along +z; every free-layer cell under the MTJ is a parallel channel:
g = (G_P / N) sum_cells [ (1 + m_z)/2 + (1 - m_z)/2 / (1 + TMR) ], G_P = area / RA.

Read noise of a tunnel junction (white, low-frequency; 1/f and random-telegraph noise are not modelled): the
one-sided current noise density S_I = 2 e I coth(e V / 2 k_B T), I = G V, which is Johnson's 4 k_B T G at V -> 0 and
Schottky's 2 e I for e V >> k_B T (Fano factor 1 of a tunnel barrier: Blanter and Buttiker, Phys. Rep. 336, 1
(2000); the formula measured on Al/AlOx junctions by Spietz et al., Science 300, 1929 (2003)). A read integrates
the current over t_read: its noise-equivalent bandwidth is 1 / (2 t_read).
"""
from __future__ import annotations

import numpy as np

from devices.arrays import array_module
from devices.constants import E_CHARGE_C, K_B_J_PER_K

UM2 = 1e-12  # m^2 per um^2


def parallel_state_conductance_S(area_m2: float, RA_ohm_um2: float) -> float:
    """G_P = area / RA (S) for an MTJ of area_m2 with resistance-area product RA (ohm um^2)."""
    return area_m2 / (RA_ohm_um2 * UM2)


def conductance_S(mz, area_m2: float, RA_ohm_um2: float, TMR: float) -> float:
    """Conductance (S) of an MTJ over the cells with (normalised) m_z values mz, cells in parallel."""
    mz = np.asarray(mz, dtype=float).ravel()
    if mz.size == 0:
        raise ValueError("no cells under the MTJ")
    per_cell = (1 + mz) / 2 + (1 - mz) / 2 / (1 + TMR)
    return float(parallel_state_conductance_S(area_m2, RA_ohm_um2) * per_cell.mean())


def read_energy_J(voltage_V: float, conductance_S: float, time_s: float) -> float:
    """Energy V^2 G t (J) of one read at voltage_V for time_s."""
    return voltage_V ** 2 * conductance_S * time_s


def joule_energy_J(resistivity_ohm_m: float, current_density_A_per_m2, volume_m3: float, time_s):
    """Joule energy rho J^2 V t (J) dissipated in a conductor of volume_m3 carrying J for time_s."""
    return resistivity_ohm_m * np.square(current_density_A_per_m2) * volume_m3 * time_s


def shot_excess_factor(voltage_V, temperature_K: float):
    """a coth(a), a = e |V| / (2 k_B T): the tunnel junction's noise over its Johnson noise 4 k_B T G (1 at V = 0;
    e |V| / 2 k_B T where shot noise dominates)."""
    xp = array_module(voltage_V)
    a = E_CHARGE_C * xp.abs(voltage_V) / (2 * K_B_J_PER_K * temperature_K)
    small = a < 1e-4
    safe = xp.where(small, 1.0, a)
    return xp.where(small, 1.0 + a * a / 3.0, safe / xp.tanh(safe))


def current_noise_density_A2_per_Hz(conductance_S, voltage_V, temperature_K: float):
    """One-sided current noise density S_I = 2 e G V coth(e V / 2 k_B T) = 4 k_B T G a coth(a) (A^2/Hz)."""
    return 4 * K_B_J_PER_K * temperature_K * conductance_S * shot_excess_factor(voltage_V, temperature_K)


def noise_bandwidth_Hz(read_time_s: float) -> float:
    """1 / (2 t_read) (Hz): white noise of density S integrated over t_read has variance S / (2 t_read)."""
    return 1.0 / (2.0 * read_time_s)


def read_current_sigma_A(conductance_S, voltage_V, temperature_K: float, read_time_s: float):
    """Standard deviation (A) of the current of one read of t_read at V: sqrt(S_I / (2 t_read))."""
    xp = array_module(conductance_S, voltage_V)
    return xp.sqrt(current_noise_density_A2_per_Hz(conductance_S, voltage_V, temperature_K)
                   * noise_bandwidth_Hz(read_time_s))
