"""Crossbar op: level snapping, STE, variation, read noise, DAC/ADC and their calibrated full scales, jit/vmap."""

import dataclasses
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from devices import crossbar as tile
from system.crossbar import (
    CrossbarConfig,
    calibrate_full_scale,
    least_error_full_scale,
    conv,
    crossbar_apply,
    dense,
    input_amplitude,
    ir_drop_gain,
    fast_searchsorted,
    level_indices,
    level_transitions,
    non_idealities,
    normalised_levels,
    quantise,
    sample_indices,
    snap_weights,
)

def crossbar_dense(x, w, levels, cfg, layer_id, key=None):
    """The dense crossbar layer of one uncalibrated training call (full scales from this batch)."""
    return crossbar_apply(dense, x, w, levels, cfg, layer_id, key)[0]


LEVELS_S = 1e-4 * (1.0 + np.linspace(0.0, 1.0, 8) ** 1.5)  # non-uniform, 8 levels
U = normalised_levels(LEVELS_S)
STD_S = 1e-6 * np.linspace(0.5, 2.0, 8)  # spread of each level (S), growing with G
READ = {"read_voltage_V": 0.1, "read_time_s": 1e-9, "temperature_K": 300.0}
E, K_B = 1.602176634e-19, 1.380649e-23  # C, J/K (2019 SI)


def tunnel_noise_density(g, v, temperature_K):
    """S_I = 2 e G V coth(e V / 2 k_B T) (A^2/Hz), and its limit 4 k_B T G at V = 0, written out here."""
    v = np.abs(np.asarray(v, float))
    with np.errstate(divide="ignore", invalid="ignore"):
        shot = 2 * E * g * v / np.tanh(E * v / (2 * K_B * temperature_K))
    return np.where(v > 0, shot, 4 * K_B * temperature_K * g)


def nearest_pair(w, scale):
    """Reference mapping, written out per weight: target G, nearest level, differential pair."""
    g = np.sort(LEVELS_S)
    plus, minus = np.zeros(w.shape, int), np.zeros(w.shape, int)
    for idx, value in np.ndenumerate(w):
        target = g[0] + min(abs(value) / scale, 1.0) * (g[-1] - g[0])
        k = int(np.argmin(np.abs(g - target)))
        if value > 0:
            plus[idx] = k
        elif value < 0:
            minus[idx] = k
    return plus, minus, scale * (g[plus] - g[minus]) / (g[-1] - g[0])


def test_config_from_config_and_validation():
    section = {"weight_scale": 0.5, "variation_scale": 0.1, "read_noise": False, "ir_drop": False,
               "thermal_noise": False, "dac_bits": 8, "adc_bits": 0}
    assert CrossbarConfig.from_config(section, seed=3) == CrossbarConfig(weight_scale=0.5, variation_scale=0.1,
                                                                         dac_bits=8, seed=3)
    noisy = CrossbarConfig.from_config({**section, "read_noise": True, "tile": READ}, seed=3).with_synapse(LEVELS_S)
    assert (noisy.g_min_S, noisy.g_range_S, noisy.temperature_K) == (1e-4, pytest.approx(1e-4), 300.0)
    with pytest.raises(ValueError, match="read_time_s"):
        CrossbarConfig.from_config({**section, "read_noise": True, "tile": {**READ, "read_time_s": 0.0}})
    without_levels = CrossbarConfig.from_config({**section, "read_noise": True, "tile": READ})
    with pytest.raises(ValueError, match="levels"):
        crossbar_dense(jnp.ones((1, 2)), jnp.ones((2, 2)), U, without_levels, 0, key=jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match="dac_bits"):
        CrossbarConfig(dac_bits=1)
    with pytest.raises(ValueError, match="adc_bits"):
        CrossbarConfig(adc_bits=1)
    with pytest.raises(ValueError, match="weight_scale"):
        CrossbarConfig(weight_scale=0.0)


