"""Device-table loading and the energy model, against hand-computed counts and energies."""

import json
import pickle

import numpy as np
import pandas as pd
import pytest

import jax
import jax.numpy as jnp

from system.crossbar import CrossbarConfig
import system.energy as energy_module
from system.dcgan import Hardware, LayerSpec, apply, init
from system.deconv import zero_padded_input
from system.energy import (
    EnergyConfig,
    backward_stats,
    conductance_sums,
    forward_stats,
    layer_mapping,
    layer_rows,
    run_energy,
    totals,
    utilisation,
    zero_row_fractions,
)
from pipeline import io
from tests.test_dcgan import TINY  # the 8x8 DCGAN of the DCGAN tests
from pipeline.table_contract import TableError, read_table
from pipeline.table_contract import write_table as contract_write_table
from system.tables import load_device_tables


def write_table(directory, name, frame, fitted=None):
    contract_write_table(directory, name, frame, fitted=fitted or {}, engine="test", engine_version="0",
                         provenance={"engine": "test"})


def write_tables(directory, relu_threshold=0.0, relu_bias_energy_J=0.0):
    """Small tables in the contract's format (levels deliberately unsorted)."""
    g = np.array([4e-4, 1e-4, 2e-4])
    write_table(directory, "synapse_levels", pd.DataFrame({
        "level": [2, 0, 1], "n_skyrmions": [2, 0, 1], "mz_mean": [0.5, 1.0, 0.8], "conductance_S": g,
        "resistance_ohm": 1 / g, "conductance_std_S": [1e-6] * 3}),
        fitted={"crossbar_design_rule": {"wire_resistance_per_cell_ohm": 0.95}})
    write_table(directory, "synapse_update", pd.DataFrame({
        "direction": ["potentiation", "potentiation", "depression", "depression"],
        "from_level": [0, 1, 2, 1], "to_level": [1, 2, 1, 0], "current_density_A_m2": [4e11] * 4,
        "pulse_s": [1e-9] * 4, "energy_J": [1e-15, 3e-15, 2e-15, 2e-15]}))
    j = np.linspace(-5e11, 5e11, 5)
    rows = [("relu", 100.0, np.maximum(j, 0) / 5e11), ("lrelu", 5.0, np.where(j > 0, j, 0.2 * j) / 5e11),
            ("lrelu", 10.0, np.where(j > 0, j, 0.1 * j) / 5e11)]
    write_table(directory, "activation_transfer", pd.concat([pd.DataFrame({
        "device": d, "curvature_ratio": r, "current_density_A_m2": j, "current_A": j * 1e-15,
        "dw_position_m": j * 1e-19, "conductance_S": 1e-4 + y * 1e-5, "output": y}) for d, r, y in rows]))
    write_table(directory, "activation_energy", pd.DataFrame({
        "device": ["relu", "lrelu", "lrelu"], "curvature_ratio": [100.0, 5.0, 10.0],
        "drive_energy_J": [2e-13, 4e-13, 3e-13], "read_energy_J": [1e-13] * 3, "total_J": [3e-13, 5e-13, 4e-13],
        "threshold": [relu_threshold, 0.0, 0.0], "bias_energy_J": [relu_bias_energy_J, 0.0, 0.0]}))


def test_load_device_tables(tmp_path):
    write_tables(tmp_path)
    t = load_device_tables(tmp_path, 5.0)
    np.testing.assert_array_equal(t.levels_S, [1e-4, 2e-4, 4e-4])
    np.testing.assert_allclose(t.relu_x, [-1, -0.5, 0, 0.5, 1])
    np.testing.assert_allclose(t.relu_y, [0, 0, 0, 0.5, 1])
    np.testing.assert_allclose(t.lrelu_y, [-0.2, -0.1, 0, 0.5, 1])
    assert t.activation_energy_J == {"relu": 3e-13, "lrelu": 5e-13}
    assert t.update_energy_J == pytest.approx({"potentiation": 2e-15, "depression": 2e-15})
    assert t.sidecars["activation_energy"]["provenance"] == {"engine": "test"}
    assert t.wire_ohm_per_cell == 0.95
    np.testing.assert_allclose(load_device_tables(tmp_path, 10.0).lrelu_y, [-0.1, -0.05, 0, 0.5, 1])


