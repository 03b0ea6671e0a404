"""Tables: exact contract columns, units for every column, fits, derived columns, round trip, contract errors."""

import json

import numpy as np
import pandas as pd
import pytest

from devices import crossbar, mtj, tables
from pipeline import io
from pipeline.table_contract import (MAGNETIC_TABLE_NAMES, RRAM_TABLE_NAMES, TABLE_NAMES, TABLES, VCMA_TABLE_NAMES,
                                     TableError, read_table, setting_key, write_table)

CONTRACT = {  # spelled out here so that a change of the contract shows in this test
    "synapse_levels": ["level", "n_skyrmions", "mz_mean", "conductance_S", "resistance_ohm", "conductance_std_S"],
    "synapse_update": ["direction", "from_level", "to_level", "current_density_A_m2", "pulse_s", "energy_J"],
    "activation_transfer": ["device", "curvature_ratio", "current_density_A_m2", "current_A", "dw_position_m",
                            "conductance_S", "output"],
    "activation_energy": ["device", "curvature_ratio", "drive_energy_J", "read_energy_J", "total_J", "threshold",
                          "bias_energy_J"],
}
RRAM_CONTRACT = {  # the RRAM tables of the rram_device rule (tests/test_rram.py builds them)
    "rram_read": ["g0_S", "A1_S", "A3_S_per_V2", "sigma_A1_S", "sigma_A3_S_per_V2", "read_current_A",
                  "d2d_current_std_A", "johnson_std_A", "nonlinearity"],
    "rram_update": ["direction", "bin", "g_low_S", "g_high_S", "amplitude_V", "duration_s", "delta_mean_S",
                    "delta_spread_S", "delta_std_measured_S", "energy_per_pulse_J"],
}
THERMAL_CONTRACT = {  # the synapse at room temperature, rule synapse_thermal (tests/test_synapse_thermal.py)
    "synapse_thermal": ["level", "conductance_S", "thermal_std_S", "thermal_std_read_S", "thermal_shift_S",
                        "level_gap_S", "read_std_over_gap"],
}
VCMA_CONTRACT = {  # the VCMA MTJ tables of the vcma_device rule (tests/test_vcma.py builds them)
    "vcma_switching": ["amplitude_V", "pulse_width_s", "trajectories", "switched", "p_sw", "ci_low", "ci_high",
                       "p_fit", "fit_band_low", "fit_band_high", "bit_energy_J"],
    "vcma_devices": ["device", "Ki_J_per_m2", "diameter_m", "stability", "operating_V", "trajectories", "switched",
                     "p_sw", "ci_low", "ci_high", "v50_V"],
}
DW = {"track": {"length_m": 256e-9, "width_m": 32e-9}, "heavy_metal": {"resistivity_ohm_m": 2e-7, "thickness_m": 5e-9},
      "read": {"voltage_V": 0.1, "time_s": 1e-9}}
J = np.linspace(-4e11, 4e11, 9)
CROSSBAR = {"tile_rows": 4, "tile_columns": 4, "read_voltage_V": 0.1, "read_time_s": 1e-9, "temperature_K": 300.0, "max_ir_drop_fraction": 0.1,
            "wire": {"width_m": 100e-9, "aspect_ratio": 1.7, "resistivity_ohm_m": 2.37e-8}}
GEOMETRY = {"length_m": 200e-9, "mtj_area_m2": 4 * np.pi * 1e-16, "pitch_m": 40e-9, "n_rows": 2, "n_cols": 2}


def transfer_rows(device, ratio, g0=1e-3, dg=1e-4):
    """Piecewise-linear device: slope 1 above zero, 1/ratio below (leak); read both branches for lrelu."""
    x = np.where(J >= 0, J, J / ratio) / J.max()
    return pd.DataFrame({"device": device, "curvature_ratio": ratio, "current_density_A_m2": J,
                         "current_A": J * 32e-9 * 5e-9, "dw_position_m": 50e-9 * x, "conductance_S": g0 + dg * x,
                         "iterations": 100})


