"""Physical constants (SI units), each with its source; one definition for every module.

The 2019 SI fixes k_B, e and h exactly (BIPM, The International System of Units, 9th edition, 2019); the others
are CODATA recommended values (Tiesinga et al., Rev. Mod. Phys. 93, 025010 (2021) for 2018; CODATA 2022).
"""
from __future__ import annotations

import math

# Vacuum permeability (T m/A = N/A^2): the defined value of the SI before 2019; CODATA 2018 gives
# 1.25663706212(19)e-6, equal to it within 6e-10 (relative).
MU0 = 4e-7 * math.pi
EPS0_F_PER_M = 8.8541878188e-12          # vacuum permittivity (F/m), CODATA 2022
K_B_J_PER_K = 1.380649e-23               # Boltzmann constant (J/K), exact in the 2019 SI
E_CHARGE_C = 1.602176634e-19             # elementary charge (C), exact in the 2019 SI
HBAR_J_S = 1.054571817e-34               # reduced Planck constant h / 2 pi (J s), h exact in the 2019 SI
GAMMA_E_RAD_PER_S_T = 1.76085963023e11   # electron gyromagnetic ratio |gamma_e| (rad/(s T)), CODATA 2018
ZERO_CELSIUS_K = 273.15                  # 0 degC in kelvin (K), by definition