def test_thermal_table_is_loaded_on_request_in_the_levels_order(tmp_path):
    write_tables(tmp_path)
    assert load_device_tables(tmp_path, 5.0).levels_thermal_std_S is None
    thermal = pd.DataFrame({"level": [1, 2, 0], "conductance_S": [2e-4, 4e-4, 1e-4], "thermal_std_S": [2e-8, 3e-8, 1e-8],
                            "thermal_std_read_S": [2e-9, 3e-9, 1e-9], "thermal_shift_S": [0.0] * 3,
                            "level_gap_S": [2e-4, 2e-4, 1e-4], "read_std_over_gap": [1e-5, 1.5e-5, 1e-5]})
    contract_write_table(tmp_path, "synapse_thermal", thermal, fitted={}, engine="test", engine_version="0",
                         provenance={})
    t = load_device_tables(tmp_path, 5.0, thermal=True)
    np.testing.assert_array_equal(t.levels_S, [1e-4, 2e-4, 4e-4])
    np.testing.assert_array_equal(t.levels_thermal_std_S, [1e-9, 2e-9, 3e-9])
    contract_write_table(tmp_path, "synapse_thermal", thermal[thermal["level"] != 2], fitted={}, engine="test",
                         engine_version="0", provenance={})
    with pytest.raises(TableError, match=r"synapse_thermal.parquet: no row for level\(s\) \[2\]"):
        load_device_tables(tmp_path, 5.0, thermal=True)


def test_relu_threshold_and_bias_energy(tmp_path):
    """Taken from the activation_energy table as written (devices/tables.py derives them)."""
    write_tables(tmp_path, relu_threshold=0.2, relu_bias_energy_J=7e-14)
    t = load_device_tables(tmp_path, 5.0)
    assert (t.relu_threshold, t.relu_bias_energy_J) == (0.2, 7e-14)
    rows = frame(layer_rows("generator", RELU_LAYER, "forward", np.zeros((1, 2)), 1, t, CFG, HW))
    bias = rows[rows["component"] == "activation_relu_bias_drive"]
    assert bias["count"].sum() == 12 and bias["energy_J"].sum() == pytest.approx(12 * t.relu_bias_energy_J)
    write_tables(tmp_path, relu_threshold=1.5)
    with pytest.raises(TableError, match=r"activation_energy.parquet: relu threshold 1.5 is not in \[0, 1\)"):
        load_device_tables(tmp_path, 5.0)


def test_table_errors_name_the_file(tmp_path):
    write_tables(tmp_path)
    with pytest.raises(TableError, match=r"no lrelu rows at curvature ratio 7.*available \[5.0, 10.0\]"):
        load_device_tables(tmp_path, 7.0)
    io.write_parquet(tmp_path / "synapse_update.parquet", pd.DataFrame({"direction": ["potentiation"], "from_level": [0]}))
    with pytest.raises(TableError, match=r"synapse_update.parquet lacks column\(s\) \['to_level', "):
        load_device_tables(tmp_path, 5.0)
    (tmp_path / "synapse_levels.parquet").unlink()
    with pytest.raises(TableError, match="synapse_levels.parquet"):
        load_device_tables(tmp_path, 5.0)
    write_tables(tmp_path)
    write_table(tmp_path, "synapse_levels", read_table(tmp_path, "synapse_levels")[0])  # no design rule figures
    with pytest.raises(TableError, match=r"synapse_levels.json: fitted.crossbar_design_rule.wire_resistance_per_cell"):
        load_device_tables(tmp_path, 5.0)
    write_tables(tmp_path)
    io.write_json(tmp_path / "activation_energy.json", {"units": {}})
    with pytest.raises(TableError, match=r"activation_energy.json lacks key\(s\) \['table', 'definitions', 'fitted'"):
        load_device_tables(tmp_path, 5.0)


LEVELS_S = [4e-4, 1e-4, 2e-4]  # normalised 0, 1/3, 1 (unsorted on purpose)
CFG = EnergyConfig(read_voltage_V=0.2, read_time_s=2e-9, tile_rows=8, tile_columns=4, adc_fom_J=1e-15,
                   dac_fom_J=2e-15, test_images=20, train_batches=1)
HW = Hardware(tuple(LEVELS_S), CrossbarConfig(weight_scale=1.0, dac_bits=4, adc_bits=5), ((0.0, 1.0),) * 2,
              ((0.0, 1.0),) * 2)
