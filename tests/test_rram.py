"""The RRAM compact model (devices/rram.py) against values worked out here from the model's equations, and the
RRAM device stage (devices/rram_tables.py): its two tables under the contract, their measured spreads against the
model's, the G-vs-pulse curves and the design rule of the RRAM tile.

The expected values are computed in this file from the equations and coefficients written out below (Nili et al.,
IEEE Trans. Nanotechnol. 19, 344 (2020), as transcribed by the public re-implementation; docs/rram.md), never by
calling devices.rram. T is in degC in the coefficients and in kelvin in the Johnson noise; L = ln(t_p / 1 s).
"""

import math

import numpy as np
import pandas as pd
import pytest

from devices import crossbar, rram, rram_tables
from devices.params import RRAMParams
from pipeline.table_contract import read_table

T_C = 27.0
K_B = 1.380649e-23

# Static I-V:  A1 = a0 + a1 G + a2 T,  sigma_A1 = p0 + p1 G + p2 T + p3 G^2
#              A3 = b0 G + b1 G^2 + b2 T^-1.33,  sigma_A3 = q0 + q1 G + q2 T + q3 G^2 + q4 G T
a0, a1, a2 = -2.58e-6, 0.977, 1.166e-7
p0, p1, p2, p3 = -1.07e-6, 0.25, 2.20e-8, -1300.0
b0, b1, b2 = 1.18, 6596.0, 1.605e-3
q0, q1, q2, q3, q4 = 1.17e-5, 1.30, -1.0e-7, -6500.0, -2.50e-3


def A1(G, T=T_C):
    return a0 + a1 * G + a2 * T


def A3(G, T=T_C):
    return b0 * G + b1 * G ** 2 + b2 * T ** -1.33


def sigma_A1(G, T=T_C):
    return p0 + p1 * G + p2 * T + p3 * G ** 2


def sigma_A3(G, T=T_C):
    return q0 + q1 * G + q2 * T + q3 * G ** 2 + q4 * G * T


def I(V, G, xi=0.0):
    """I = (A1 + xi sigma_A1) V + (A3 + xi sigma_A3) V^3."""
    return (A1(G) + xi * sigma_A1(G)) * V + (A3(G) + xi * sigma_A3(G)) * V ** 3


# Switching rows (c0 .. c4, d0 .. d4) of the bins used here;
# bin edges 3.16, 5.62, 10, 17.8, 31.6, 56.2, 100, 178, 316 uS
SET_BIN4 = (1.55e-4, -0.47, -3.426, 5.946, 6.558, -0.37, 5e-3, 0.15, -0.01, 0.11)      # 31.6-56.2 uS
SET_BIN6 = (1.55e-4, -0.47, -3.422, 4.936, 5.840, 0.34, 0.01, -0.41, 0.37, -0.29)      # 100-178 uS
RESET_BIN5 = (-0.89e-4, 0.21, 2.33, 6.2, -7.30, -0.12, -5e-3, -0.16, -0.13, -0.06)     # 56.2-100 uS
RESET_BIN7 = (-0.89e-4, 0.28, 1.68, 6.2, -7.00, 0.10, 3e-3, 0.02, -0.05, -4e-3)        # 178-316 uS
SET_BIN0 = (1.55e-4, -0.47, -3.851, 9.369, 10.4, -1.26, -0.02, 0.82, -0.57, 0.94)      # 3.16-5.62 uS


def step_by_hand(row, V, t):
    """(D, s): SET D = c0 (1 - tanh(c1 (L - c2))) (tanh(c3 V - c4) + 1), RESET D = c0 (-1 - tanh(c1 (L - c2)))
    (tanh(c3 V - c4) - 1); s = D (d0 + d1 L^2 + d2 V L + d3 V^2 L + d4 V^3); L = ln t."""
    c0, c1, c2, c3, c4, d0, d1, d2, d3, d4 = row
    L = math.log(t)
    if V > 0:
        D = c0 * (1 - math.tanh(c1 * (L - c2))) * (math.tanh(c3 * V - c4) + 1)
    else:
        D = c0 * (-1 - math.tanh(c1 * (L - c2))) * (math.tanh(c3 * V - c4) - 1)
    return D, D * (d0 + d1 * L ** 2 + d2 * V * L + d3 * V ** 2 * L + d4 * V ** 3)


