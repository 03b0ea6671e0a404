"""Training on a tiny DCGAN: outputs, resume after a kill, update counts, NaN stop, sampling."""

import dataclasses
import json
import pickle

import jax
import numpy as np
import pandas as pd
import pytest
from PIL import Image

import system.train as train_module
from system.metrics import feature_stats, frechet_distance
from system.tables import DeviceTables
from system.train import generate, load_generator, make_train_step, train
from tests.test_dcgan import TINY  # the 8x8 DCGAN the DCGAN tests use

X = np.linspace(-1.0, 1.0, 9)
TABLES = DeviceTables(1e-4 * (1 + np.linspace(0, 1, 16) ** 1.3), np.full(16, 1e-7), X, np.maximum(X, 0), X,
                      np.where(X > 0, X, 0.2 * X),
                      5.0, {"relu": 1e-13, "lrelu": 2e-13}, {"potentiation": 1e-15, "depression": 2e-15},
                      {"synapse_levels": {"provenance": {"engine": "test"}}})
IMAGES = (np.random.default_rng(0).random((24, 8, 8)) * 255).astype(np.uint8)


# what train() leaves for the later rules (workflow/rules/system.smk declares each of them)
OUTPUTS = ("config.json", "generator.pkl", "discriminator.pkl", "history.csv", "update_counts.csv", "samples.png")


def config(epochs=2, every=4):
    return {"latent_dim": 4, "batch_size": 8, "learning_rate": 2e-3, "beta1": 0.5, "epochs": {"fashion_mnist": epochs},
            "max_train_images": 0, "checkpoint_every_steps": every, "checkpoint_metric_samples": 16,
            "crossbar": {"weight_scale": 0.05, "variation_scale": 0.0, "read_noise": False, "ir_drop": False,
                         "thermal_noise": False, "dac_bits": 8, "adc_bits": 8}}


@pytest.fixture(autouse=True)
def tiny_architecture(monkeypatch):
    monkeypatch.setattr(train_module, "architecture", lambda dataset, latent_dim=100: TINY)


def pixels(images):
    """Raw pixels as the features of the checkpoint score (the workflow passes the classifier's)."""
    return np.asarray(images).reshape(len(images), -1)


def unpickle(path):
    with open(path, "rb") as f:
        return pickle.load(f)


def params_of(outdir):
    params, _, _ = load_generator(outdir)
    return jax.tree.leaves(params)


def test_float_run_writes_outputs_and_generates(tmp_path):
    train(config(), "fashion_mnist", "float", IMAGES, None, tmp_path, seed=0)
    history = pd.read_csv(tmp_path / "history.csv")
    assert list(history.columns) == ["step", "epoch", "d_loss", "g_loss", "wall_s"]
    assert history["step"].tolist() == [1, 2, 3, 4, 5, 6] and history["epoch"].tolist() == [0, 0, 0, 1, 1, 1]
    assert np.all(np.isfinite(history[["d_loss", "g_loss"]])) and history["wall_s"].is_monotonic_increasing
    for name in (*OUTPUTS, "checkpoint.pkl", "samples_step000004.png", "samples_step000006.png"):
        assert (tmp_path / name).is_file(), name
    assert (pd.read_csv(tmp_path / "update_counts.csv")[["potentiation", "depression"]] == 0).all().all()
    assert Image.open(tmp_path / "samples.png").size == (640, 680)  # 8x8 grid of 8 px images x 10, title band
    assert not list(tmp_path.glob(".*tmp*"))  # no temporary files left
    assert json.loads((tmp_path / "config.json").read_text())["variant"] == "float"
    assert train_module.training_throughput(tmp_path / "history.csv", 8) == pytest.approx(6 * 8 / history["wall_s"].iloc[-1])

    images = generate(tmp_path, 10, seed=1, batch_size=4)
    assert images.shape == (10, 8, 8, 1) and images.dtype == np.float32
    assert images.min() >= -1 and images.max() <= 1
    np.testing.assert_array_equal(images, generate(load_generator(tmp_path), 10, seed=1, batch_size=4))
    assert not np.array_equal(images, generate(tmp_path, 10, seed=2, batch_size=4))

    train(config(), "fashion_mnist", "float", IMAGES, None, tmp_path, seed=5)  # another setup: afresh
    assert pd.read_csv(tmp_path / "history.csv")["step"].tolist() == [1, 2, 3, 4, 5, 6]


class Killed(Exception):
    pass