@pytest.fixture
def stage_dirs(tmp_path):
    syn, dw = tmp_path / "syn", tmp_path / "dw"
    levels = pd.DataFrame([{"level": k, "sample": s, "n_skyrmions": k, "topological_charge": -k,
                            "mz_mean": 0.99 - 0.03 * k, "conductance_S": 1e-3 - 1e-5 * k ** 1.1 + 1e-7 * s}
                           for k in range(4) for s in range(2)])
    update = pd.DataFrame([
        {"direction": "potentiation", "from_level": 1, "to_level": 2, "current_density_A_m2": 4e11,
         "pulse_s": np.nan, "energy_J": np.nan, "success": False},
        {"direction": "potentiation", "from_level": 1, "to_level": 2, "current_density_A_m2": 8e11,
         "pulse_s": 4e-10, "energy_J": 2e-15, "success": True},
        {"direction": "depression", "from_level": 2, "to_level": 1, "current_density_A_m2": 8e11,
         "pulse_s": np.nan, "energy_J": np.nan, "success": False}])
    transfer = pd.concat([transfer_rows("relu", 100.0), transfer_rows("lrelu", 5.0)])
    for folder, files in [(syn, {"levels.csv": levels, "update.csv": update}), (dw, {"transfer.csv": transfer})]:
        for name, frame in files.items():
            io.write_csv(folder / name, frame)
        io.write_json(folder / "run.json", {"engine": "magnumnp", "engine_version": "magnum.np 2.2.0",
                                            "lane": {"heavy_metal_volume_m3": 1e-23}, "geometry": GEOMETRY,
                                            "pulse_s": 1e-9, "pulse_definition": "fixed for the test"})
    return syn, dw


@pytest.fixture
def built(stage_dirs, tmp_path):
    syn, dw = stage_dirs
    out = tmp_path / "tables"
    tables.build_tables(syn, dw, {}, DW, CROSSBAR, out, {"config_hash": "abc", "git_commit": "unknown"})
    return out


def test_contract_columns_units_and_round_trip(built):
    assert list(MAGNETIC_TABLE_NAMES) == list(CONTRACT)  # the tables rule writes exactly these four
    assert sorted(built.glob("*")) == sorted(built / f"{n}.{s}" for n in CONTRACT for s in ("csv", "parquet", "json"))
    for name, columns in CONTRACT.items():
        frame, meta = read_table(built, name)
        assert list(frame.columns) == columns == TABLES[name].column_names
        assert meta["units"] == TABLES[name].units and meta["table"] == name
        assert meta["provenance"]["config_hash"] == "abc" and meta["engine"] == "magnumnp"
        csv = pd.read_csv(built / f"{name}.csv")
        pd.testing.assert_frame_equal(frame.reset_index(drop=True), csv, check_dtype=False)
        json.loads((built / f"{name}.json").read_text())  # strict JSON (NaN written as null)


def test_the_four_table_families():
    """The magnetic four (rule tables), the synapse at temperature (rule synapse_thermal), the two RRAM tables (rule
    rram_device) and the two VCMA MTJ tables (rule vcma_device) make up the contract."""
    assert list(RRAM_TABLE_NAMES) == list(RRAM_CONTRACT) and list(VCMA_TABLE_NAMES) == list(VCMA_CONTRACT)
    families = [set(CONTRACT), set(THERMAL_CONTRACT), set(RRAM_CONTRACT), set(VCMA_CONTRACT)]
    assert set(TABLE_NAMES) == set().union(*families) and sum(map(len, families)) == len(TABLE_NAMES)
    for contract, rule in ((RRAM_CONTRACT, "rram_device"), (VCMA_CONTRACT, "vcma_device"),
                           (THERMAL_CONTRACT, "synapse_thermal")):
        for name, columns in contract.items():
            assert TABLES[name].column_names == columns and TABLES[name].rule == rule
            assert all(TABLES[name].units[c] for c in columns)
    assert TABLES["rram_update"].units["direction"] == "set|reset"
    assert {TABLES[n].rule for n in CONTRACT} == {"tables"}


def test_levels_fit(built):
    levels, meta = read_table(built, "synapse_levels")
    assert levels["level"].tolist() == [0, 1, 2, 3]
    np.testing.assert_allclose(levels["resistance_ohm"], 1 / levels["conductance_S"])
    np.testing.assert_allclose(levels["conductance_std_S"], 0.5e-7)
    fit = meta["fitted"]
    assert fit["G_max_S"] == pytest.approx(1e-3 + 0.5e-7)
    assert fit["on_off_ratio"] == pytest.approx(fit["G_max_S"] / fit["G_min_S"])
    assert 0 < fit["level_nonlinearity"] < 0.1 and fit["monotonic"] and fit["n_skyrmions_match_level"]


def test_levels_separation_and_charge_check():
    """Gap over spread against hand values; one state with a lost core and a short charge is flagged."""
    raw = pd.DataFrame({"level": [0, 0, 1, 1, 2, 2], "sample": [0, 1] * 3, "n_skyrmions": [0, 0, 1, 1, 2, 1],
                        "topological_charge": [0.01, -0.02, -0.97, -1.0, -1.9, -1.0],
                        "conductance_S": [10.0, 10.2, 8.0, 8.4, 7.0, 7.2]})
    _, fit = tables.synapse_levels(raw.assign(mz_mean=0.0))
    # means 10.1, 8.2, 7.1: gaps 1.9, 1.1; ranges 0.2, 0.4, 0.2; std = range / 2
    assert fit["min_level_gap_S"] == pytest.approx(1.1) and fit["min_gap_level"] == 1
    assert fit["min_gap_over_range"] == pytest.approx(1.1 / 0.4)
    assert fit["min_gap_over_std"] == pytest.approx(1.1 / 0.2)
    assert not fit["all_states_hold_k_cores"]
    assert fit["max_charge_deviation_per_skyrmion"] == pytest.approx(0.5)
    assert fit["max_charge_deviation_state"] == {"level": 2, "sample": 1}