def test_snapping_matches_nearest_level_differential_pair():
    w = np.random.default_rng(0).uniform(-0.6, 0.6, (40, 7)).astype(np.float32)
    w[0, :3] = [0.0, 0.5, -0.5]  # zero and the clipped ends (scale 0.5)
    plus, minus, realised = nearest_pair(w, 0.5)
    got_plus, got_minus = level_indices(jnp.asarray(w), U, 0.5)
    np.testing.assert_array_equal(got_plus, plus)
    np.testing.assert_array_equal(got_minus, minus)
    np.testing.assert_allclose(snap_weights(jnp.asarray(w), U, 0.5), realised, atol=1e-6)


def test_levels_are_reproduced_and_non_uniform():
    w = jnp.asarray(np.concatenate([U, -U]) * 0.3, jnp.float32)
    np.testing.assert_allclose(snap_weights(w, U, 0.3), w, atol=1e-7)
    assert np.ptp(np.diff(U)) > 0.01  # the test levels really are non-uniform


def test_uniform_64_level_table_equals_6bit_quantised_layer():
    """A uniform 64-level synapse, no noise: each weight's magnitude is rounded to one of 64 levels of
    [0, s] and its sign picks G+ or G-, i.e. the layer is a float layer with 6-bit magnitude quantisation."""
    rng = np.random.default_rng(3)
    x = jnp.asarray(rng.normal(size=(16, 32)), jnp.float32)
    w = rng.uniform(-0.6, 0.6, (32, 24)).astype(np.float32)  # some beyond s: clipped
    scale = 0.5
    levels = normalised_levels(1e-4 * (1.0 + np.arange(64) / 63))
    quantised = np.sign(w) * np.round(np.clip(np.abs(w) / scale, 0, 1) * 63) / 63 * scale
    y = crossbar_dense(x, jnp.asarray(w), levels, CrossbarConfig(weight_scale=scale), 0)
    np.testing.assert_allclose(y, np.asarray(x) @ quantised, rtol=1e-5, atol=1e-5)


def test_straight_through_gradient():
    x = jnp.asarray(np.random.default_rng(1).normal(size=(5, 6)), jnp.float32)
    w = jnp.asarray(np.random.default_rng(2).normal(size=(6, 3)) * 0.3, jnp.float32)
    cfg = CrossbarConfig()
    grad = jax.grad(lambda w: crossbar_dense(x, w, U, cfg, 0).sum())(w)
    np.testing.assert_allclose(grad, x.T @ jnp.ones((5, 3)), rtol=1e-6)
    y = crossbar_dense(x, w, U, cfg, 0)
    np.testing.assert_allclose(y, x @ snap_weights(w, U, 1.0), rtol=1e-6)


def test_variation_is_fixed_per_device():
    x = jnp.eye(6)
    w = jnp.full((6, 4), 0.25)
    cfg = CrossbarConfig(variation_scale=1.0, seed=7).with_synapse(LEVELS_S, STD_S)
    a, b = crossbar_dense(x, w, U, cfg, 3), crossbar_dense(x, w, U, cfg, 3)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, crossbar_dense(x, w, U, cfg, 4))  # another layer, other devices
    assert not np.allclose(a, crossbar_dense(x, w, U, dataclasses.replace(cfg, seed=8), 3))
    np.testing.assert_allclose(crossbar_dense(x, w, U, dataclasses.replace(cfg, variation_scale=0.0), 3),
                               snap_weights(w, U, 1.0), atol=1e-7)
    with pytest.raises(ValueError, match="spread of each of the 8 levels"):
        crossbar_dense(x, w, U, CrossbarConfig(variation_scale=1.0).with_synapse(LEVELS_S), 3)


