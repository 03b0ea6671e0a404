"""MTJ readout: parallel-cell conductance limits, unit conversion and the electrical energies."""

import math

import numpy as np
import pytest

from devices import mtj

AREA = 0.01e-12  # 0.01 um^2 in m^2
RA, TMR = 5.0, 1.0


def test_parallel_state_conductance_converts_RA_from_ohm_um2():
    assert mtj.parallel_state_conductance_S(1e-12, 5.0) == pytest.approx(0.2)  # 1 um^2 / 5 ohm um^2


@pytest.mark.parametrize("n", [1, 7, 400])
def test_conductance_limits(n):
    g_p = mtj.parallel_state_conductance_S(AREA, RA)
    assert mtj.conductance_S(np.ones(n), AREA, RA, TMR) == pytest.approx(g_p)
    assert mtj.conductance_S(-np.ones(n), AREA, RA, TMR) == pytest.approx(g_p / (1 + TMR))


def test_conductance_is_the_cell_average_and_linear_in_mz():
    g_p = mtj.parallel_state_conductance_S(AREA, RA)
    half = np.r_[np.ones(10), -np.ones(10)]
    assert mtj.conductance_S(half, AREA, RA, TMR) == pytest.approx(g_p * (1 + 1 / (1 + TMR)) / 2)
    assert mtj.conductance_S(np.zeros(5), AREA, RA, TMR) == pytest.approx(mtj.conductance_S(half, AREA, RA, TMR))
    with pytest.raises(ValueError):
        mtj.conductance_S([], AREA, RA, TMR)


def test_energies():
    assert mtj.read_energy_J(0.1, 1e-3, 1e-9) == pytest.approx(1e-14)
    assert mtj.joule_energy_J(2e-7, 1e11, 1e-22, 1e-9) == pytest.approx(2e-7 * 1e22 * 1e-22 * 1e-9)


def test_tunnel_junction_noise_limits_and_a_value_by_hand():
    k_b, e = 1.380649e-23, 1.602176634e-19
    g, t = 1e-4, 300.0
    assert mtj.current_noise_density_A2_per_Hz(g, 0.0, t) == pytest.approx(4 * k_b * t * g, rel=1e-12)  # Johnson
    assert mtj.current_noise_density_A2_per_Hz(g, 1.0, t) == pytest.approx(2 * e * g * 1.0, rel=1e-12)  # Schottky
    a = e * 0.1 / (2 * k_b * t)  # 1.934 at 0.1 V and 300 K
    by_hand = 2 * e * g * 0.1 * math.cosh(a) / math.sinh(a)
    assert mtj.current_noise_density_A2_per_Hz(g, -0.1, t) == pytest.approx(by_hand, rel=1e-12)
    assert mtj.shot_excess_factor(np.array([1e-7, 1e-3]), t) == pytest.approx([1.0, 1.0 + (e * 1e-3 / (2 * k_b * t)) ** 2 / 3], rel=1e-6)
    assert mtj.read_current_sigma_A(g, 0.1, t, 1e-9) == pytest.approx(math.sqrt(by_hand / 2e-9), rel=1e-12)
