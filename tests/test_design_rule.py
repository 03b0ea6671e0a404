"""The crossbar design rule: IR drop of a line of cells, by hand and against a nodal solution of the ladder."""
import numpy as np
import pytest

from devices import crossbar
from devices.params import CrossbarParams

RULE = CrossbarParams.from_config({"tile_rows": 128, "tile_columns": 128, "read_voltage_V": 0.1, "read_time_s": 1e-9, "temperature_K": 300.0,
                                   "max_ir_drop_fraction": 0.1,
                                   "wire": {"width_m": 100e-9, "aspect_ratio": 1.7, "resistivity_ohm_m": 2.37e-8}})


def test_hand_values():
    r = crossbar.wire_resistance_per_cell_ohm(RULE, 680e-9)
    assert r == pytest.approx(2.37e-8 * 680e-9 / (100e-9 * 170e-9), rel=1e-12)  # 0.948 ohm
    figures = crossbar.design_rule(RULE, 10e-6, 680e-9)
    assert figures["ir_drop_fraction"] == pytest.approx(r * 10e-6 * 128 * 129 / 2, rel=1e-12)  # 0.0783
    assert figures["holds"] and figures["line_current_A"] == pytest.approx(128 * 0.1 * 10e-6)
    assert crossbar.max_conductance_S(RULE, 680e-9) == pytest.approx(0.1 / (r * 8256), rel=1e-12)


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
