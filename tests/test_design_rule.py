"""The crossbar design rule: IR drop of a line of cells, by hand and against a nodal solution of the ladder; the
tile's nodal solution against 4 x 4 networks solved by hand; the read-time rule by hand."""
import numpy as np
import pytest

from devices import crossbar
from devices.params import CrossbarParams

RULE_SECTION = {"tile_rows": 128, "tile_columns": 128, "read_voltage_V": 0.1, "read_time_s": 1e-9,
                "temperature_K": 300.0, "max_ir_drop_fraction": 0.1,
                "wire": {"width_m": 100e-9, "aspect_ratio": 1.7, "resistivity_ohm_m": 2.37e-8}}
RULE = CrossbarParams.from_config(RULE_SECTION)


def test_hand_values():
    r = crossbar.wire_resistance_per_cell_ohm(RULE, 680e-9)
    assert r == pytest.approx(2.37e-8 * 680e-9 / (100e-9 * 170e-9), rel=1e-12)  # 0.948 ohm
    figures = crossbar.design_rule(RULE, 10e-6, 680e-9)
    assert figures["ir_drop_fraction"] == pytest.approx(r * 10e-6 * 128 * 129 / 2, rel=1e-12)  # 0.0783
    assert figures["holds"] and figures["line_current_A"] == pytest.approx(128 * 0.1 * 10e-6)
    assert crossbar.max_conductance_S(RULE, 680e-9) == pytest.approx(0.1 / (r * 8256), rel=1e-12)


def test_read_time_rule_by_hand():
    """At the rule's read time a 128-cell column's noise std equals one gap's current: shot noise with its thermal
    limit written out from the constants, S_I = 2 e I coth(e V / 2 k_B T), independently of devices.mtj."""
    e, k_b, T, V = 1.602176634e-19, 1.380649e-23, 300.0, 0.1
    levels = np.array([8.0e-6, 8.06e-6, 8.1e-6, 8.2e-6])  # smallest gap 40 nS
    figures = crossbar.read_time_rule(RULE, levels)
    t = figures["level_resolving_read_time_s"]
    g = levels.mean()
    noise_density = 2 * e * g * V / np.tanh(e * V / (2 * k_b * T))
    assert np.sqrt(128 * noise_density / (2 * t)) == pytest.approx(40e-9 * V, rel=1e-9)
    assert figures["smallest_gap_S"] == pytest.approx(40e-9, rel=1e-9)
    assert not figures["holds"] and t > 1e-7  # a 1 ns read cannot resolve a 40 nS level on this column
    assert crossbar.read_time_rule(CrossbarParams.from_config({**RULE_SECTION, "read_time_s": 2 * t}), levels)["holds"]


def ladder_far_drop(r_ohm: float, G_S: float, n: int) -> float:
    """Exact relative drop at the far cell of a line fed at V = 1 through n segments r, each node n to ground by G."""
    # Kirchhoff at node k: (v[k-1] - v[k]) / r = G v[k] + (v[k] - v[k+1]) / r, v[0] = 1, no current past node n
    a = np.zeros((n, n))
    b = np.zeros(n)
    for k in range(n):
        a[k, k] = 1 / r_ohm + G_S + (1 / r_ohm if k < n - 1 else 0)
        if k > 0:
            a[k, k - 1] = -1 / r_ohm
        else:
            b[k] = 1 / r_ohm
        if k < n - 1:
            a[k, k + 1] = -1 / r_ohm
    return 1 - np.linalg.solve(a, b)[-1]


@pytest.mark.parametrize("G_S", [2e-6, 12e-6, 40e-6])
def test_first_order_bound_against_the_ladder(G_S):
    """The first-order drop r G N(N+1)/2 bounds the exact one from above and matches it while the drop is small."""
    r = crossbar.wire_resistance_per_cell_ohm(RULE, 680e-9)
    first_order = crossbar.design_rule(RULE, G_S, 680e-9)["ir_drop_fraction"]
    exact = ladder_far_drop(r, G_S, 128)
    assert exact <= first_order
    assert exact == pytest.approx(first_order, rel=first_order)  # the error is of the order of the drop itself


def test_broken_rule_is_one_line_naming_the_keys():
    with pytest.raises(crossbar.DesignRuleError) as error:
        crossbar.check(RULE, 24e-3, 680e-9, 0.1224e-12)  # the 41-ohm synapse of RA 5 ohm um^2
    message = str(error.value)
    assert "\n" not in message and message.startswith("synapse.mtj.RA_ohm_um2:")
    assert "crossbar.max_ir_drop_fraction" in message and "crossbar.tile_rows" in message


@pytest.mark.parametrize("i", range(4))
@pytest.mark.parametrize("j", range(4))
def test_tile_with_one_cell_is_a_series_circuit(i, j):
    """4 x 4 tile, only cell (i, j) conducting: V_i drives j + 1 row segments, the cell and 4 - i column segments
    in series; every other column carries nothing."""
    g = np.zeros((4, 4))
    g[i, j] = 50e-6
    volts = np.array([0.1, -0.2, 0.3, 0.05])
    currents, across = crossbar.solve_tile(g, volts, 80.0)
    by_hand = volts[i] / ((j + 1) * 80.0 + 1 / 50e-6 + (4 - i) * 80.0)
    assert currents[j] == pytest.approx(by_hand, rel=1e-10)
    assert np.abs(np.delete(currents, j)).max() < 1e-15
    assert across[i, j] == pytest.approx(by_hand / 50e-6, rel=1e-10)


def test_tile_conserves_current_and_power():
    rng = np.random.default_rng(0)
    g = rng.uniform(5e-6, 100e-6, (4, 4))
    volts = rng.uniform(-0.1, 0.1, 4)
    currents, across = crossbar.solve_tile(g, volts, 300.0)
    cell = g * across
    assert currents.sum() == pytest.approx(cell.sum(), rel=1e-10)  # every cell's current reaches a column end
    np.testing.assert_allclose(currents, cell.sum(0), rtol=1e-10)
    row_current = cell.sum(1)  # drawn from each driver
    row_segments = np.cumsum(cell[:, ::-1], axis=1)[:, ::-1]  # segment before cell j carries cells j..3
    column_segments = np.cumsum(cell, axis=0)  # segment after row i carries rows 0..i
    dissipated = (g * across ** 2).sum() + 300.0 * ((row_segments ** 2).sum() + (column_segments ** 2).sum())
    assert float(volts @ row_current) == pytest.approx(dissipated, rel=1e-10)


def test_attenuation_to_first_order_and_without_wires():
    """Uniform 4 x 4 tile: cell (i, j) loses r G V [sum_{n<=j} (4 - n) + sum_{n>=i} (n + 1)] to first order
    (the row segments before it carry the cells from theirs on, the column segments after it the rows above)."""
    r, g = 1.0, 1e-4  # r G = 1e-4
    first = np.array([[1 - r * g * (sum(4 - n for n in range(j + 1)) + sum(n + 1 for n in range(i, 4)))
                       for j in range(4)] for i in range(4)])
    a = crossbar.attenuation(4, 4, g, r)
    np.testing.assert_allclose(a, first, atol=(r * g * 20) ** 2)
    assert a[0, 3] == a.min() and a[3, 0] == a.max()  # far end of the first row, first cell of the last row
    currents, _ = crossbar.solve_tile(np.full((4, 4), g), np.full(4, 0.1), 1e-9)  # wires ~ 0: I = G^T V
    np.testing.assert_allclose(currents, 4 * 0.1 * g, rtol=1e-8)