@pytest.mark.parametrize("level", [0, 3, 7])
def test_variation_draws_reproduce_the_table_per_level(level):
    """10^5 pairs programmed to +level: G+ at level k, G- at level 0, each device at G_i + sigma_i xi; the realised
    weight s (G+ - G-) / (G_max - G_min) has the table's mean and the spread sqrt(sigma_k^2 + sigma_0^2) s / dG,
    within 3 %; scale 5 multiplies the spread by 5."""
    g = np.sort(LEVELS_S)
    w = jnp.full((1, 100_000), float(U[level]) * 0.5 if level else 0.0)
    for scale in (1.0, 5.0):
        cfg = CrossbarConfig(weight_scale=0.5, variation_scale=scale).with_synapse(LEVELS_S, STD_S)
        realised = np.asarray(crossbar_dense(jnp.ones((1, 1)), w, U, cfg, 0))[0]
        difference_S = realised / 0.5 * (g[-1] - g[0])  # G+ - G-
        spread = scale * np.hypot(STD_S[level], STD_S[0])
        assert np.mean(difference_S) == pytest.approx(g[level] - g[0], abs=0.03 * spread)
        assert np.std(difference_S) == pytest.approx(spread, rel=0.03)


def test_read_noise_matches_the_tunnel_junction_formula_per_column():
    read = {**READ, "read_voltage_V": 0.5}  # e V / 2 k_B T up to 9.7: shot noise dominates, unlike Johnson's
    cfg = CrossbarConfig(weight_scale=0.5, read_noise=True, **read).with_synapse(LEVELS_S)
    x_read = np.array([1.0, -0.5, 0.25, 0.0, 0.8, -1.0], np.float32)  # DAC full scale 1: V_i = 0.5 V x_i
    w = np.random.default_rng(5).uniform(-0.6, 0.6, (6, 5)).astype(np.float32)
    w[:, 0] = 0.0  # a column of devices all at G_min: Johnson and shot noise of G_min only
    reads = 20_000
    y = crossbar_dense(jnp.tile(jnp.asarray(x_read), (reads, 1)), jnp.asarray(w), U, cfg, 0,
                       key=jax.random.PRNGKey(0))
    plus, minus, realised = nearest_pair(w, 0.5)
    g = np.sort(LEVELS_S)
    v = 0.5 * x_read[:, None]
    variance_A2 = ((tunnel_noise_density(g[plus], v, 300.0) + tunnel_noise_density(g[minus], v, 300.0)).sum(0)
                   / (2 * 1e-9))
    expected = np.sqrt(variance_A2) * 0.5 * 1.0 / (0.5 * (g[-1] - g[0]))  # amperes -> units of y
    np.testing.assert_allclose(np.asarray(y).std(0), expected, rtol=0.03)
    np.testing.assert_allclose(np.asarray(y).mean(0), x_read @ realised, atol=3 * expected.max() / np.sqrt(reads))
    assert 0.002 < expected.min() < expected.max() < 0.05  # the noise is there, and small beside y ~ 0.1-1
    johnson_only = np.sqrt((4 * K_B * 300.0 * (g[plus] + g[minus])).sum(0) / 2e-9) * 0.5 / (0.5 * (g[-1] - g[0]))
    assert (expected > 1.5 * johnson_only).all()  # the voltage dependence is what the 3 % tests
    y2 = crossbar_dense(jnp.asarray(x_read[None]), jnp.asarray(w), U, cfg, 0, key=jax.random.PRNGKey(1))
    assert not np.allclose(y[:1], y2)  # fresh noise per read
    with pytest.raises(ValueError, match="key"):
        crossbar_dense(jnp.asarray(x_read[None]), jnp.asarray(w), U, cfg, 0)