def test_update_keeps_the_least_energy_success_per_direction(built):
    update, meta = read_table(built, "synapse_update")
    assert update["direction"].tolist() == ["potentiation", "depression"]
    assert update.loc[0, "energy_J"] == pytest.approx(2e-15)
    assert np.isnan(update.loc[1, "energy_J"])
    assert len(meta["fitted"]["tried"]) == 3
    assert meta["fitted"]["reference_energy_J"] == 0.87e-15
    assert meta["fitted"]["energy_over_reference"]["potentiation"] == pytest.approx(2e-15 / 0.87e-15)
    assert meta["fitted"]["energy_over_reference"]["depression"] is None  # NaN: no pulse succeeded


def test_transfer_output_and_fits(built):
    transfer, meta = read_table(built, "activation_transfer")
    for (device, ratio), group in transfer.groupby(["device", "curvature_ratio"]):
        out = group.set_index("current_density_A_m2")["output"]
        assert out[0.0] == pytest.approx(0) and out[J.max()] == pytest.approx(1)
        assert (out[out.index < 0] < 0).all()
        fit = meta["fitted"][setting_key(device, ratio)]
        assert fit["leak_ratio"] == pytest.approx(1 / ratio)
        assert fit["linearity_r2"] == pytest.approx(1) and abs(fit["threshold_A"]) < 1e-12
        assert fit["saturation"] == pytest.approx(0, abs=1e-9) and fit["max_decrease"] == 0


def test_transfer_fit_of_a_relu_with_a_threshold():
    """Zero up to the threshold, then a line: the fit's working range skips the knee and finds both."""
    j = np.linspace(-4e11, 4e11, 17)
    current_A = j * 32e-9 * 5e-9
    threshold = current_A[11]
    output = np.maximum(current_A - threshold, 0) / (current_A[-1] - threshold)
    fit = tables.transfer_fit(j, current_A, output)
    assert fit["threshold_A"] == pytest.approx(threshold)
    assert fit["linearity_r2"] == pytest.approx(1) and fit["leak_ratio"] == pytest.approx(0, abs=1e-12)
    assert fit["max_abs_output_negative"] == 0 and fit["working_range_A_m2"][0] == pytest.approx(j[12])


def test_transfer_fit_reports_the_largest_drop():
    """A flat negative branch with a dip of 3e-6: the curve is flagged non-monotonic by exactly that much."""
    j = np.linspace(-4e11, 4e11, 9)
    output = np.array([-1e-4, -1e-4 - 3e-6, -1e-4, -5e-5, 0.0, 0.25, 0.5, 0.75, 1.0])
    fit = tables.transfer_fit(j, j * 32e-9 * 5e-9, output)
    assert fit["max_decrease"] == pytest.approx(3e-6)


def test_activation_energy_by_hand(built):
    energy, meta = read_table(built, "activation_energy")
    row = energy.set_index("device").loc["lrelu"]
    volume = 256e-9 * 32e-9 * 5e-9
    pos = J[J > 0]
    assert row["drive_energy_J"] == pytest.approx(mtj.joule_energy_J(2e-7, pos, volume, 1e-9).mean())
    g_mean = (1e-3 + 1e-4 * pos / J.max()).mean()
    assert row["read_energy_J"] == pytest.approx(0.1 ** 2 * g_mean * 1e-9)
    assert row["total_J"] == pytest.approx(row["drive_energy_J"] + row["read_energy_J"])
    assert meta["fitted"]["energy_over_reference"]["lrelu_5"] == pytest.approx(row["total_J"] / 0.192e-12)


