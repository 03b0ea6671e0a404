"""The synapse at room temperature: window statistics against an AR(1) process, core counting, the scaling from
the proxy to the full device, and a short stochastic run of the 1-bit proxy."""
import os

os.environ.setdefault("TORCHDYNAMO_DISABLE", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import yaml  # noqa: E402

from devices import synapse, synapse_thermal  # noqa: E402
from devices.params import SynapseParams, SynapseThermalParams  # noqa: E402

CONFIG = yaml.safe_load(open(os.path.join(os.path.dirname(__file__), "..", "config", "config.yaml")))


@pytest.mark.parametrize("rho, n", [(0.0, 20), (0.9, 50), (0.5, 1)])
def test_window_variance_of_an_ar1_process(rho, n):
    """x_t = rho x_(t-1) + e_t: the mean of n samples has variance var/n (1 + 2 sum_j (1 - j/n) rho^j)."""
    rng = np.random.default_rng(0)
    e = rng.standard_normal(400_000)
    x = np.empty_like(e)
    x[0] = e[0]
    for t in range(1, len(e)):
        x[t] = rho * x[t - 1] + e[t]
    var = 1 / (1 - rho ** 2)
    exact = var / n * (1 + 2 * sum((1 - j / n) * rho ** j for j in range(1, n)))
    assert synapse_thermal.window_variance(x, n) == pytest.approx(exact, rel=0.05)


def test_core_count_ignores_blips_below_the_size():
    mz = np.ones((40, 30))
    yy, xx = np.meshgrid(np.arange(30), np.arange(40))
    mz[(xx - 10) ** 2 + (yy - 15) ** 2 < 25] = -1.0   # a core of 69 cells
    mz[30, 5] = mz[31, 5] = -0.2                       # a thermal blip of 2 cells
    assert synapse_thermal.smallest_core_cells(mz) == 2
    assert synapse_thermal.core_count(mz, 1) == 2 and synapse_thermal.core_count(mz, 30) == 1
    right = np.zeros_like(mz, bool)
    right[20:] = True
    assert synapse_thermal.core_count(mz, 1, right) == 1  # the blip only


def test_device_table_scales_the_pillar_variances():
    levels = pd.DataFrame({"level": [2, 0, 1, 3], "conductance_S": [8e-6, 10e-6, 9e-6, 7.5e-6]})
    pooled = {"core_var_S2": 4e-18, "empty_var_S2": 1e-18, "core_var_read_S2": 1e-19, "empty_var_read_S2": 4e-20,
              "core_shift_S": -1e-8, "empty_shift_S": -2e-9}
    table = synapse_thermal.device_table(levels, 4, pooled)
    np.testing.assert_array_equal(table["level"], [0, 1, 2, 3])
    np.testing.assert_allclose(table["thermal_std_S"], np.sqrt([4e-18, 7e-18, 10e-18, 13e-18]))
    np.testing.assert_allclose(table["thermal_std_read_S"], np.sqrt([1.6e-19, 2.2e-19, 2.8e-19, 3.4e-19]))
    np.testing.assert_allclose(table["thermal_shift_S"], [-8e-9, -1.6e-8, -2.4e-8, -3.2e-8])
    np.testing.assert_allclose(table["level_gap_S"], [1e-6, 1e-6, 0.5e-6, 0.5e-6])
    np.testing.assert_allclose(table["read_std_over_gap"], table["thermal_std_read_S"] / table["level_gap_S"])


def test_params_refuse_a_sample_interval_below_the_step():
    section = {**CONFIG["synapse_thermal"], "sample_every_s": 1e-15}
    with pytest.raises(ValueError, match="synapse_thermal.sample_every_s"):
        SynapseThermalParams.from_config(section)


def test_a_short_run_of_the_one_bit_proxy(tmp_path):
    """Level 1 of the 1-bit proxy at 300 K for 40 ps: the core stays, the conductance fluctuates about its T = 0
    value by a fraction of the level gap, and a second call comes from the engine cache."""
    params = synapse_thermal.proxy_params(SynapseParams.from_config(CONFIG["synapse"]), 1)
    thermal = SynapseThermalParams.from_config({**CONFIG["synapse_thermal"], "proxy_bits": 1, "burn_in_s": 1e-11,
                                                "time_s": 4e-11, "sample_every_s": 2e-12})
    row, g, g0 = synapse_thermal.run_level(params, thermal, 1, 5, "magnumnp", 0, tmp_path)
    empty, _ = synapse.relax_level(params, "magnumnp", 0, tmp_path, 0, 0)
    gap = empty["conductance_S"] - row["conductance_T0_S"]
    assert g.shape == (20, 1) and row["samples"] == 20 and g0 == pytest.approx([row["conductance_T0_S"]], rel=1e-9)
    assert row["survived"] and row["cores_under_mtj_min"] == 1 and row["cores_total_max"] == 1
    assert 0 < row["conductance_std_S"] < 0.2 * gap
    assert abs(row["conductance_mean_S"] - row["conductance_T0_S"]) < 0.2 * gap
    again, _, _ = synapse_thermal.run_level(params, thermal, 1, 5, "magnumnp", 0, tmp_path)
    assert again["conductance_std_S"] == row["conductance_std_S"] and again["wall_s"] == row["wall_s"]


def test_survival_tells_a_crossing_or_loss_from_a_transient_shrink():
    """3 cores, level 1: a core read below the size threshold for a sample and back is no loss; a core that ends in the
    other half (all cores seen, another count under the MTJ) or stays lost is."""
    under, total = np.array([1, 1, 0, 1, 1]), np.array([3, 3, 2, 3, 3])  # the MTJ core shrank for one sample
    assert synapse_thermal.survived(under, total, 1, 3)
    assert not synapse_thermal.survived(np.array([1, 2, 2]), np.array([3, 3, 3]), 1, 3)  # crossed into the MTJ half
    assert not synapse_thermal.survived(np.array([1, 1, 1]), np.array([3, 3, 2]), 1, 3)  # a reservoir core lost
    assert not synapse_thermal.survived(np.array([1, 0, 1]), np.array([3, 3, 3]), 1, 3)  # crossed and back: crossed