DENSE = LayerSpec("g1", "dense", (3,), (2,), 0, 1, 0, 0, False, "none")
RELU_LAYER = LayerSpec("g1", "dense", (2,), (12,), 0, 1, 0, 0, True, "relu")
# rows 0-2; w > 0 programs G+ to the nearest level, G- stays at 1e-4 (and the reverse)
W = np.array([[1 / 3, -1.0], [0.0, 1.0], [-1 / 3, 0.0]], np.float32)
G_ROW = [2e-4 + 1e-4 + 1e-4 + 4e-4, 2e-4 + 4e-4 + 1e-4, 1e-4 + 2e-4 + 2e-4]  # sum over G+ and G- of each row (S)
G_COLUMN = [3e-4 + 2e-4 + 3e-4, 5e-4 + 5e-4 + 2e-4]  # sum over the rows of each weight column (S)


def small_tables(tmp_path):
    write_tables(tmp_path)
    return load_device_tables(tmp_path, 5.0)


def frame(rows):
    return pd.DataFrame(rows, columns=["network", "layer", "pass", "component", "group", "count", "energy_per_op_J",
                                       "source", "energy_J"])


def test_conductance_sums_of_the_programmed_devices():
    row, column = conductance_sums(DENSE, W, LEVELS_S, 1.0)
    np.testing.assert_allclose(row[:, 0], G_ROW, rtol=1e-6)
    np.testing.assert_allclose(column, G_COLUMN, rtol=1e-6)


def test_dense_read_energy_by_hand():
    """Amplitude coding V = V_read q(x) / x_fs: x = (0.5, -1, 2) at full scale 1 drives (0.5, -1, 1) V_read
    (2 saturates); 3 bits round 0.5 to 2/3 (step 1/3); one read costs t V_read^2 sum_i a_i^2 G_row[i]."""
    row, _ = conductance_sums(DENSE, W, LEVELS_S, 1.0)
    x = jnp.asarray([[0.5, -1.0, 2.0]])
    ideal = forward_stats(DENSE, x, jnp.asarray(1.0), 0, row)
    assert float(ideal[0]) == pytest.approx(0.25 * G_ROW[0] + G_ROW[1] + G_ROW[2], rel=1e-6)
    assert float(ideal[1]) == 3  # non-zero driven rows
    quantised = forward_stats(DENSE, x, jnp.asarray(1.0), 3, row)
    assert float(quantised[0]) == pytest.approx(4 / 9 * G_ROW[0] + G_ROW[1] + G_ROW[2], rel=1e-6)
    rows = frame(layer_rows("generator", DENSE, "forward", np.asarray([ideal]), 1, None, CFG, HW))
    rows = rows.set_index("component")
    expected_J = 2e-9 * 0.2**2 * (0.25 * 8e-4 + 7e-4 + 5e-4)  # 1.12e-13 J
    assert rows.loc["crossbar_read", "energy_J"] == pytest.approx(expected_J, rel=1e-6)
    assert rows.loc["crossbar_read", "count"] == 1 and rows.loc["crossbar_read", "group"] == "array_and_devices"
    errors = backward_stats(jnp.asarray([[0.5, -1.0]]), jnp.asarray(1.0), 0, jnp.asarray(G_COLUMN))
    assert float(errors[0]) == pytest.approx(0.25 * G_COLUMN[0] + G_COLUMN[1], rel=1e-6) and float(errors[1]) == 1.0


def test_all_zero_input_costs_no_array_energy_but_its_cycles():
    row, _ = conductance_sums(DENSE, W, LEVELS_S, 1.0)
    stats = forward_stats(DENSE, jnp.zeros((5, 3)), jnp.asarray(1.0), 4, row)
    assert float(stats[0]) == 0 and float(stats[1]) == 0
    rows = frame(layer_rows("generator", DENSE, "forward", np.asarray([stats]), 5, None, CFG, HW))
    rows = rows.set_index("component")
    assert rows.loc["crossbar_read", "energy_J"] == 0 and rows.loc["crossbar_read", "count"] == 1  # 1 read, 1 tile
    # a DAC converts zero codes too: 3 rows at 2e-15 J x 2^4
    assert rows.loc["dac", "count"] == 3 and rows.loc["dac", "energy_J"] == pytest.approx(3 * 2e-15 * 16)