RRAM = {"temperature_C": T_C, "g_low_S": 31.6e-6, "g_high_S": 100.0e-6, "tile_rows": 32, "cell_pitch_m": 200e-9,
        "read_time_s": 1e-9,
        "set_pulse": {"amplitude_V": 1.2, "duration_s": 1e-5}, "reset_pulse": {"amplitude_V": -1.5, "duration_s": 1e-5},
        "population": 20000, "pulses": 5}
CROSSBAR = {"read_voltage_V": 0.1, "max_ir_drop_fraction": 0.1,
            "wire": {"width_m": 100e-9, "aspect_ratio": 1.7, "resistivity_ohm_m": 2.37e-8}}


def params(**changes) -> RRAMParams:
    return RRAMParams.from_config({**RRAM, **changes})


# ------------------------------------------------------------------------------------------------- static I-V

def test_hand_values_of_the_coefficients():
    """One state worked through in full: G = 10 uS at 27 degC. 27^-1.33 = exp(-1.33 ln 27) = 0.0124821."""
    assert 27.0 ** -1.33 == pytest.approx(0.0124821, rel=1e-5)
    assert A1(10e-6) == pytest.approx(-2.58e-6 + 9.77e-6 + 3.1482e-6, rel=1e-12)            # 10.3382 uS
    assert A3(10e-6) == pytest.approx(11.8e-6 + 0.6596e-6 + 1.605e-3 * 0.0124821, rel=1e-5)  # 32.49 uS/V^2
    a1_, a3_ = rram.read_coefficients(10e-6, T_C)
    assert a1_ == pytest.approx(10.3382e-6, rel=1e-9)
    assert a3_ == pytest.approx(32.4933e-6, rel=1e-5)
    # I(0.1 V) = 1.03382 uA + 0.0324933 uA
    assert rram.current(0.1, a1_, a3_) == pytest.approx(1.0663133e-6, rel=1e-6)


@pytest.mark.parametrize("G", [10e-6, 50e-6, 200e-6])
@pytest.mark.parametrize("V", [0.1, 0.3])
@pytest.mark.parametrize("xi", [0.0, 1.0])
def test_iv_at_three_conductances(G, V, xi):
    a1_, a3_ = rram.read_coefficients(G, T_C, xi)
    assert a1_ == pytest.approx(A1(G) + xi * sigma_A1(G), rel=1e-12)
    assert a3_ == pytest.approx(A3(G) + xi * sigma_A3(G), rel=1e-12)
    assert rram.current(V, a1_, a3_) == pytest.approx(I(V, G, xi), rel=1e-12)
    assert rram.current(-V, a1_, a3_) == pytest.approx(-I(V, G, xi), rel=1e-12)  # odd in V
    s1, s3 = rram.read_spreads(G, T_C)
    assert (s1, s3) == (pytest.approx(sigma_A1(G), rel=1e-9), pytest.approx(sigma_A3(G), rel=1e-9))


def test_spreads_are_signed_and_change_sign_near_190_uS():
    """sigma_A1 = p0 + p1 G + p2 T + p3 G^2 is positive at 50 uS and negative at 200 uS (the model's polynomial)."""
    assert rram.read_spreads(50e-6, T_C)[0] == pytest.approx(8.774e-6, rel=1e-9) and sigma_A1(50e-6) > 0
    assert rram.read_spreads(200e-6, T_C)[0] == pytest.approx(-2.476e-6, rel=1e-6) and sigma_A1(200e-6) < 0


def test_johnson_noise_from_its_formula():
    """sqrt(4 k_B T G / (2 t_read)) with T in kelvin: 100 uS, 27 degC, 1 ns -> 28.789 nA."""
    assert rram.johnson_sigma(100e-6, T_C, 1e-9) == pytest.approx(2.8789e-8, rel=1e-4)
    for G, t in [(10e-6, 1e-9), (200e-6, 1e-6)]:
        assert rram.johnson_sigma(G, T_C, t) == pytest.approx(math.sqrt(4 * K_B * (T_C + 273.15) * G / (2 * t)),
                                                              rel=1e-12)
    assert rram.johnson_sigma(-50e-6, T_C, 1e-9) == rram.johnson_sigma(50e-6, T_C, 1e-9)


# ------------------------------------------------------------------------------------------------- switching

@pytest.mark.parametrize("g0, V, row", [(40e-6, 1.2, SET_BIN4), (120e-6, 1.2, SET_BIN6),
                                        (70e-6, -1.5, RESET_BIN5), (250e-6, -1.5, RESET_BIN7)])
