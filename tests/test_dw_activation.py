"""DW activation: anisotropy profile, 1D-model scale of the defaults, and a real sweep on a tiny track."""

import json
import math

import numpy as np
import pandas as pd
import pytest
import yaml

from devices import dw_activation as dw
from devices import tables
from devices.params import DWActivationParams
from tests.conftest import REPO

SECTION = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["dw_activation"]
CONFIG = DWActivationParams.from_config(SECTION)


def test_anisotropy_is_a_two_sided_parabola_capped_at_ku_max():
    an = CONFIG.anisotropy
    x0, a, k0 = an.x0_m, an.a_plus_J_per_m5, an.K0_J_per_m3
    K = dw.anisotropy_J_per_m3(np.array([x0, x0 + 10e-9, x0 - 10e-9, 0.0]), CONFIG, 5.0)
    assert K[0] == pytest.approx(k0)
    assert K[1] == pytest.approx(k0 + a * 1e-16)
    assert K[2] == pytest.approx(k0 + 5 * a * 1e-16)
    assert K[3] == pytest.approx(min(k0 + 5 * a * x0 ** 2, an.Ku_max_J_per_m3))
    lo, hi = dw.uncapped_interval_m(CONFIG, 100.0)
    assert dw.anisotropy_J_per_m3(lo + 1e-12, CONFIG, 100.0) < an.Ku_max_J_per_m3 <= \
        dw.anisotropy_J_per_m3(lo - 1e-10, CONFIG, 100.0)


def test_default_drive_moves_the_wall_a_fraction_of_the_track():
    """1D model: at j_max the wall moves several wall widths but stays well inside the soft branch."""
    q = dw.displacement_1d_m(CONFIG, CONFIG.sweep.j_max_A_per_m2)
    half = CONFIG.track.length_m - CONFIG.anisotropy.x0_m
    assert 3 * dw.wall_width_m(CONFIG) < q < 0.6 * half
    assert dw.wall_width_m(CONFIG) == pytest.approx(math.sqrt(1.5e-11 / (0.8e6 - 2e-7 * math.pi * 5.8e5 ** 2)))


def test_wall_texture_is_up_left_down_right_with_the_dmi_chirality():
    m = dw.wall_texture(CONFIG)
    assert m[0, 0, 0, 2] > 0.99 and m[-1, 0, 0, 2] < -0.99
    assert m[:, :, :, 0].min() >= 0  # D > 0 (ubermag Cnv_z): m_x > 0 inside the up-down wall


def tiny_track() -> DWActivationParams:
    params = yaml.safe_load(yaml.safe_dump(SECTION))
    params["track"] = {"length_m": 128e-9, "width_m": 16e-9}
    params["anisotropy"]["x0_m"] = 64e-9
    params["cell_m"] = 2e-9  # at 4 nm (0.8 wall widths) the lattice pins the wall
    params["relu_curvature_ratio"] = 100.0
    params["lrelu_curvature_ratios"] = [5.0]
    params["network_lrelu_curvature_ratio"] = 5.0
    params["sweep"] = {"n_points": 5, "j_max_A_per_m2": 3e11, "tol_A_per_m": 1.0, "max_time_s": 1.5e-9,
                       "pulse_rise_fraction": 0.9}
    return DWActivationParams.from_config(params)


def test_tiny_track_sweep_is_monotonic_and_relu_rejects_negative_inputs(tmp_path):
    dw.run_stage(tiny_track(), "magnumnp", tmp_path)
    for name in ["transfer.csv", "wall.csv", "run.json", "transfer.png", "dw_position.png", "settling.png"]:
        assert (tmp_path / name).is_file()
    transfer, _ = tables.activation_transfer(pd.read_csv(tmp_path / "transfer.csv"))
    for (device, _), group in transfer.groupby(["device", "curvature_ratio"]):
        group = group.sort_values("current_density_A_m2")
        G, position = group["conductance_S"].to_numpy(), group["dw_position_m"].to_numpy()
        assert np.all(np.diff(G) > -1e-9 * G.max()) and G[-1] > G[2] > G[0]
        assert position[-1] > position[2] + 10e-9  # positive input pushes the wall to +x, into the soft branch
        if device == "relu":
            assert np.all(np.abs(group["output"].to_numpy()[:2]) < 0.02)  # the MTJ lies beyond the wall at rest
        else:
            assert group["output"].to_numpy()[0] < -0.05  # the leak
    wall = pd.read_csv(tmp_path / "wall.csv")
    assert wall["t_s"].is_monotonic_increasing and len(wall) > 2
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["pulse_reached_rise"] and 0 < run["pulse_s"] < wall["t_s"].iloc[-1] + 1e-15
    rest, steady = wall["dw_position_m"].iloc[0], run["steady_state_position_m"]
    at_pulse = np.interp(run["pulse_s"], wall["t_s"], wall["dw_position_m"])
    assert at_pulse == pytest.approx(rest + 0.9 * (steady - rest), abs=0.3e-9)
    assert wall["dw_position_m"].max() < steady + 1e-9  # LLG approaches the sweep's steady state from below