def test_read_noise_of_conv_counts_every_cell_of_the_patch():
    """Zero inputs still add the cells' Johnson noise 4 k_B T G; the row at full scale adds shot noise."""
    cfg = CrossbarConfig(read_noise=True, **READ).with_synapse(LEVELS_S)
    x = jnp.zeros((1, 7, 7, 1)).at[0, 5, 5, 0].set(2.0)  # one pixel: DAC full scale 2, its row at 0.1 V
    w = jnp.zeros((3, 3, 1, 4000))  # every device at G_min
    y, _ = crossbar_apply(conv, x, w, U, cfg, 0, key=jax.random.PRNGKey(0))
    g_min, to_y = LEVELS_S[0], 1.0 * 2.0 / (0.1 * (LEVELS_S[-1] - LEVELS_S[0]))
    johnson = 2 * 9 * tunnel_noise_density(g_min, 0.0, 300.0)  # 9 rows of G+ and G- at 0 V
    assert abs(float(y[0, 0, 0].std()) / (np.sqrt(johnson / 2e-9) * to_y) - 1) < 0.05
    with_pixel = johnson + 2 * (tunnel_noise_density(g_min, 0.1, 300.0) - tunnel_noise_density(g_min, 0.0, 300.0))
    assert abs(float(y[0, 3, 3].std()) / (np.sqrt(with_pixel / 2e-9) * to_y) - 1) < 0.05


def test_thermal_noise_per_level_against_the_sum_over_cells():
    """Each cell adds N(0, sigma_k^2) of its level's read std: a column's spread is s sqrt(sum_i x_i^2 (sigma[k+]^2 +
    sigma[k-]^2)) / dG, within 3 % over 2 x 10^4 reads; read noise on top adds its variance."""
    thermal_S = 1e-6 * np.linspace(0.2, 1.5, 8)  # read std of each level (S)
    cfg = CrossbarConfig(weight_scale=0.5, thermal_noise=True).with_synapse(LEVELS_S, levels_thermal_std_S=thermal_S)
    x_read = np.array([1.0, -0.5, 0.25, 0.0, 0.8, -1.0], np.float32)
    w = np.random.default_rng(6).uniform(-0.6, 0.6, (6, 5)).astype(np.float32)
    x = jnp.tile(jnp.asarray(x_read), (20_000, 1))
    y = np.asarray(crossbar_dense(x, jnp.asarray(w), U, cfg, 0, key=jax.random.PRNGKey(0)))
    plus, minus, _ = nearest_pair(w, 0.5)
    g = np.sort(LEVELS_S)
    expected = 0.5 * np.sqrt((x_read[:, None] ** 2 * (thermal_S[plus] ** 2 + thermal_S[minus] ** 2)).sum(0)) / (
        g[-1] - g[0])
    np.testing.assert_allclose(y.std(0), expected, rtol=0.03)
    both = dataclasses.replace(cfg, read_noise=True, **READ)
    y_both = np.asarray(crossbar_dense(x, jnp.asarray(w), U, both, 0, key=jax.random.PRNGKey(0)))
    y_read = np.asarray(crossbar_dense(x, jnp.asarray(w), U, dataclasses.replace(both, thermal_noise=False), 0,
                                       key=jax.random.PRNGKey(1)))
    np.testing.assert_allclose(y_both.var(0), expected ** 2 + y_read.var(0), rtol=0.06)
    with pytest.raises(ValueError, match="read std of each of the 8 levels"):
        crossbar_dense(x[:1], jnp.asarray(w), U, CrossbarConfig(thermal_noise=True).with_synapse(LEVELS_S), 0,
                       key=jax.random.PRNGKey(0))