@pytest.mark.parametrize("zeta_device, zeta_pulse", [(0.0, 0.0), (0.7, -1.3), (1.5, 0.4)])
def test_one_pulse_in_two_bins_per_direction(g0, V, row, zeta_device, zeta_pulse):
    D, s = step_by_hand(row, V, 1e-5)
    assert rram.switching_step(g0, V, 1e-5) == (pytest.approx(D, rel=1e-12), pytest.approx(s, rel=1e-12))
    expected = g0 + D + s * (zeta_device + zeta_pulse) / math.sqrt(2)
    assert rram.apply_pulse(g0, V, 1e-5, zeta_device, zeta_pulse) == pytest.approx(expected, rel=1e-12)
    assert (D > 0) == (V > 0)  # SET raises, RESET lowers the mean


def test_hand_value_of_a_set_step():
    """SET 1.2 V, 10 us in 31.6-56.2 uS: L = ln 1e-5 = -11.5129; 1 - tanh(-0.47 (L + 3.426)) = 1 - tanh(3.80085)
    = 9.98694e-4; tanh(5.946 * 1.2 - 6.558) + 1 = tanh(0.5772) + 1 = 1.520627 -> D = 1.55e-4 * 9.98694e-4 * 1.520627
    = 0.23539 uS."""
    D, s = rram.switching_step(40e-6, 1.2, 1e-5)
    assert D == pytest.approx(0.23539e-6, rel=1e-4)
    assert s / D == pytest.approx(-0.37 + 5e-3 * 11.5129 ** 2 - 0.15 * 1.2 * 11.5129 + 0.01 * 1.44 * 11.5129
                                  + 0.11 * 1.728, rel=1e-4)


def test_bin_lookup_at_the_edges():
    """A bin holds its lower edge: G0 on an edge takes the bin above it; outside the window the end bins."""
    edges = [3.16e-6, 5.62e-6, 10.0e-6, 17.8e-6, 31.6e-6, 56.2e-6, 100.0e-6, 178.0e-6, 316.0e-6]
    for k, edge in enumerate(edges[:-1]):
        assert rram.bin_index(edge) == k
        assert rram.bin_index(np.nextafter(edges[k + 1], 0.0)) == k
    assert rram.bin_index(316e-6) == 7 and rram.bin_index(1e-3) == 7 and rram.bin_index(1e-7) == 0
    assert rram.bin_index(np.array(edges)).tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 7]
    # the config's window edges sit on bin edges: 31.6e-6 opens bin 4, 100e-6 bin 6
    assert rram.bin_index(31.6e-6) == 4 and rram.bin_index(100.0e-6) == 6


def test_the_window_clips_both_ends():
    """Bin 0 SET: D = 0.389 uS, s = -1.622 uS; with zeta 2 + 2 the step is D + 2 sqrt(2) s = -4.2 uS, below the
    floor from 4 uS. At 315.9 uS a SET pulse with a large positive step stops at 316 uS."""
    D, s = step_by_hand(SET_BIN0, 1.2, 1e-5)
    assert 4e-6 + D + s * 4 / math.sqrt(2) < 3.16e-6
    assert rram.apply_pulse(4e-6, 1.2, 1e-5, 2.0, 2.0) == 3.16e-6
    assert rram.apply_pulse(315.9e-6, 1.2, 1e-5, 3.0, 3.0) == 316e-6
    g = rram.apply_pulse(np.array([4e-6, 40e-6, 315.9e-6]), 1.2, 1e-5, np.array([2.0, 0.0, 3.0]), 2.0)
    assert g[0] == 3.16e-6 and g[2] == 316e-6 and 3.16e-6 < g[1] < 316e-6
    assert rram.pulse_step(4e-6, 1.2, 1e-5, 2.0, 2.0) == pytest.approx(D + s * 4 / math.sqrt(2), rel=1e-12)


# ------------------------------------------------------------------------------------------------- check_params

