"""Physics shared by the skyrmion synapse and the domain-wall activation."""
from __future__ import annotations

import math

import discretisedfield as df
import micromagneticmodel as mm
import numpy as np

from devices.constants import MU0
from devices.params import Material



def wall_width_m(A_J_per_m: float, Ku_J_per_m3: float, Ms_A_per_m: float) -> float:
    """Bloch wall width parameter Delta = sqrt(A / K_eff) (m) of a thin film with perpendicular
    anisotropy, K_eff = Ku - mu0 Ms^2 / 2 (the shape anisotropy of the film subtracted)."""
    return math.sqrt(A_J_per_m / (Ku_J_per_m3 - MU0 * Ms_A_per_m ** 2 / 2))


def build_system(mesh: df.Mesh, material: Material, Ku_J_per_m3: np.ndarray, m_unit: np.ndarray,
                 name: str) -> mm.System:
    """Exchange + interfacial DMI (Cnv_z) + uniaxial anisotropy Ku per cell (J/m^3, easy axis z) + demag;
    LLG precession and damping alpha; m = m_unit (per cell) times Ms."""
    system = mm.System(name=name)
    K = df.Field(mesh, nvdim=1, value=Ku_J_per_m3)
    system.energy = (mm.Exchange(A=material.A_J_per_m) + mm.DMI(D=material.D_J_per_m2, crystalclass="Cnv_z")
                     + mm.UniaxialAnisotropy(K=K, u=(0, 0, 1)) + mm.Demag())
    system.dynamics = mm.Precession(gamma0=mm.consts.gamma0) + mm.Damping(alpha=material.alpha)
    system.m = df.Field(mesh, nvdim=3, value=m_unit, norm=material.Ms_A_per_m)
    return system