def test_ir_drop_gain_by_place_in_the_tile():
    """Weight (k, c) of a 6 x 3 dense layer on 4 x 4 tiles sits on row k mod 4 and device columns 2c, 2c + 1
    mod 4; it keeps the mean of their voltage fractions from the tile's nodal solution at G_max."""
    cfg = CrossbarConfig(ir_drop=True, tile_rows=4, tile_columns=4).with_synapse(LEVELS_S, wire_ohm=20.0)
    a = tile.attenuation(4, 4, LEVELS_S.max(), 20.0)
    w = jnp.full((6, 3), float(U[5]))
    expected = np.array([[U[5] * (a[k % 4, 2 * c % 4] + a[k % 4, (2 * c + 1) % 4]) / 2 for c in range(3)]
                         for k in range(6)])
    np.testing.assert_allclose(crossbar_dense(jnp.eye(6), w, U, cfg, 0), expected, rtol=1e-6)
    assert 0.9 < expected.min() / U[5] < 0.98  # r G = 20 ohm x 2e-4 S: a few per cent
    grad = jax.grad(lambda w: crossbar_dense(jnp.eye(6), w, U, cfg, 0).sum())(w)
    np.testing.assert_allclose(grad, 1.0)  # straight through
    conv_gain = ir_drop_gain((2, 2, 3, 5), 3, 4, 4, float(LEVELS_S.max()), 20.0)  # HWIO, rows over (h, w, i)
    assert conv_gain[1, 0, 2, 4] == pytest.approx((a[(6 + 2) % 4, 8 % 4] + a[(6 + 2) % 4, 9 % 4]) / 2, rel=1e-6)
    deconv_gain = ir_drop_gain((2, 2, 5, 3), 2, 4, 4, float(LEVELS_S.max()), 20.0)  # columns on axis 2
    assert deconv_gain[1, 0, 4, 2] == pytest.approx(conv_gain[1, 0, 2, 4], rel=1e-6)
    with pytest.raises(ValueError, match="wire"):
        crossbar_dense(jnp.eye(6), w, U, CrossbarConfig(ir_drop=True, tile_rows=4, tile_columns=4), 0)


def test_dac_adc_quantisation():
    x = jnp.linspace(-2.0, 2.0, 101)
    q = quantise(x, 3, 2.0)
    assert len(np.unique(q)) <= 2**3 - 1 and float(jnp.abs(q).max()) == 2.0
    assert float(jnp.abs(q - x).max()) <= 2.0 / 3 / 2 + 1e-6  # half a step (step = 2 / 3)
    np.testing.assert_allclose(np.asarray(quantise(x, 3, 1.0))[[0, -1]], [-1.0, 1.0])  # beyond full scale: saturated
    np.testing.assert_array_equal(quantise(x, 0, 1.0), x)  # 0 bits: ideal, no saturation either
    np.testing.assert_allclose(jax.grad(lambda x: quantise(x, 3, 1.0).sum())(x), 1.0)  # straight through
    cfg = CrossbarConfig(dac_bits=4, adc_bits=3)
    y = crossbar_dense(jnp.asarray(np.random.default_rng(0).normal(size=(8, 5))), jnp.full((5, 6), 0.5), U, cfg, 0)
    assert len(np.unique(np.asarray(y))) <= 7


def gaussian_quantiser_mse(full_scale: float, bits: int) -> float:
    """E[(Q(x) - x)^2] of the uniform symmetric quantiser for x ~ N(0, 1), integrated on a fine grid (numpy)."""
    x = np.linspace(-12.0, 12.0, 2_000_001)
    half = 2 ** (bits - 1) - 1
    step = full_scale / half
    q = np.clip(np.round(x / step), -half, half) * step
    return float(np.trapezoid((q - x) ** 2 * np.exp(-x ** 2 / 2) / np.sqrt(2 * np.pi), x))


@pytest.mark.parametrize("bits", [4, 8])
def test_least_error_full_scale_of_a_gaussian(bits):
    """Calibrated in training on 30 batches of 10^5 N(0, 1) values, the full scale's error is within 3 % of the
    least error of the quantiser on the normal distribution (a scan of full scales, integrated independently), and
    well below the error at the max |v|."""
    rng = np.random.default_rng(1)
    full_scale = jnp.zeros(())
    for _ in range(30):
        v = jnp.asarray(rng.standard_normal(10 ** 5), jnp.float32)
        full_scale = calibrate_full_scale(full_scale, v, True, bits)
    least = min(gaussian_quantiser_mse(a, bits) for a in np.linspace(1.0, 6.0, 501))
    assert gaussian_quantiser_mse(float(full_scale), bits) == pytest.approx(least, rel=0.03)
    assert gaussian_quantiser_mse(float(jnp.abs(v).max()), bits) > 1.2 * least
    assert float(least_error_full_scale(v, 0)) == float(jnp.abs(v).max())  # ideal converter: the max