@pytest.mark.parametrize("changes, key", [
    ({"g_low_S": 100e-6, "g_high_S": 31.6e-6}, r"^rram\.g_low_S: .*inverted"),
    ({"g_high_S": 400e-6}, r"^rram\.g_high_S: .*outside the model's window"),
    ({"set_pulse": {"amplitude_V": 2.0, "duration_s": 1e-5}}, r"^rram\.set_pulse\.amplitude_V: 2 V"),
    ({"reset_pulse": {"amplitude_V": -0.5, "duration_s": 1e-5}}, r"^rram\.reset_pulse\.amplitude_V: -0\.5 V"),
    ({"set_pulse": {"amplitude_V": 1.2, "duration_s": 1.0}}, r"^rram\.set_pulse\.duration_s: 1 s"),
    ({"reset_pulse": {"amplitude_V": -1.5, "duration_s": 1e-9}}, r"^rram\.reset_pulse\.duration_s: 1e-09 s"),
    ({"temperature_C": -5.0}, r"^rram\.temperature_C: "),
])
def test_check_params_names_the_key(changes, key):
    with pytest.raises(ValueError, match=key):
        rram.check_params(params(**changes))


def test_check_params_accepts_the_range_ends():
    rram.check_params(params(g_low_S=3.16e-6, g_high_S=316e-6, set_pulse={"amplitude_V": 1.5, "duration_s": 1e-7},
                             reset_pulse={"amplitude_V": -1.8, "duration_s": 1e-1}))


def test_the_stage_checks_the_read_voltage_and_the_population():
    with pytest.raises(ValueError, match=r"^crossbar\.read_voltage_V: 0\.5 V"):
        rram_tables.check_stage(params(), 0.5)
    with pytest.raises(ValueError, match=r"^rram\.population: 1 device"):
        rram_tables.check_stage(params(population=1), 0.1)


# ------------------------------------------------------------------------------------------------- variation

N = 100_000


@pytest.mark.parametrize("G", [10e-6, 50e-6, 200e-6])
def test_read_current_statistics_over_device_draws(G):
    """Mean and standard deviation of I(V_read) over 1e5 draws of xi: A1 V + A3 V^3 and |sigma_A1 V + sigma_A3 V^3|
    within 3 standard errors (sigma / sqrt(N) for the mean, sigma / sqrt(2 (N - 1)) for the deviation)."""
    V = 0.1
    xi = np.random.default_rng(1).standard_normal(N)
    current = rram.current(V, *rram.read_coefficients(G, T_C, xi))
    mean, sigma = I(V, G), abs(sigma_A1(G) * V + sigma_A3(G) * V ** 3)
    assert abs(current.mean() - mean) < 3 * sigma / math.sqrt(N)
    assert abs(current.std(ddof=1) - sigma) < 3 * sigma / math.sqrt(2 * (N - 1))


@pytest.mark.parametrize("g0, V, row", [(40e-6, 1.2, SET_BIN4), (150e-6, 1.2, SET_BIN6),
                                        (120e-6, -1.5, (-0.89e-4, 0.22, 1.93, 6.2, -7.10, -0.04, -2e-3, -0.10, -0.11,
                                                        -0.04)),  # RESET, 100-178 uS
                                        (250e-6, -1.5, RESET_BIN7)])
def test_step_statistics_over_device_and_pulse_draws(g0, V, row):
    """Over 1e5 devices, each with its device draw and a pulse draw: mean D and standard deviation |s| within
    3 standard errors. Two pulses on the same devices share the device half of the variance: covariance s^2 / 2."""
    D, s = step_by_hand(row, V, 1e-5)
    rng = np.random.default_rng(2)
    zeta_device = rng.standard_normal(N)
    first = rram.apply_pulse(np.full(N, g0), V, 1e-5, zeta_device, rng.standard_normal(N)) - g0
    second = rram.pulse_step(np.full(N, g0), V, 1e-5, zeta_device, rng.standard_normal(N))
    assert abs(first.mean() - D) < 3 * abs(s) / math.sqrt(N)
    assert abs(first.std(ddof=1) - abs(s)) < 3 * abs(s) / math.sqrt(2 * (N - 1))
    covariance = np.cov(first, second)[0, 1]
    assert abs(covariance - s ** 2 / 2) < 3 * s ** 2 * math.sqrt(1.25 / N)  # var of the product: s^4 (1/4 + 1)


# ------------------------------------------------------------------------------------------------- the stage

@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("rram")
    run = rram_tables.run_stage(params(), CROSSBAR, 0, out / "rram", out / "tables", {"config_hash": "abc"})
    return out, run