def test_relu_threshold_and_bias_energy_columns(stage_dirs, tmp_path):
    """A ReLU whose output starts at 0.3 of the sweep: threshold and bias energy by hand, and system/ takes them
    as written (the numbers it derived itself before they were table columns)."""
    syn, dw = stage_dirs
    relu = transfer_rows("relu", 100.0)
    relu["conductance_S"] = 1e-3 + 1e-4 * np.maximum(J / J.max() - 0.3, 0)
    io.write_csv(dw / "transfer.csv", pd.concat([relu, transfer_rows("lrelu", 5.0)]))
    out = tmp_path / "thresholded"
    tables.build_tables(syn, dw, {}, DW, CROSSBAR, out, {})
    energy, _ = read_table(out, "activation_energy")
    _, transfer_meta = read_table(out, "activation_transfer")
    row = energy.set_index("device").loc["relu"]
    theta = transfer_meta["fitted"]["relu_100"]["threshold_A_m2"] / J.max()
    assert theta == pytest.approx(0.3) and row["threshold"] == theta
    u = J[J > 0] / J.max()
    assert row["bias_energy_J"] == row["drive_energy_J"] * (theta**2 + 2 * theta * u.mean()) / np.mean(u**2)
    assert row["bias_energy_J"] == pytest.approx(row["drive_energy_J"] * (np.mean((u + theta) ** 2) / np.mean(u**2) - 1))
    assert energy.set_index("device").loc["lrelu", "threshold"] == pytest.approx(0, abs=1e-12)
    loaded = pytest.importorskip("system.tables").load_device_tables(out, 5.0)
    assert (loaded.relu_threshold, loaded.relu_bias_energy_J) == (row["threshold"], row["bias_energy_J"])


def test_a_threshold_beyond_the_sweep_is_refused():
    with pytest.raises(ValueError, match=r"relu_100: fitted threshold 6e\+11 A/m\^2 is 1.5 of the sweep"):
        tables.threshold(6e11, J, "relu_100")
    assert tables.threshold(-1e10, J, "relu_100") == 0.0


def test_system_reads_the_tables(built):
    system_tables = pytest.importorskip("system.tables")
    loaded = system_tables.load_device_tables(built, 5.0)
    assert len(loaded.levels_S) == 4 and loaded.lrelu_y.max() == pytest.approx(1)


def test_setting_key():
    assert setting_key("lrelu", 5) == "lrelu_5" and setting_key("relu", 100.0) == "relu_100"
    assert setting_key("lrelu", 0.5) == "lrelu_0.5"


def test_contract_errors_name_the_file_and_the_column(built, tmp_path):
    levels, meta = read_table(built, "synapse_levels")
    with pytest.raises(TableError, match=r"lacks column\(s\) \['conductance_std_S'\]"):
        write_table(tmp_path, "synapse_levels", levels.drop(columns="conductance_std_S"), fitted={}, engine="e",
                    engine_version="v", provenance={})
    with pytest.raises(TableError, match="column level is float64, not int"):
        write_table(tmp_path, "synapse_levels", levels.astype({"level": float}), fitted={}, engine="e",
                    engine_version="v", provenance={})
    assert not list(tmp_path.glob("synapse_levels.*"))
    write_table(tmp_path, "synapse_levels", levels, fitted={}, engine="e", engine_version="v", provenance={})
    read_table(tmp_path, "synapse_levels")
    io.write_parquet(tmp_path / "synapse_levels.parquet", levels.rename(columns={"mz_mean": "mz"}))
    with pytest.raises(TableError, match=r"synapse_levels.parquet lacks column\(s\) \['mz_mean'\]"):
        read_table(tmp_path, "synapse_levels")
    io.write_parquet(tmp_path / "synapse_levels.parquet", levels)
    io.write_json(tmp_path / "synapse_levels.json", {**meta, "units": {**meta["units"], "conductance_S": "mS"}})
    with pytest.raises(TableError, match=r"synapse_levels.json: units of \['conductance_S'\]"):
        read_table(tmp_path, "synapse_levels")
    (tmp_path / "synapse_levels.json").unlink()
    with pytest.raises(TableError, match="device table file missing: .*synapse_levels.json"):
        read_table(tmp_path, "synapse_levels")


def test_design_rule_figures_in_the_sidecar_and_a_broken_rule_writes_nothing(stage_dirs, built, tmp_path):
    """4-cell lines of 200 nm cells (0.279 ohm each) at G_max = 1 mS: drop 0.279 * 1e-3 * 10 = 0.0028 of V_read.
    On 128-cell lines the same synapse drops 2.3 V_read: the stage stops before writing a table."""
    _, meta = read_table(built, "synapse_levels")
    rule = meta["fitted"]["crossbar_design_rule"]
    r = 2.37e-8 * 200e-9 / (100e-9 * 170e-9)
    assert rule["holds"] and rule["ir_drop_fraction"] == pytest.approx(r * 1e-3 * 4 * 5 / 2, rel=1e-3)
    assert meta["fitted"]["dynamic_range"] == pytest.approx(1e-5 * 3 ** 1.1 / (1e-3 + 5e-8), rel=1e-9)  # level means
    assert meta["fitted"]["strictly_monotonic"]
    syn, dw = stage_dirs
    out = tmp_path / "broken"
    with pytest.raises(crossbar.DesignRuleError, match="^synapse.mtj.RA_ohm_um2: "):
        tables.build_tables(syn, dw, {}, DW, {**CROSSBAR, "tile_rows": 128, "tile_columns": 128}, out, {})
    assert not out.exists() or not any(out.iterdir())
