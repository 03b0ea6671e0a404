"""MTJ readout: parallel-cell conductance limits, unit conversion and the electrical energies."""

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