def test_tables_pass_the_contract(built):
    out, _ = built
    read, meta = read_table(out / "tables", "rram_read")
    update, umeta = read_table(out / "tables", "rram_update")
    assert len(read) == 129
    assert read["g0_S"].iloc[0] == pytest.approx(3.16e-6) and read["g0_S"].iloc[-1] == pytest.approx(316e-6)
    np.testing.assert_allclose(np.diff(np.log(read["g0_S"])), math.log(100) / 128, rtol=1e-9)
    assert update["direction"].tolist() == ["set"] * 8 + ["reset"] * 8 and update["bin"].tolist() == list(range(8)) * 2
    for m in (meta, umeta):
        assert m["engine"] == "compact model" and m["engine_version"] == "Nili et al. 2020"
        assert m["provenance"] == {"config_hash": "abc"}


def test_read_table_columns_by_hand(built):
    out, _ = built
    read, meta = read_table(out / "tables", "rram_read")
    G, V = read["g0_S"].to_numpy(), 0.1
    np.testing.assert_allclose(read["A1_S"], A1(G), rtol=1e-12)
    np.testing.assert_allclose(read["A3_S_per_V2"], A3(G), rtol=1e-12)
    np.testing.assert_allclose(read["sigma_A1_S"], sigma_A1(G), rtol=1e-9, atol=1e-18)
    np.testing.assert_allclose(read["sigma_A3_S_per_V2"], sigma_A3(G), rtol=1e-9, atol=1e-18)
    np.testing.assert_allclose(read["read_current_A"], I(V, G), rtol=1e-12)
    chord = I(V, G) / V
    np.testing.assert_allclose(read["johnson_std_A"], np.sqrt(4 * K_B * 300.15 * chord / 2e-9), rtol=1e-12)
    np.testing.assert_allclose(read["nonlinearity"], A3(G) * V ** 2 / A1(G), rtol=1e-12)
    fitted = meta["fitted"]
    assert fitted["temperature_C"] == 27.0 and fitted["temperature_K"] == pytest.approx(300.15)
    assert fitted["read_bandwidth_Hz"] == pytest.approx(5e8)
    assert set(fitted["conventions"]) >= {"temperature", "pulse_duration", "johnson_noise", "switching_spread"}


def test_measured_spreads_agree_with_the_model(built):
    """The measured standard deviations within 5 standard errors of the model's |spread| on every row."""
    out, _ = built
    n, V = RRAM["population"], 0.1
    read, _ = read_table(out / "tables", "rram_read")
    model = np.abs(sigma_A1(read["g0_S"]) * V + sigma_A3(read["g0_S"]) * V ** 3)
    assert np.all(np.abs(read["d2d_current_std_A"] - model) < 5 * model / math.sqrt(2 * (n - 1)))
    update, meta = read_table(out / "tables", "rram_update")
    model = update["delta_spread_S"].abs()
    assert np.all(np.abs(update["delta_std_measured_S"] - model) < 5 * model / math.sqrt(2 * (n - 1)))
    assert meta["fitted"]["delta_std_max_deviation_in_sampling_errors"] < 5


def test_update_table_by_hand(built):
    out, _ = built
    update, meta = read_table(out / "tables", "rram_update")
    rows = update.set_index(["direction", "bin"])
    for (direction, b), row, V in [(("set", 4), SET_BIN4, 1.2), (("set", 6), SET_BIN6, 1.2),
                                   (("reset", 5), RESET_BIN5, -1.5), (("reset", 7), RESET_BIN7, -1.5)]:
        D, s = step_by_hand(row, V, 1e-5)
        assert rows.loc[(direction, b), "delta_mean_S"] == pytest.approx(D, rel=1e-12)
        assert rows.loc[(direction, b), "delta_spread_S"] == pytest.approx(s, rel=1e-12)
        assert rows.loc[(direction, b), "amplitude_V"] == V and rows.loc[(direction, b), "duration_s"] == 1e-5
    assert rows.loc[("set", 4), "g_low_S"] == 31.6e-6 and rows.loc[("set", 4), "g_high_S"] == 56.2e-6
    # V^2 G t_p at the geometric centre: SET in 31.6-56.2 uS, 1.44 * 42.14 uS * 10 us = 0.6068 nJ
    assert rows.loc[("set", 4), "energy_per_pulse_J"] == pytest.approx(1.44 * math.sqrt(31.6e-6 * 56.2e-6) * 1e-5,
                                                                       rel=1e-12)
    assert rows.loc[("set", 4), "energy_per_pulse_J"] == pytest.approx(0.6068e-9, rel=1e-3)
    fitted = meta["fitted"]
    assert fitted["operating_window"]["bins"] == [4, 5]  # 31.6-56.2 and 56.2-100 uS
    assert fitted["mean_step_in_window_S"]["set"]["4"] == pytest.approx(step_by_hand(SET_BIN4, 1.2, 1e-5)[0])
    assert fitted["mean_step_in_window_S"]["reset"]["5"] == pytest.approx(step_by_hand(RESET_BIN5, -1.5, 1e-5)[0])
    # devices whose own mean SET step in bin 4 is negative: Phi(-sqrt(2) D / |s|)
    D, s = step_by_hand(SET_BIN4, 1.2, 1e-5)
    assert fitted["devices_with_reversed_mean_step"]["set"]["4"] == pytest.approx(
        0.5 * math.erfc(D / abs(s)), rel=1e-9)