def test_sample_indices_cover_every_channel():
    """The least-error search's subset of a (B, H, W, C) output takes every channel about equally often."""
    index = sample_indices(128 * 14 * 14 * 64)
    assert len(index) == 2 ** 14 and len(np.unique(index)) == 2 ** 14
    counts = np.bincount(index % 64, minlength=64)
    assert counts.min() > 0.9 * counts.mean() and counts.max() < 1.1 * counts.mean()
    np.testing.assert_array_equal(sample_indices(100), np.arange(100))


def test_full_scale_is_calibrated_in_training_and_frozen_in_eval():
    """Uncalibrated (0): the first batch's full scale (max |x| for an ideal converter); then the running average
    with momentum 0.1; in eval the stored value, so a larger input saturates at it. Quantising with the updated
    value."""
    assert float(calibrate_full_scale(jnp.zeros(()), jnp.asarray([-3.0, 1.0]), True)) == 3.0
    assert float(calibrate_full_scale(jnp.asarray(2.0), jnp.asarray([4.0]), True)) == pytest.approx(0.9 * 2 + 0.1 * 4)
    assert float(calibrate_full_scale(jnp.asarray(2.0), jnp.asarray([4.0]), False)) == 2.0
    v = jnp.asarray(np.random.default_rng(2).standard_normal(1000), jnp.float32)
    assert float(calibrate_full_scale(jnp.asarray(2.0), v, True, 4)) == pytest.approx(
        0.9 * 2 + 0.1 * float(least_error_full_scale(v, 4)))  # a quantiser: the running least-error full scale
    cfg = CrossbarConfig(weight_scale=1.0, dac_bits=3, adc_bits=3)  # levels 0, +-1/3, +-2/3, +-1 of full scale
    levels = normalised_levels(np.linspace(1e-4, 2e-4, 2))  # two levels: w = +-1 exactly
    w = jnp.asarray([[1.0]])
    x = jnp.asarray([[1 / 3], [1.0]])
    y, fs = crossbar_apply(dense, x, w, levels, cfg, 0)  # training, uncalibrated: full scales 1 (no error)
    assert float(fs["dac_full_scale"]) == 1.0 and float(fs["adc_full_scale"]) == 1.0
    np.testing.assert_allclose(y[:, 0], [1 / 3, 1.0], rtol=1e-6)
    big = jnp.asarray([[3.0], [0.1]])
    y_eval, fs_eval = crossbar_apply(dense, big, w, levels, cfg, 0, full_scale=fs, train=False)
    np.testing.assert_allclose(y_eval[:, 0], [1.0, 0.0])  # 3 clips at the frozen 1; 0.1 rounds to 0
    assert fs_eval is fs or all(float(fs_eval[k]) == float(fs[k]) for k in fs)
    y_train, fs_train = crossbar_apply(dense, big, w, levels, cfg, 0, full_scale=fs, train=True)
    assert float(fs_train["dac_full_scale"]) == pytest.approx(0.9 + 0.3)  # used at once: 3 clips at 1.2
    np.testing.assert_allclose(y_train[0, 0], float(fs_train["adc_full_scale"]), rtol=1e-6)
    np.testing.assert_allclose(input_amplitude(big, 3, jnp.asarray(1.0))[:, 0], [1.0, 0.0])
    np.testing.assert_allclose(input_amplitude(big, 0, jnp.asarray(2.0))[:, 0], [1.0, 0.05])  # ideal: clipped only


def test_conv_on_crossbar_equals_float_conv_with_realised_weights():
    rng = np.random.default_rng(3)
    x = jnp.asarray(rng.normal(size=(2, 6, 6, 3)), jnp.float32)
    w = jnp.asarray(rng.normal(size=(4, 4, 3, 5)) * 0.4, jnp.float32)
    pad = ((1, 1), (1, 1))
    y, _ = crossbar_apply(partial(conv, stride=2, padding=pad), x, w, U, CrossbarConfig(), 0)
    np.testing.assert_allclose(y, conv(x, snap_weights(w, U, 1.0), 2, pad), rtol=1e-5, atol=1e-6)