def test_zero_padded_deconvolution_zeros_cost_no_array_energy_but_their_cycles():
    """2x2 input, 4x4 kernel, stride 2, padding 1 -> 4x4 output: the zero-padded input is 7x7, per axis
    [pad, pad, x, 0, x, pad, pad], covered by the 4 windows [1, 2, 3, 4, 3, 2, 1] times. Of 16 reads x 16
    rows = 256 driven rows, (3 + 3)^2 = 36 hold a pixel, 6*4 + 4*6 + 4*4 = 64 an inserted zero, 156 padding."""
    spec = LayerSpec("g2", "deconv", (2, 2, 1), (4, 4, 1), 4, 2, 1, 0, False, "tanh")
    row, _ = conductance_sums(spec, np.zeros((4, 4, 1, 1), np.float32), LEVELS_S, 1.0)  # every device at 1e-4
    np.testing.assert_allclose(row, 2e-4)
    x = jnp.ones((1, 2, 2, 1))
    energy, nonzero = (float(v) for v in forward_stats(spec, x, jnp.asarray(1.0), 0, row))
    assert nonzero == 36 and energy == pytest.approx(36 * 2e-4, rel=1e-6)
    explicit = np.asarray(zero_padded_input(x, 4, 2, 1))[0, :, :, 0]  # the same sum written out, read by read
    by_read = sum((explicit[i:i + 4, j:j + 4] ** 2 * 2e-4).sum() for i in range(4) for j in range(4))
    assert energy == pytest.approx(by_read, rel=1e-6)
    assert zero_row_fractions(spec) == (64 / 256, 156 / 256)
    m = layer_mapping(spec, 128, 128)
    assert (m.reads, m.rows, m.cycles) == (16, 16, 16)
    rows = frame(layer_rows("generator", spec, "forward", np.asarray([[energy, nonzero]]), 1, None, CFG, HW))
    read = rows.set_index("component").loc["crossbar_read"]
    assert read["count"] == 16 * 2  # 16 reads x 2 row tiles of 8 rows (CFG): every read's cycles, zeros or not
    assert read["energy_J"] == pytest.approx(2e-9 * 0.04 * 36 * 2e-4, rel=1e-6)
    # the DAC converts the 36 driven rows that hold a pixel; inserted and padding zeros are grounded
    dac = rows.set_index("component").loc["dac"]
    assert dac["count"] == 36 and dac["energy_J"] == pytest.approx(36 * 2e-15 * 16)


def test_conversions_of_a_layer_spanning_2x2_tiles():
    """dense 10 -> 3 on 8 x 4 tiles: 10 rows -> 2 row tiles, 6 device columns -> 2 column tiles."""
    spec = LayerSpec("d2", "dense", (10,), (3,), 0, 1, 0, 0, False, "none")
    m = layer_mapping(spec, 8, 4)
    assert (m.row_tiles, m.column_tiles, m.cycles) == (2, 2, 4)
    assert m.cell_utilisation == pytest.approx(10 * 6 / (4 * 8 * 4))
    stats = np.asarray([[1e-3, 10.0], [1e-3, 10.0], [1e-3, 10.0]])  # three forward passes (as D in training)
    fwd = frame(layer_rows("discriminator", spec, "forward", stats, 1, None, CFG, HW)).set_index("component")
    dac_J, adc_J = 2e-15 * 2**4, 1e-15 * 2**5
    assert fwd.loc["dac", "count"] == 3 * 10 and fwd.loc["dac", "energy_J"] == pytest.approx(30 * dac_J)
    assert fwd.loc["adc", "count"] == 3 * 3 * 2 and fwd.loc["adc", "energy_J"] == pytest.approx(18 * adc_J)
    assert fwd.loc["crossbar_read", "count"] == 3 * 4
    assert fwd.loc["crossbar_read", "energy_J"] == pytest.approx(2e-9 * 0.04 * 3e-3)
    assert fwd.loc["cmos_partial_sum_add", "count"] == 3 * 3 and fwd.loc["cmos_partial_sum_add", "energy_J"] == 0
    bwd = frame(layer_rows("discriminator", spec, "backward", stats[:1], 1, None, CFG, HW)).set_index("component")
    assert bwd.loc["dac", "count"] == 3 and bwd.loc["adc", "count"] == 10 * 2 and bwd.loc["crossbar_read", "count"] == 4
    both = pd.concat([fwd, bwd]).reset_index()
    periphery = totals(both)["with_periphery"] - totals(both)["array_and_devices"]
    assert periphery == pytest.approx((30 + 3) * dac_J + (18 + 20) * adc_J)
    assert totals(both)["array_and_devices"] == pytest.approx(2e-9 * 0.04 * 4e-3)


def test_ideal_converters_cost_nothing():
    ideal = Hardware(HW.levels_S, CrossbarConfig(weight_scale=1.0), HW.relu, HW.lrelu)
    rows = frame(layer_rows("generator", DENSE, "forward", np.ones((1, 2)), 1, None, CFG, ideal)).set_index("component")
    assert rows.loc["dac", "energy_J"] == 0 and rows.loc["adc", "energy_J"] == 0 and rows.loc["dac", "count"] == 3


