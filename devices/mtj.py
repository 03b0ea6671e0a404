"""MTJ readout and electrical energies (SI units; RA in the config's ohm um^2).

Reference layer along +z; every free-layer cell under the MTJ is a parallel channel:
g = (G_P / N) sum_cells [ (1 + m_z)/2 + (1 - m_z)/2 / (1 + TMR) ], G_P = area / RA.
"""
from __future__ import annotations

import numpy as np

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