def test_jit_and_vmap():
    cfg = CrossbarConfig(read_noise=True, variation_scale=1.0, **READ).with_synapse(LEVELS_S, STD_S)
    xs = jnp.asarray(np.random.default_rng(4).normal(size=(3, 4, 5)), jnp.float32)
    w = jnp.full((5, 2), 0.3)
    keys = jax.random.split(jax.random.PRNGKey(0), 3)
    f = jax.jit(jax.vmap(lambda x, k: crossbar_dense(x, w, U, cfg, 1, key=k)))
    batched = f(xs, keys)
    for i in range(3):
        np.testing.assert_allclose(batched[i], crossbar_dense(xs[i], w, U, cfg, 1, key=keys[i]), atol=1e-6)


def test_level_transitions_count_pulses_per_device():
    old = jnp.asarray([U[3], U[1], -U[2], 0.0])
    new = jnp.asarray([U[5], U[1], U[1], -U[1]])
    # G+ 3 -> 5; nothing; G- 2 -> 0 and G+ 0 -> 1; G- 0 -> 1
    np.testing.assert_array_equal(level_transitions(old, new, U, 1.0), [2 + 1 + 1, 2])


@pytest.mark.parametrize("kind", ["uniform", "uneven", "very uneven", "single"])
@pytest.mark.parametrize("side", ["left", "right"])
def test_fast_searchsorted_matches_numpy(kind, side):
    rng = np.random.default_rng(5)
    a = {
        "uniform": np.linspace(-1.0, 1.0, 41),
        "uneven": np.cumsum(rng.uniform(0.2, 1.0, 30)),
        "very uneven": np.array([0.0, 1e-7, 1.0, 2.0]),  # needs the binary-search fallback
        "single": np.array([0.3]),  # the one midpoint of a two-level (1-bit) synapse
    }[kind].astype(np.float32).astype(np.float64)
    half_gap = np.diff(a).min() / 2 if len(a) > 1 else 0.1
    v = np.concatenate([rng.uniform(a[0] - 1, a[-1] + 1, 3000), a + half_gap, a, [a[0] - 5, a[-1] + 5]])
    v = v.astype(np.float32)
    got = jax.jit(lambda v: fast_searchsorted(a, v, side))(v)
    np.testing.assert_array_equal(got, np.searchsorted(a.astype(np.float32), v, side=side))


def test_non_idealities_name_their_sources_and_sizes():
    cfg = CrossbarConfig(variation_scale=2.0, read_noise=True, ir_drop=True, thermal_noise=True, tile_rows=4,
                         tile_columns=4, dac_bits=8, adc_bits=6, **READ).with_synapse(LEVELS_S, STD_S, 20.0,
                                                                                      1e-7 * np.ones(8))
    d = non_idealities(cfg)
    g = np.sort(LEVELS_S)
    assert d["variation"]["on"] and "synapse_levels" in d["variation"]["source"]
    assert d["variation"]["median_spread_over_range"] == pytest.approx(np.median(STD_S) / (g[-1] - g[0]))
    by_hand = np.sqrt(tunnel_noise_density(g[-1], 0.1, 300.0) / 2e-9) / 0.1 / (g[-1] - g[0])
    assert d["read_noise"]["cell_std_at_g_max_over_range"] == pytest.approx(float(by_hand), rel=1e-9)
    assert d["ir_drop"]["smallest_gain"] == pytest.approx(tile.attenuation(4, 4, g[-1], 20.0).min())
    assert "synapse_thermal" in d["thermal_noise"]["source"] and (d["dac_bits"], d["adc_bits"]) == (8, 6)
    assert "least_error_full_scale" in d["converter_full_scale"]
    assert not non_idealities(CrossbarConfig())["read_noise"]["on"]
