"""The FC-GAN on RRAM crossbars (system/fcgan.py, fcgan_run.py) and its noise source (system/rram_noise.py): the
crossbar product against the device model's own equations, write-verify, the Manhattan pulse's direction,
the noise source's statistics (and that they reject correlated noise), and a tiny training run that resumes."""
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
import yaml

from devices import rram, rram_tables
from devices.params import RRAMParams
from system import fcgan, fcgan_run, rram_noise

CONFIG = yaml.safe_load((Path(__file__).parents[1] / "config" / "config.yaml").read_text())
ENERGY = {"adc_fom_J_per_conversion_step": 9.7e-15, "dac_fom_J_per_conversion_step": 9.7e-15}


@pytest.fixture(scope="module")
def dev(tmp_path_factory) -> fcgan.RRAMDevice:
    tmp = tmp_path_factory.mktemp("rram")
    params = RRAMParams.from_config({**CONFIG["rram"], "population": 2000, "pulses": 5})
    rram_tables.run_stage(params, CONFIG["crossbar"], 0, tmp / "stage", tmp / "tables", {})
    return fcgan_run.load_device(tmp / "tables")


def section(**changes) -> dict:
    return {**CONFIG["fcgan"], "hidden": [8], "latent_dim": 4, "batch_size": 8, "epochs": 1, "dac_bits": 0,
            "adc_bits": 0, **changes}


def test_forward_read_is_the_device_models_current(dev):
    """No noise, ideal converters: a layer's output is sum_i I(V_i; G+) - I(V_i; G-) of the model's equations
    (devices/rram.py, not the table the network interpolates), scaled to weight units."""
    cfg = fcgan_run.run_config(section(), ENERGY, "insitu", "gaussian", 0)
    key = jax.random.PRNGKey(1)
    layer = fcgan.init_devices((5, 3), key, cfg, dev)[0]
    x = jax.random.uniform(jax.random.PRNGKey(2), (4, 5), minval=-1, maxval=1)
    read = dev.layer_read(layer, read_noise=False)
    w = fcgan.device_weights(layer, cfg, dev)
    y, _, _ = fcgan.insitu_dense(x, w, read, {"adc": jnp.zeros(())}, key, cfg, dev, 1.0, train=False)
    V = dev.read_voltage_V * np.concatenate([np.asarray(x), np.ones((4, 1))], axis=1)
    current = 0.0
    for g, xi, sign in ((layer["gp"], layer["xi_p"], 1), (layer["gm"], layer["xi_m"], -1)):
        a1, a3 = rram.read_coefficients(np.asarray(g, np.float64), dev.temperature_C, np.asarray(xi, np.float64))
        current = current + sign * (V @ a1 + V ** 3 @ a3)
    expected = current * cfg.weight_scale / (dev.read_voltage_V * dev.window_width_S)
    np.testing.assert_allclose(np.asarray(y), expected, rtol=2e-3, atol=1e-4)


def test_write_verify_reaches_the_target_read_current(dev):
    xi = jax.random.normal(jax.random.PRNGKey(3), (1000,))
    target = jnp.linspace(40e-6, 90e-6, 1000)
    g = dev.verify(target, xi)
    nominal = dev.read_current(target, jnp.zeros_like(xi))
    np.testing.assert_allclose(np.asarray(dev.read_current(g, xi)), np.asarray(nominal), rtol=1e-4)
    assert float(jnp.max(jnp.abs(g - target))) > 1e-6  # the draws did need correcting


def test_initial_devices_hold_their_weights_and_draw_independently_of_them(dev):
    """With draws, write-verify gives each pair the read current of the same pair without draws (insitu_novar,
    whose states are the Glorot weights), and the draws are uncorrelated with those weights."""
    key = jax.random.PRNGKey(0)

    def read_weights(variant):
        layer = fcgan.init_devices((64, 256), key, fcgan_run.run_config(section(), ENERGY, variant, "gaussian", 0),
                                   dev)[0]
        read = dev.read_current(layer["gp"], layer["xi_p"]) - dev.read_current(layer["gm"], layer["xi_m"])
        return layer, np.asarray(read).ravel()

    layer, read = read_weights("insitu")
    _, nominal = read_weights("insitu_novar")
    error = np.abs(read - nominal) / np.abs(nominal).max()  # extreme draws (> 3 sigma) converge slower
    assert np.quantile(error, 0.999) < 1e-4 and error.max() < 1e-2
    for name in ("xi_p", "xi_m", "zeta_p", "zeta_m"):  # 16,640 pairs: |r| of independent draws ~ 0.008
        assert abs(np.corrcoef(np.asarray(layer[name]).ravel(), nominal)[0, 1]) < 0.05, name