def test_checkpoints_score_their_samples(tmp_path):
    calls = []

    def features(images):
        calls.append(np.array(images))
        return pixels(images)

    train(config(), "fashion_mnist", "float", IMAGES, None, tmp_path, seed=0, classifier_features=features)
    history = pd.read_csv(tmp_path / "history.csv")
    scored = history.dropna(subset=["classifier_fd"])
    assert scored["step"].tolist() == [4, 6] and (scored["classifier_fd"] > 0).all()
    real, *fakes = calls  # the training images' features once, then each checkpoint's samples
    assert real.shape == (16, 8, 8, 1) and len(fakes) == 2 and all(f.shape == (16, 8, 8, 1) for f in fakes)
    assert all(any(np.allclose(r, image[..., None] / 127.5 - 1.0, atol=1e-6) for image in IMAGES) for r in real)
    final = frechet_distance(*feature_stats(pixels(real)), *feature_stats(pixels(generate(tmp_path, 16, seed=2))))
    assert scored["classifier_fd"].iloc[-1] == pytest.approx(final, rel=1e-6)  # the final generator's samples

    train({**config(), "checkpoint_metric_samples": 0}, "fashion_mnist", "float", IMAGES, None, tmp_path / "off",
          seed=0, classifier_features=features)
    assert "classifier_fd" not in pd.read_csv(tmp_path / "off" / "history.csv") and len(calls) == 3


def killed_at_first_checkpoint_then_resumed(run, outdir, monkeypatch) -> dict:
    """run(outdir) killed right after its first checkpoint, then run again to the end; returns that checkpoint."""
    save = train_module._save_checkpoint

    def save_then_die(path, state):
        save(path, state)
        raise Killed

    monkeypatch.setattr(train_module, "_save_checkpoint", save_then_die)
    with pytest.raises(Killed):
        run(outdir)
    with open(outdir / "checkpoint.pkl", "rb") as f:
        checkpoint = pickle.load(f)
    monkeypatch.setattr(train_module, "_save_checkpoint", save)
    run(outdir)
    return checkpoint


def test_killed_run_resumes_to_the_uninterrupted_result(tmp_path, monkeypatch):
    def run(outdir):
        train(config(), "fashion_mnist", "float", IMAGES, None, outdir, seed=0, classifier_features=pixels)
    run(tmp_path / "whole")
    assert killed_at_first_checkpoint_then_resumed(run, tmp_path / "resumed", monkeypatch)["step"] == 4

    for a, b in zip(params_of(tmp_path / "whole"), params_of(tmp_path / "resumed")):
        np.testing.assert_array_equal(a, b)
    whole, resumed = (pd.read_csv(tmp_path / d / "history.csv") for d in ("whole", "resumed"))
    pd.testing.assert_frame_equal(whole.drop(columns="wall_s"), resumed.drop(columns="wall_s"))
    assert whole["classifier_fd"].notna().sum() == 2  # the checkpoint scores are continued too


def test_killed_hardware_run_resumes_with_its_converter_full_scales(tmp_path, monkeypatch):
    """The DAC / ADC full scales are state: checkpointed, resumed, saved in generator.pkl and
    discriminator.pkl, and the resumed run equals the uninterrupted one."""
    def run(outdir):
        train(config(epochs=1, every=2), "fashion_mnist", "hardware", IMAGES, TABLES, outdir, seed=0)
    run(tmp_path / "whole")
    checkpoint = killed_at_first_checkpoint_then_resumed(run, tmp_path / "resumed", monkeypatch)
    assert float(checkpoint["carry"]["state_d"]["d1"]["dac_full_scale"]) > 0
    for network in ("generator", "discriminator"):
        whole, resumed = (unpickle(tmp_path / d / f"{network}.pkl") for d in ("whole", "resumed"))
        assert all(float(s["dac_full_scale"]) > 0 and float(s["adc_full_scale"]) > 0 for s in whole["state"].values())
        for a, b in zip(jax.tree.leaves((whole["params"], whole["state"])),
                        jax.tree.leaves((resumed["params"], resumed["state"]))):
            np.testing.assert_array_equal(a, b)


def test_hardware_run_counts_level_updates(tmp_path):
    train(config(epochs=1, every=2), "fashion_mnist", "hardware", IMAGES, TABLES, tmp_path, seed=0)
    history = pd.read_csv(tmp_path / "history.csv")
    counts = pd.read_csv(tmp_path / "update_counts.csv")
    assert counts["layer"].tolist() == ["g1", "g2", "g3", "d1", "d2", "d3"]
    assert (counts["steps"] == 3).all() and (counts["images"] == 24).all()
    for net, prefix in (("generator", "g"), ("discriminator", "d")):
        rows = counts[counts["network"] == net]
        for direction in ("potentiation", "depression"):
            assert rows[direction].sum() == history[f"{prefix}_{direction}"].sum()
    assert counts[["potentiation", "depression"]].to_numpy().sum() > 0
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["hardware"]["crossbar"]["weight_scale"] == 0.05
    assert saved["tables_provenance"]["synapse_levels"] == {"engine": "test"}
    params, _, _ = load_generator(tmp_path)
    assert all(np.abs(p["w"]).max() <= 0.05 for p in params.values())  # kept in the device range
    assert generate(tmp_path, 3, seed=0).shape == (3, 8, 8, 1)


