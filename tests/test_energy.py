"""Device-table loading and the energy model, against hand-computed counts and energies."""

import json
import pickle

import numpy as np
import pandas as pd
import pytest

from system.dcgan import Architecture, LayerSpec, architecture
from system.energy import (
    EnergyConfig,
    inference_energy,
    layer_counts,
    programmed_conductance,
    run_energy,
    training_energy,
)
from pipeline import io
from pipeline.table_contract import TableError
from pipeline.table_contract import write_table as contract_write_table
from system.tables import load_device_tables


def write_table(directory, name, frame):
    contract_write_table(directory, name, frame, fitted={}, engine="test", engine_version="0",
                         provenance={"engine": "test"})


def write_tables(directory, relu_threshold=0.0, relu_bias_energy_J=0.0):
    """Small tables in the contract's format (levels deliberately unsorted)."""
    g = np.array([4e-4, 1e-4, 2e-4])
    write_table(directory, "synapse_levels", pd.DataFrame({
        "level": [2, 0, 1], "n_skyrmions": [2, 0, 1], "mz_mean": [0.5, 1.0, 0.8], "conductance_S": g,
        "resistance_ohm": 1 / g, "conductance_std_S": [1e-6] * 3}))
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
    np.testing.assert_allclose(load_device_tables(tmp_path, 10.0).lrelu_y, [-0.1, -0.05, 0, 0.5, 1])


def test_relu_threshold_and_bias_energy(tmp_path):
    """Taken from the activation_energy table as written (devices/tables.py derives them)."""
    write_tables(tmp_path, relu_threshold=0.2, relu_bias_energy_J=7e-14)
    t = load_device_tables(tmp_path, 5.0)
    assert (t.relu_threshold, t.relu_bias_energy_J) == (0.2, 7e-14)
    rows = inference_energy(SMALL, t, CFG)
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
    io.write_json(tmp_path / "activation_energy.json", {"units": {}})
    with pytest.raises(TableError, match=r"activation_energy.json lacks key\(s\) \['table', 'definitions', 'fitted'"):
        load_device_tables(tmp_path, 5.0)


# A hand-countable network: G dense 2 -> 12 (BN, ReLU), deconv (2,2,3) -> (4,4,1) k2 s2 p0 (tanh);
# D conv (4,4,1) -> (2,2,2) k2 s2 p0 (Leaky ReLU), dense 8 -> 1 (logit).
SMALL = Architecture(
    "fashion_mnist", (4, 4, 1), 2,
    (LayerSpec("g1", "dense", (2,), (12,), 0, 1, 0, 0, True, "relu"),
     LayerSpec("g2", "deconv", (2, 2, 3), (4, 4, 1), 2, 2, 0, 0, False, "tanh")),
    (LayerSpec("d1", "conv", (4, 4, 1), (2, 2, 2), 2, 2, 0, 0, False, "lrelu"),
     LayerSpec("d2", "dense", (8,), (1,), 0, 1, 0, 0, False, "none")),
)
CFG = EnergyConfig(read_voltage_V=0.2, read_time_s=2e-9, dac_energy_J=1e-15, adc_energy_J=2e-15)
E_READ = 0.2**2 * (7e-4 / 3) * 2e-9  # V^2 * mean level conductance * t
E_RELU, E_LRELU, E_DAC, E_ADC = 3e-13, 5e-13, 1e-15, 2e-15


def test_layer_counts_by_hand():
    # g2: zero-inserted, padded axis [pad, x, 0, x, pad], windows of 2 cover it [1, 2, 2, 2, 1] times:
    # taps per axis on pixels 4, on inserted zeros 2, on padding 2 -> 2-D: 16, 2*4*2 + 2*2 = 20, 64 - 36 = 28
    g2 = layer_counts(SMALL.generator[1])
    assert (g2.macs_input, g2.macs_inserted_zeros, g2.macs_padding_zeros) == (16 * 3, 20 * 3, 28 * 3)
    assert (g2.dac, g2.adc, g2.inputs, g2.outputs) == (16 * 2 * 2 * 3, 16, 12, 16)
    d1 = layer_counts(SMALL.discriminator[0])
    assert (d1.macs_input, d1.macs_inserted_zeros, d1.macs_padding_zeros, d1.dac, d1.adc) == (32, 0, 0, 16, 8)
    g1 = layer_counts(SMALL.generator[0])
    assert (g1.macs_input, g1.macs_inserted_zeros, g1.dac, g1.adc) == (24, 0, 2, 12)


def small_tables(tmp_path):
    write_tables(tmp_path)
    return load_device_tables(tmp_path, 5.0)


