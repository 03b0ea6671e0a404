"""DCGAN architectures, float and hardware forward passes, layer descriptions."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from system.crossbar import CrossbarConfig
from system.dcgan import (
    Architecture,
    Hardware,
    LayerSpec,
    apply,
    architecture,
    batch_norm,
    describe_layers,
    discriminator,
    generator,
    init,
)
from system.tables import DeviceTables

TINY = Architecture(
    "fashion_mnist", (8, 8, 1), 4,
    (LayerSpec("g1", "dense", (4,), (2 * 2 * 8,), 0, 1, 0, 0, True, "relu"),
     LayerSpec("g2", "deconv", (2, 2, 8), (4, 4, 4), 4, 2, 1, 0, True, "relu"),
     LayerSpec("g3", "deconv", (4, 4, 4), (8, 8, 1), 4, 2, 1, 0, False, "tanh")),
    (LayerSpec("d1", "conv", (8, 8, 1), (4, 4, 4), 4, 2, 1, 0, False, "lrelu"),
     LayerSpec("d2", "conv", (4, 4, 4), (2, 2, 8), 4, 2, 1, 0, True, "lrelu"),
     LayerSpec("d3", "dense", (32,), (1,), 0, 1, 0, 0, False, "none")),
)


def fine_hardware(input_scale=0.05) -> Hardware:
    """Very fine uniform levels and exact ReLU / Leaky ReLU curves: close to float."""
    x = np.linspace(-1.0, 1.0, 41)
    tables = DeviceTables(np.linspace(1e-4, 2e-4, 4097), np.zeros(4097), x, np.maximum(x, 0), x,
                          np.where(x > 0, x, 0.2 * x),
                          5.0, {"relu": 1e-13, "lrelu": 1e-13}, {"potentiation": 1e-15, "depression": 1e-15}, {})
    hw = Hardware.from_tables(tables, CrossbarConfig(weight_scale=0.2))
    return Hardware.from_dict({**hw.to_dict(), "input_scale": input_scale})


@pytest.mark.parametrize("dataset,image", [("fashion_mnist", (28, 28, 1)), ("anime_faces", (64, 64, 3))])
@pytest.mark.parametrize("hw", [None, "hardware"])
def test_shapes(dataset, image, hw):
    arch = architecture(dataset)
    hw = fine_hardware() if hw else None
    assert arch.image_shape == image and arch.latent_dim == 100
    for layers in (arch.generator, arch.discriminator):  # consecutive layers fit
        for a, b in zip(layers[:-1], layers[1:]):
            assert np.prod(a.out_shape) == np.prod(b.in_shape)
    pg, sg = jax.eval_shape(lambda k: init(arch.generator, k, hw), jax.random.PRNGKey(0))
    pd, sd = jax.eval_shape(lambda k: init(arch.discriminator, k, hw), jax.random.PRNGKey(1))
    images, _ = jax.eval_shape(lambda p, s, z: generator(arch, p, s, z, hw=hw), pg, sg, jnp.zeros((2, 100)))
    assert images.shape == (2, *image)
    logits, _ = jax.eval_shape(lambda p, s, x: discriminator(arch, p, s, x, hw=hw), pd, sd, images)
    assert logits.shape == (2,)


def test_describe_layers():
    rows = describe_layers(architecture("fashion_mnist"), "hardware")
    assert [r["name"] for r in rows] == ["g1", "g2", "g3", "d1", "d2", "d3"]
    g2 = rows[1]
    assert (g2["kind"], g2["in_shape"], g2["out_shape"], g2["kernel"], g2["stride"], g2["padding"]) == (
        "deconv", (7, 7, 128), (14, 14, 64), 4, 2, 1)
    assert g2["weights"] == "crossbar" and g2["activation_device"] == "DW ReLU"
    assert rows[2]["activation_device"] == "CMOS tanh" and rows[3]["activation_device"] == "DW Leaky ReLU"
    assert rows[5]["activation_device"].startswith("none")
    assert all(r["activation_device"].startswith(("CMOS", "none")) for r in describe_layers(architecture("anime_faces"), "float"))
    with pytest.raises(ValueError, match="unknown dataset"):
        architecture("mnist")


def test_hardware_with_fine_levels_approaches_float():
    hw = fine_hardware()
    pg, sg = init(TINY.generator, jax.random.PRNGKey(0), hw)
    pd, sd = init(TINY.discriminator, jax.random.PRNGKey(1), hw)
    z = jax.random.normal(jax.random.PRNGKey(2), (6, 4))
    coarse = Hardware.from_dict({**hw.to_dict(), "levels_S": np.linspace(1e-4, 2e-4, 4).tolist()})

    @jax.jit
    def outputs(pg, pd, z):
        fake, _ = generator(TINY, pg, sg, z)
        return (fake, generator(TINY, pg, sg, z, hw=hw)[0], generator(TINY, pg, sg, z, hw=coarse)[0],
                discriminator(TINY, pd, sd, fake)[0], discriminator(TINY, pd, sd, fake, hw=hw)[0])

    fake_f, fake_h, fake_coarse, logit_f, logit_h = outputs(pg, pd, z)
    np.testing.assert_allclose(fake_h, fake_f, atol=2e-3)
    np.testing.assert_allclose(logit_h, logit_f, atol=2e-3)
    assert not np.allclose(fake_coarse, fake_f, atol=2e-3)


def test_converter_full_scales_are_state_calibrated_in_training_and_frozen_in_eval():
    hw = Hardware.from_dict({**fine_hardware().to_dict(), "crossbar": {**fine_hardware().to_dict()["crossbar"],
                                                                      "dac_bits": 6, "adc_bits": 6}})
    pg, sg = init(TINY.generator, jax.random.PRNGKey(0), hw)
    assert all(float(sg[s.name]["dac_full_scale"]) == 0 == float(sg[s.name]["adc_full_scale"]) for s in TINY.generator)
    assert "g3" not in init(TINY.generator, jax.random.PRNGKey(0))[1]  # float: BN stats only
    z = jax.random.normal(jax.random.PRNGKey(2), (6, 4))
    _, trained = generator(TINY, pg, sg, z, hw=hw)
    assert float(trained["g1"]["dac_full_scale"]) == pytest.approx(float(jnp.abs(z).max()), rel=1e-6)  # first batch
    assert all(float(trained[s.name]["adc_full_scale"]) > 0 for s in TINY.generator)
    _, frozen = generator(TINY, pg, trained, 3 * z, hw=hw, train=False)
    for name in trained:
        for key in ("dac_full_scale", "adc_full_scale", "mean"):
            if key in trained[name]:
                np.testing.assert_array_equal(frozen[name][key], trained[name][key])
    _, again = generator(TINY, pg, trained, 3 * z, hw=hw)  # training: running average, momentum 0.1
    expected = 0.9 * float(jnp.abs(z).max()) + 0.1 * float(jnp.abs(3 * z).max())
    assert float(again["g1"]["dac_full_scale"]) == pytest.approx(expected, rel=1e-5)


def test_batch_norm_running_stats_and_eval_mode():
    x = jnp.asarray(np.random.default_rng(0).normal(3.0, 2.0, (64, 5)), jnp.float32)
    p = {"gamma": jnp.ones(5), "beta": jnp.zeros(5)}
    s = {"mean": jnp.zeros(5), "var": jnp.ones(5)}
    y, s1 = batch_norm(x, p, s, train=True)
    np.testing.assert_allclose(y.mean(0), 0.0, atol=1e-5)
    np.testing.assert_allclose(s1["mean"], 0.1 * x.mean(0), rtol=1e-5)
    y_eval, s2 = batch_norm(x, p, s1, train=False)
    assert s2 is s1 and not np.allclose(y_eval, y)


def dw_only(curve_x, relu_y, lrelu_y, relu_bias=0.0) -> Hardware:
    """Float weights, DW activations with the given curves (hardware_activations)."""
    return Hardware((1e-4, 2e-4), CrossbarConfig(weight_scale=0.2), (tuple(curve_x), tuple(relu_y)),
                    (tuple(curve_x), tuple(lrelu_y)), synapses=False, relu_bias=relu_bias)


def identity_layer(n, batch_norm, activation):
    spec = LayerSpec("d1", "dense", (n,), (n,), 0, 1, 0, 0, batch_norm, activation)
    params = {"w": jnp.eye(n), **({"gamma": jnp.ones(n), "beta": jnp.zeros(n)} if batch_norm else {"b": jnp.zeros(n)})}
    return (spec,), {"d1": params}, ({"d1": {"mean": jnp.zeros(n), "var": jnp.ones(n)}} if batch_norm else {})


def test_layer_without_batch_norm_spans_the_sweep_at_3_rms():
    """Without batch norm the gain is 1 / (3 rms): a batch 100x smaller saturates at 3 rms of
    its own, not at 3 units (where it would stay on the central 1 % of the sweep)."""
    x_curve = np.linspace(-1.0, 1.0, 41)
    hw = dw_only(x_curve, np.maximum(x_curve, 0), np.where(x_curve > 0, x_curve, 0.2 * x_curve))
    layers, params, state = identity_layer(64, False, "lrelu")
    x = 0.01 * jnp.asarray(np.random.default_rng(0).standard_normal((32, 64)), jnp.float32)
    rms = float(jnp.sqrt(jnp.mean(x**2)))
    y, _ = apply(layers, params, state, x, hw=hw)
    inside = jnp.abs(x) < 3 * rms
    np.testing.assert_allclose(y[inside], jax.nn.leaky_relu(x, 0.2)[inside], atol=1e-6)
    np.testing.assert_allclose(y.max(), 3 * rms, rtol=1e-4)  # u = 1: the top of the sweep
    np.testing.assert_allclose(y.min(), -0.2 * 3 * rms, rtol=1e-4)
    g = jax.grad(lambda x: apply(layers, params, state, x, hw=hw)[0].sum())(x)
    np.testing.assert_allclose(g[inside], jnp.where(x > 0, 1.0, 0.2)[inside], atol=1e-5)  # no gradient via rms
    layers_bn, params_bn, state_bn = identity_layer(64, True, "lrelu")  # batch-normalised: +-3 units
    y_bn, _ = apply(layers_bn, params_bn, state_bn, x, hw=hw)
    assert 2.0 < float(y_bn.max()) <= 3.0 + 1e-5  # fixed scale 1/3: not held at 3 rms of the raw x


def test_relu_bias_puts_the_device_threshold_at_zero_input():
    """A device ReLU that conducts only past u = theta, biased by theta: the knee moves to x = 0
    and +3 units (batch-normalised input) reach the top of the sweep; unbiased, inputs below
    theta / a are cut off."""
    theta = 0.3
    x_curve = np.linspace(-1.0, 1.0, 101)
    relu_y = np.maximum(x_curve - theta, 0) / (1 - theta)
    layers, params, state = identity_layer(1, True, "relu")
    x = jnp.linspace(-3.5, 3.5, 71).reshape(-1, 1)
    x_bn = (x - x.mean()) / jnp.sqrt(x.var() + 1e-5)
    biased = apply(layers, params, state, x, hw=dw_only(x_curve, relu_y, x_curve, relu_bias=theta))[0]
    gain = 1 / (1 - theta) / ((1 - theta) / 3)  # output 1 at u = 1, divided by the scale a
    expected = jnp.clip(x_bn, 0, 3) * (1 - theta) / 3 * gain
    np.testing.assert_allclose(biased, expected, atol=1e-4)
    unbiased = apply(layers, params, state, x, hw=dw_only(x_curve, relu_y, x_curve))[0]
    assert float(unbiased[(x_bn > 0) & (x_bn < 0.85)].max()) == 0.0  # below theta / (1/3) = 0.9


def test_hardware_config_round_trip_and_hashable():
    hw = fine_hardware()
    again = Hardware.from_dict(hw.to_dict())
    assert again == hw and hash(again) == hash(hw)
    assert hw.levels[0] == 0.0 and hw.levels[-1] == 1.0


def test_ablation_variants_put_only_their_part_on_the_devices():
    """hardware_synapses: coarse levels change the output, a changed DW curve does not;
    hardware_activations the reverse, and with exact curves it is the float pass (4 levels unused)."""
    z = jax.random.normal(jax.random.PRNGKey(2), (6, 4))
    x = np.linspace(-1.0, 1.0, 41)
    tables = DeviceTables(np.linspace(1e-4, 2e-4, 4), np.full(4, 1e-7), x, 0.5 * np.maximum(x, 0) ** 2, x,
                          np.where(x > 0, x, 0.2 * x),
                          5.0, {"relu": 1e-13, "lrelu": 1e-13}, {"potentiation": 1e-15, "depression": 1e-15}, {})
    crossbar = CrossbarConfig(weight_scale=0.2)
    pg, sg = init(TINY.generator, jax.random.PRNGKey(0), Hardware.from_tables(tables, crossbar))
    fake = {v: generator(TINY, pg, sg, z, hw=None if v == "float" else Hardware.from_tables(tables, crossbar, v))[0]
            for v in ("float", "hardware", "hardware_synapses", "hardware_activations")}
    for a, b in (("hardware_synapses", "float"), ("hardware_activations", "float"), ("hardware", "hardware_synapses"),
                 ("hardware", "hardware_activations")):
        assert not np.allclose(fake[a], fake[b], atol=1e-3), (a, b)
    exact = dataclasses.replace(tables, relu_y=np.maximum(x, 0))
    exact_dw = Hardware.from_dict({**Hardware.from_tables(exact, crossbar, "hardware_activations").to_dict(),
                                   "input_scale": 0.05})  # exact curves, no saturation: float despite 4 levels
    np.testing.assert_allclose(generator(TINY, pg, sg, z, hw=exact_dw)[0], fake["float"], atol=1e-5)
    rows = {v: describe_layers(architecture("fashion_mnist"), v)[1] for v in ("hardware_synapses", "hardware_activations")}
    assert (rows["hardware_synapses"]["weights"], rows["hardware_synapses"]["activation_device"]) == ("crossbar", "CMOS relu")
    assert (rows["hardware_activations"]["weights"], rows["hardware_activations"]["activation_device"]) == ("float", "DW ReLU")
    with pytest.raises(ValueError, match="variant must be one of"):
        describe_layers(architecture("fashion_mnist"), "analog")
    with pytest.raises(ValueError, match="no hardware"):
        Hardware.from_tables(tables, crossbar, "float")