def test_hardware_run_trains_with_every_non_ideality(tmp_path):
    """Variation from the table, tunnel read noise, thermal noise and IR drop in the forward pass of training and of
    generation; the saved hardware carries every figure they need; generation is reproducible per seed."""
    tables = dataclasses.replace(TABLES, levels_thermal_std_S=np.full(16, 2e-7), wire_ohm_per_cell=5.0)
    section = config(epochs=1, every=2)
    section["crossbar"] = {**section["crossbar"], "variation_scale": 1.0, "read_noise": True, "ir_drop": True,
                           "thermal_noise": True, "tile": {"read_voltage_V": 0.1, "read_time_s": 1e-9,
                                                           "temperature_K": 300.0, "tile_rows": 16,
                                                           "tile_columns": 16}}
    train(section, "fashion_mnist", "hardware", IMAGES, tables, tmp_path, seed=0)
    history = pd.read_csv(tmp_path / "history.csv")
    assert np.isfinite(history["g_loss"]).all() and np.isfinite(history["d_loss"]).all()
    crossbar = json.loads((tmp_path / "config.json").read_text())["hardware"]["crossbar"]
    assert crossbar["read_noise"] and crossbar["ir_drop"] and crossbar["thermal_noise"]
    assert crossbar["wire_ohm"] == 5.0 and len(crossbar["level_thermal_std"]) == 16 and crossbar["tile_rows"] == 16
    a, b = generate(tmp_path, 3, seed=0), generate(tmp_path, 3, seed=0)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, generate(tmp_path, 3, seed=1))


def test_rerun_of_a_finished_run_rewrites_its_outputs_without_training(tmp_path):
    """Snakemake removes the outputs before rerunning a job whose inputs changed; with the same setup the
    finished checkpoint is reused (no step trained) and every output is written again, unchanged."""
    train(config(epochs=1, every=2), "fashion_mnist", "hardware", IMAGES, TABLES, tmp_path, seed=0)
    before = {name: (tmp_path / name).read_bytes() for name in ("history.csv", "update_counts.csv")}
    first = params_of(tmp_path)
    for name in OUTPUTS:
        (tmp_path / name).unlink()
    train(config(epochs=1, every=2), "fashion_mnist", "hardware", IMAGES, TABLES, tmp_path, seed=0)
    assert {name: (tmp_path / name).read_bytes() for name in before} == before
    assert all((tmp_path / name).is_file() for name in OUTPUTS)
    for a, b in zip(first, params_of(tmp_path)):
        np.testing.assert_array_equal(a, b)


def test_more_epochs_continue_and_fewer_epochs_start_afresh(tmp_path):
    """Raising epochs continues the finished run (the longer run's result); lowering them trains anew rather
    than keeping a generator trained past the new end."""
    train(config(epochs=2), "fashion_mnist", "float", IMAGES, None, tmp_path / "two", seed=0)
    train(config(epochs=1), "fashion_mnist", "float", IMAGES, None, tmp_path / "grown", seed=0)
    train(config(epochs=2), "fashion_mnist", "float", IMAGES, None, tmp_path / "grown", seed=0)
    for a, b in zip(params_of(tmp_path / "two"), params_of(tmp_path / "grown")):
        np.testing.assert_array_equal(a, b)

    train(config(epochs=1), "fashion_mnist", "float", IMAGES, None, tmp_path / "one", seed=0)
    train(config(epochs=1), "fashion_mnist", "float", IMAGES, None, tmp_path / "two", seed=0)  # shrunk
    assert pd.read_csv(tmp_path / "two" / "history.csv")["step"].tolist() == [1, 2, 3]
    for a, b in zip(params_of(tmp_path / "one"), params_of(tmp_path / "two")):
        np.testing.assert_array_equal(a, b)


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    train(config(epochs=1, every=3), "fashion_mnist", "float", IMAGES, None, tmp_path, seed=0)
    monkeypatch.setattr(train_module, "bce", lambda logits, target: logits.sum() * np.nan)
    make_train_step.cache_clear()
    try:
        with pytest.raises(FloatingPointError, match="step 4"):
            train(config(epochs=2, every=3), "fashion_mnist", "float", IMAGES, None, tmp_path, seed=0)
    finally:
        make_train_step.cache_clear()
    with open(tmp_path / "checkpoint.pkl", "rb") as f:
        assert pickle.load(f)["step"] == 3
    assert len(pd.read_csv(tmp_path / "history.csv")) == 3


def test_input_validation(tmp_path):
    with pytest.raises(ValueError, match="uint8 images"):
        train(config(), "fashion_mnist", "float", IMAGES[:, :7], None, tmp_path, seed=0)
    with pytest.raises(ValueError, match="device tables"):
        train(config(), "fashion_mnist", "hardware", IMAGES, None, tmp_path, seed=0)
    with pytest.raises(ValueError, match="variant"):
        train(config(), "fashion_mnist", "analog", IMAGES, None, tmp_path, seed=0)
    with pytest.raises(ValueError, match="fewer than one batch"):
        train(config(), "fashion_mnist", "float", IMAGES[:5], None, tmp_path, seed=0)
    with pytest.raises(FileNotFoundError, match="not finished"):
        load_generator(tmp_path)