def test_inference_energy_by_hand(tmp_path):
    frame = inference_energy(SMALL, small_tables(tmp_path), CFG)
    assert list(frame.columns) == ["network", "layer", "pass", "component", "count", "energy_per_op_J", "source", "energy_J"]
    by = frame.set_index(["layer", "component"])["count"]
    assert by["g1", "crossbar_read"] == 2 * 24 and by["g1", "activation_relu"] == 12 and by["g1", "cmos_batchnorm"] == 12
    assert (by["g2", "crossbar_read"], by["g2", "crossbar_read_inserted_zeros"], by["g2", "crossbar_read_padding_zeros"]) == (96, 120, 168)
    assert by["g2", "cmos_tanh"] == 16
    expected = E_READ * (48 + 96 + 120 + 168) + E_DAC * (2 + 192) + E_ADC * (12 + 16) + E_RELU * 12
    assert frame["energy_J"].sum() == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(frame["energy_J"], frame["count"] * frame["energy_per_op_J"])
    assert (frame.loc[frame.component.str.startswith("cmos"), "energy_J"] == 0).all()
    assert frame.loc[frame.component == "crossbar_read", "source"].str.contains("synapse_levels mean").all()


def test_training_energy_by_hand(tmp_path):
    updates = pd.DataFrame({"network": ["generator", "generator", "discriminator", "discriminator"],
                            "layer": ["g1", "g2", "d1", "d2"], "potentiation": [10, 4, 6, 0],
                            "depression": [6, 2, 0, 8], "steps": 1, "images": 8})
    frame = training_energy(SMALL, small_tables(tmp_path), CFG, updates)
    g_forward = E_READ * (48 + 96 + 120 + 168) + E_DAC * (2 + 192) + E_ADC * (12 + 16) + E_RELU * 12
    d_forward = E_READ * (64 + 16) + E_DAC * (16 + 8) + E_ADC * (8 + 1) + E_LRELU * 8
    d_backward = (E_READ * 64 + E_DAC * 8 + E_ADC * 16) + 3 * (E_READ * 16 + E_DAC * 1 + E_ADC * 8)
    g_backward = E_READ * 96 + E_DAC * 16 + E_ADC * 12  # g2 only: no gradient into z
    updates_J = (10 + 4 + 6 + 0) / 8 * 2e-15 + (6 + 2 + 0 + 8) / 8 * 2e-15
    expected = g_forward + 3 * d_forward + d_backward + g_backward + updates_J
    assert frame["energy_J"].sum() == pytest.approx(expected, rel=1e-12)
    per_pass = frame.groupby("pass")["energy_J"].sum()
    assert per_pass["update"] == pytest.approx(updates_J, rel=1e-12)
    assert per_pass["backward"] == pytest.approx(d_backward + g_backward, rel=1e-12)
    assert not ((frame["layer"] == "g1") & (frame["pass"] == "backward")).any()


def test_programmed_conductance(tmp_path):
    params = {"g1": {"w": np.array([0.5, -1.0, 0.0, 0.1])}}
    # normalised levels 0, 1/3, 1: 0.5 -> level 1 on G+, -1.0 -> level 2 on G-, the rest level 0
    mean = programmed_conductance((SMALL.generator[0],), params, [4e-4, 1e-4, 2e-4], 1.0)
    assert mean["g1"] == pytest.approx(0.5 * ((2e-4 + 3e-4) / 4 + (4e-4 + 3e-4) / 4))
    conductance = {"g1": 1.5e-4, "g2": 3e-4}
    frame = inference_energy(SMALL, small_tables(tmp_path), CFG, conductance)
    read = frame[frame.component == "crossbar_read"].set_index("layer")
    assert read.loc["g2", "energy_per_op_J"] == pytest.approx(0.04 * 3e-4 * 2e-9)
    assert read.loc["g1", "source"].endswith("G (programmed mean of g1) * system.energy.read_time_s")


def test_run_energy_reads_a_run_directory(tmp_path):
    tables = small_tables(tmp_path)
    arch = architecture("fashion_mnist")
    rng = np.random.default_rng(0)
    params_g, params_d = ({s.name: {"w": rng.normal(0, 0.02, s.weight_shape).astype(np.float32)} for s in layers}
                          for layers in (arch.generator, arch.discriminator))
    run = tmp_path / "run"
    run.mkdir()
    hardware = {"levels_S": [1e-4, 2e-4, 4e-4], "crossbar": {"weight_scale": 0.05}}
    (run / "config.json").write_text(json.dumps({"dataset": "fashion_mnist", "variant": "hardware",
                                                 "system": {"latent_dim": 100}, "hardware": hardware}))
    for network, params in (("generator", params_g), ("discriminator", params_d)):
        with open(run / f"{network}.pkl", "wb") as f:
            pickle.dump({"params": params, "state": {}}, f)
    pd.DataFrame({"network": "generator", "layer": ["g1", "g2", "g3"], "potentiation": 5, "depression": 5,
                  "steps": 1, "images": 128}).to_csv(run / "update_counts.csv", index=False)
    testing, training = run_energy(run, tables, CFG)
    assert set(testing["layer"]) == {"g1", "g2", "g3"} and testing["energy_J"].sum() > 0
    assert training["energy_J"].sum() > testing["energy_J"].sum()
    assert testing[testing.component == "crossbar_read"]["source"].str.contains("programmed mean").all()
    with pytest.raises(ValueError, match="float run"):
        (run / "config.json").write_text(json.dumps({"variant": "float"}))
        run_energy(run, tables, CFG)
