"""The VCMA macrospin's pulse run in magnum.np, to cross-check devices/vcma.py with the micromagnetic engine.

N independent trajectories are N uncoupled cells of one magnum.np mesh (no exchange, no demagnetising field;
the disk's shape anisotropy is in K_eff as in the macrospin), each of the free layer's volume, so that
magnum.np's thermal field (its ThermalField, the same Brown variance per cell volume) and its Heun solver
integrate N copies of the same macrospin: uniaxial anisotropy K_eff(V(t)) along z, the in-plane bias field,
Gilbert damping, temperature T.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from devices.magnumnp_engine import _magnumnp, device
from devices.vcma import Macrospin


def run_pulse(spin: Macrospin, m0: np.ndarray, amplitude_V: float, width_s: float, after_s: float, dt_s: float,
              seed: int) -> np.ndarray:
    """Final unit magnetisations (N, 3) after a rectangular pulse of amplitude_V for width_s, then after_s at 0 V,
    from m0 (N, 3), with magnum.np's Heun solver at the fixed step dt_s (float64)."""
    mn = _magnumnp()
    torch.manual_seed(seed)
    dev = device()
    n = len(m0)
    side = math.sqrt(spin.volume_m3 / 1e-9)  # a square cell of the layer's volume, 1 nm thick
    state = mn.State(mn.Mesh((n, 1, 1), (side, side, 1e-9)))

    def tensor(a):
        return torch.as_tensor(np.ascontiguousarray(a), dtype=torch.float64, device=dev)

    ku_rest = tensor(np.full((n, 1, 1, 1), float(spin.k_eff_J_per_m3(0.0))))
    ku_pulse = tensor(np.full((n, 1, 1, 1), float(spin.k_eff_J_per_m3(amplitude_V))))
    state.material["Ms"] = tensor(np.full((n, 1, 1, 1), spin.Ms_A_per_m))
    state.material["alpha"] = spin.alpha
    state.material["Ku_axis"] = tensor(np.broadcast_to([0.0, 0.0, 1.0], (n, 1, 1, 3)))
    pulse_steps = round(width_s / dt_s)
    state.material["Ku"] = lambda s: ku_pulse if s._step < pulse_steps else ku_rest  # both Heun stages of a step
    state.T = spin.temperature_K
    state.m = tensor(np.asarray(m0, dtype=float).reshape(n, 1, 1, 3))
    bias = tensor(np.broadcast_to([spin.bias_A_per_m, 0.0, 0.0], (n, 1, 1, 3)))
    terms = [mn.UniaxialAnisotropyField(), mn.ExternalField(bias), mn.ThermalField()]
    llg = mn.LLGSolver(terms)   # its right-hand side dm/dt; the steps are magnum.np's Heun at a fixed dt
    heun = mn.Heun(lambda s: llg.dm(s.t, s.m, s), dt=dt_s)
    for _ in range(pulse_steps + round(after_s / dt_s)):
        heun.step(state, dt_s)  # the thermal field is drawn once per step (state._step) and held for both stages
        state.m = state.m / torch.linalg.norm(state.m, dim=-1, keepdim=True)
    return state.m.detach().cpu().numpy().reshape(n, 3)