def test_manhattan_moves_each_weight_against_its_gradient(dev):
    cfg = fcgan_run.run_config(section(), ENERGY, "insitu_novar", "gaussian", 0)
    layer = fcgan.init_devices((6, 5), jax.random.PRNGKey(4), cfg, dev)[0]
    grad = jax.random.normal(jax.random.PRNGKey(5), layer["gp"].shape).at[0, 0].set(0.0)
    new, counts, energy = fcgan.manhattan([layer], [grad], jax.random.PRNGKey(6), dev, cfg)
    dw = np.asarray(fcgan.device_weights(new[0], cfg, dev) - fcgan.device_weights(layer, cfg, dev))
    moved = np.asarray(grad) != 0
    assert np.all(np.sign(dw[moved]) == -np.sign(np.asarray(grad)[moved]))
    assert dw[0, 0] == 0.0 and int(counts["set"]) == moved.sum()
    expected = sum(float(dev.pulse_energy_J(layer["gp"], "set")[i, j] + dev.pulse_energy_J(layer["gm"], "reset")[i, j])
                   if grad[i, j] < 0 else
                   float(dev.pulse_energy_J(layer["gp"], "reset")[i, j] + dev.pulse_energy_J(layer["gm"], "set")[i, j])
                   for i, j in zip(*np.nonzero(moved)))
    assert float(energy) == pytest.approx(expected, rel=1e-5)


def test_noise_source_passes_and_the_tests_can_fail(dev):
    source = rram_noise.NoiseSource.build(dev, 16, 4, 256, 8, 1e-12, seed=0)
    z = np.asarray(source.sample(jax.random.PRNGKey(0), 5000))
    result = rram_noise.statistics(z)
    assert result["gaussian_pass"] and result["dim_corr_pass"] and result["lag1_corr_pass"]
    assert abs(result["std"] - 1.0) < 0.1
    shared = z + 0.3 * z[:, :1]  # a common component across dimensions
    assert not rram_noise.statistics(shared)["dim_corr_pass"]
    assert not rram_noise.statistics(np.cumsum(z, axis=0) * 0.1)["lag1_corr_pass"]  # correlated in time
    assert not rram_noise.statistics(np.abs(z))["gaussian_pass"]
    assert not rram_noise.statistics(np.asarray(jax.random.uniform(jax.random.PRNGKey(1), z.shape)))["gaussian_pass"]
    # a pair's read energy t_read V_read (I+ + I-) ~ t_read V_read^2 2 G at the window's centre (the device draws
    # average out over 16 pairs: sigma_A1 / A1 ~ 16 % / sqrt(32) ~ 3 %)
    centre = 0.5 * (dev.g_low_S + dev.g_high_S)
    by_hand = dev.read_time_s * dev.read_voltage_V ** 2 * 2 * centre
    assert np.mean(source.read_energy_J) == pytest.approx(by_hand, rel=0.1)


def test_tiny_training_resumes_to_the_same_history(dev, tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (32, 28, 28), dtype=np.uint8)
    cfg = fcgan_run.run_config(section(epochs=2), ENERGY, "insitu", "crossbar", 0)
    source = fcgan_run.noise_source(section(), ENERGY, dev, 0)
    fcgan_run.train(cfg, images, dev, source, tmp_path / "a", checkpoint_every=4)
    full = pd.read_csv(tmp_path / "a" / "history.csv")
    assert len(full) == 8 and (full["pulses"] > 0).all() and (full["program_energy_J"] > 0).all()
    assert (full["noise_energy_J"] > 0).all() and (tmp_path / "a" / "samples.png").is_file()
    short = fcgan_run.run_config(section(epochs=1), ENERGY, "insitu", "crossbar", 0)
    fcgan_run.train(short, images, dev, source, tmp_path / "b", checkpoint_every=4)
    fcgan_run.train(cfg, images, dev, source, tmp_path / "b", checkpoint_every=4)  # resumes at step 4
    resumed = pd.read_csv(tmp_path / "b" / "history.csv")
    np.testing.assert_allclose(resumed["d_loss"], full["d_loss"], rtol=1e-5)