def test_design_rule_of_the_rram_tile(built, tmp_path):
    """32 cells of 200 nm at 316 uS: r = 2.37e-8 * 200e-9 / (100e-9 * 170e-9) = 0.2788 ohm; drop r G 32 * 33 / 2 =
    0.0465 of V_read. 48 rows drop 0.104 > 0.1: the stage stops naming rram.tile_rows and writes nothing."""
    out, _ = built
    _, meta = read_table(out / "tables", "rram_read")
    rule = meta["fitted"]["crossbar_design_rule"]
    r = 2.37e-8 * 200e-9 / (100e-9 * 170e-9)
    assert rule["holds"] and rule["line_cells"] == 32 and rule["G_max_S"] == 316e-6
    assert rule["ir_drop_fraction"] == pytest.approx(r * 316e-6 * 32 * 33 / 2, rel=1e-9)
    assert rule["max_tile_rows"] == 47  # r G 47 * 48 / 2 = 0.0994, 48 rows 0.1036
    broken = tmp_path / "broken"
    with pytest.raises(crossbar.DesignRuleError, match=r"^rram\.tile_rows: 48 cells .* drop 0\.104 .* at most 47 rows"):
        rram_tables.run_stage(params(tile_rows=48), CROSSBAR, 0, broken / "rram", broken / "tables", {})
    assert not broken.exists()


def test_pulse_curves(built):
    out, run = built
    curves = pd.read_csv(out / "rram" / "pulse_curves.csv")
    assert curves["direction"].tolist() == ["start"] + ["set"] * 5 + ["reset"] * 5
    assert curves["pulse"].tolist() == list(range(11))
    assert curves.loc[0, "G_mean_S"] == 31.6e-6 and curves.loc[0, "G_std_S"] == 0.0
    # the first SET pulse from 31.6 uS (bin 4): mean g_low + D within 4 standard errors of 2000 devices
    D, s = step_by_hand(SET_BIN4, 1.2, 1e-5)
    assert abs(curves.loc[1, "G_mean_S"] - (31.6e-6 + D)) < 4 * abs(s) / math.sqrt(2000)
    assert curves.loc[1, "G_std_S"] == pytest.approx(abs(s), rel=0.1)
    assert (curves["G_q10_S"] <= curves["G_mean_S"]).all() and (curves["G_mean_S"] <= curves["G_q90_S"]).all()
    assert curves.loc[5, "G_mean_S"] > curves.loc[0, "G_mean_S"]   # SET raises the mean
    assert curves.loc[10, "G_mean_S"] < curves.loc[5, "G_mean_S"]  # RESET lowers it
    assert run["curves"]["devices"] == 2000 and run["wall_time_s"] > 0
    for name in ("pulse_curves.png", "iv.png"):
        assert (out / "rram" / name).stat().st_size > 10_000


def test_same_seed_same_tables_other_seed_other_draws(tmp_path):
    small = params(population=200, pulses=2)
    a = rram_tables.build_tables(small, CROSSBAR, 7, tmp_path / "a", {})
    b = rram_tables.build_tables(small, CROSSBAR, 7, tmp_path / "b", {})
    c = rram_tables.build_tables(small, CROSSBAR, 8, tmp_path / "c", {})
    for key in ("read", "update"):
        assert a[key].equals(b[key])
    assert not np.allclose(a["read"]["d2d_current_std_A"], c["read"]["d2d_current_std_A"], rtol=1e-6)
    np.testing.assert_array_equal(a["update"]["delta_mean_S"], c["update"]["delta_mean_S"])