def test_run_energy_traces_a_run_directory(tmp_path, monkeypatch):
    """A run of the 8x8 DCGAN with random weights, calibrated on one batch: the traced breakdowns have the
    counted cycles and conversions, the passes of a training step, and the update energies."""
    monkeypatch.setattr(energy_module, "architecture", lambda dataset, latent_dim=100: TINY)
    tables = small_tables(tmp_path)
    arch = TINY
    hw = Hardware.from_tables(tables, CrossbarConfig(weight_scale=0.05, dac_bits=6, adc_bits=6))
    run = tmp_path / "run"
    run.mkdir()
    rng = np.random.default_rng(0)
    images = (rng.random((16, 8, 8)) * 255).astype(np.uint8)
    z = jnp.asarray(rng.standard_normal((8, 4)), jnp.float32)
    params_g, state_g = init(arch.generator, jax.random.PRNGKey(0), hw)
    params_d, state_d = init(arch.discriminator, jax.random.PRNGKey(1), hw)

    @jax.jit
    def calibrate(state_g, state_d):  # training passes: BN running stats and converter full scales
        fake, state_g = apply(arch.generator, params_g, state_g, z, hw=hw)
        return state_g, apply(arch.discriminator, params_d, state_d, fake, hw=hw)[1]

    for _ in range(40):
        state_g, state_d = calibrate(state_g, state_d)
    (run / "config.json").write_text(json.dumps({"dataset": "fashion_mnist", "variant": "hardware", "seed": 0,
                                                 "system": {"latent_dim": 4, "batch_size": 8},
                                                 "hardware": hw.to_dict()}, default=float))
    for network, params, state in (("generator", params_g, state_g), ("discriminator", params_d, state_d)):
        with open(run / f"{network}.pkl", "wb") as f:
            pickle.dump({"params": jax.tree.map(np.asarray, params), "state": jax.tree.map(np.asarray, state)}, f)
    pd.DataFrame({"network": ["generator"] * 3 + ["discriminator"] * 3, "layer": ["g1", "g2", "g3", "d1", "d2", "d3"],
                  "potentiation": 5, "depression": 3, "steps": 1, "images": 8}).to_csv(run / "update_counts.csv",
                                                                                     index=False)
    cfg = EnergyConfig(0.1, 1e-9, 128, 128, 1e-15, 1e-15, test_images=20, train_batches=1)
    testing, training, tiles = run_energy(run, tables, cfg, images)

    read = testing[testing.component == "crossbar_read"].set_index("layer")
    for spec in arch.generator:
        assert read.loc[spec.name, "count"] == layer_mapping(spec, 128, 128).cycles
    assert (read["energy_J"] > 0).all() and set(testing["pass"]) == {"forward"}
    assert tiles.set_index("layer").loc["g2", "inserted_zero_row_fraction"] == zero_row_fractions(arch.generator[1])[0]
    pixels = 1 - tiles["inserted_zero_row_fraction"] - tiles["padding_zero_row_fraction"]
    assert (tiles["nonzero_row_fraction"] <= pixels + 1e-9).all()
    assert utilisation(tiles)["array_cycles_per_image"] == read["count"].sum()
    train_read = training[training.component == "crossbar_read"].set_index(["layer", "pass"])["count"]
    d1 = layer_mapping(arch.discriminator[0], 128, 128).cycles
    assert train_read["d1", "forward"] == 3 * d1 and train_read["d1", "backward"] == d1  # G step only
    assert train_read["d2", "backward"] == 3 * layer_mapping(arch.discriminator[1], 128, 128).cycles
    assert ("g1", "backward") not in train_read.index and train_read["g2", "backward"] > 0  # no gradient into z
    updates = training[training["pass"] == "update"]
    assert updates.loc[updates.component == "update_potentiation", "energy_J"].sum() == pytest.approx(6 * 5 / 8 * 2e-15)
    assert totals(training)["array_and_devices"] > totals(testing)["array_and_devices"] > 0
    assert totals(testing)["with_periphery"] > totals(testing)["array_and_devices"]
    assert set(training["group"]) == {"array_and_devices", "periphery", "cmos_unmodelled"}
    with pytest.raises(ValueError, match="float run"):
        (run / "config.json").write_text(json.dumps({"variant": "float"}))
        run_energy(run, tables, cfg, images)
