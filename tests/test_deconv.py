"""Transposed convolution as zero-padded convolution: values, gradients and zero counts."""

import itertools
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from system.crossbar import CrossbarConfig, conv, crossbar_apply, normalised_levels, snap_weights
from system.deconv import (
    conv_zero_counts,
    deconv_padding,
    deconv_zero_counts,
    fast_deconv,
    insert_zeros,
    zero_padded_deconv,
    zero_padded_input,
)

# strides 1, 2; kernels 3, 4, 5; paddings 0, 1, 2 (DCGANs use k4 s1 p0, k4 s2 p1, k5 s2 p2 with
# output padding 1, k3 s2 p1 with output padding 1); output padding 0 and stride - 1
CASES = [
    (s, k, p, q)
    for s, k, p in itertools.product((1, 2), (3, 4, 5), (0, 1, 2))
    for q in sorted({0, s - 1})
]


def lax_reference(x, w, s, k, p, q):
    pad = deconv_padding(k, p, q)
    return jax.lax.conv_transpose(x, w, (s, s), (pad, pad), dimension_numbers=("NHWC", "HWIO", "NHWC"),
                                  transpose_kernel=True)


def inputs(k, seed=0):
    rng = np.random.default_rng(seed)
    x = jnp.asarray(rng.normal(size=(2, 5, 4, 3)), jnp.float32)
    w = jnp.asarray(rng.normal(size=(k, k, 6, 3)) / k, jnp.float32)  # (k, k, C_out, C_in)
    return x, w


@pytest.mark.parametrize("s,k,p,q", CASES)
def test_zero_padded_deconv_equals_conv_transpose(s, k, p, q):
    x, w = inputs(k)
    ref = lax_reference(x, w, s, k, p, q)
    assert ref.shape == (2, (5 - 1) * s - 2 * p + k + q, (4 - 1) * s - 2 * p + k + q, 6)
    np.testing.assert_allclose(zero_padded_deconv(x, w, s, p, q), ref, atol=1e-5, rtol=0)
    np.testing.assert_allclose(fast_deconv(x, w, s, p, q), ref, atol=1e-5, rtol=0)


@pytest.mark.parametrize("s,k,p,q", [(2, 4, 1, 0), (1, 4, 0, 0), (2, 5, 2, 1), (2, 3, 1, 1)])
def test_fast_path_gradients_equal_explicit_form(s, k, p, q):
    x, w = inputs(k, seed=1)
    cotangent = jnp.asarray(np.random.default_rng(2).normal(size=lax_reference(x, w, s, k, p, q).shape))

    def grads(f):
        return jax.grad(lambda x, w: jnp.sum(f(x, w, s, p, q) * cotangent), argnums=(0, 1))(x, w)

    for fast, explicit in zip(grads(fast_deconv), grads(zero_padded_deconv)):
        np.testing.assert_allclose(fast, explicit, atol=1e-5, rtol=0)


def test_insert_zeros_layout():
    x = jnp.arange(1.0, 5.0).reshape(1, 2, 2, 1)
    z = insert_zeros(x, 3)[0, ..., 0]
    np.testing.assert_array_equal(z, [[1, 0, 0, 2], [0, 0, 0, 0], [0, 0, 0, 0], [3, 0, 0, 4]])


def counts_by_marking(h, w, k, s, p, q):
    """Zero counts of the explicit input, by marking input pixels and inserted zeros."""
    ones = jnp.ones((1, h, w, 1))
    is_input = zero_padded_input(ones, k, s, p, q)[0, ..., 0]
    is_inner = zero_padded_input(jnp.ones((1, (h - 1) * s + 1, (w - 1) * s + 1, 1)), k, 1, p, q)[0, ..., 0]
    kinds = {"input": is_input, "inserted": is_inner - is_input, "padding": 1 - is_inner}
    taps = {name: float(conv(m[None, ..., None], jnp.ones((k, k, 1, 1))).sum()) for name, m in kinds.items()}
    return {name: int(m.sum()) for name, m in kinds.items()}, taps


@pytest.mark.parametrize("s,k,p,q", [(2, 4, 1, 0), (1, 4, 0, 0), (2, 5, 2, 1), (2, 3, 1, 1), (3, 4, 1, 2)])
def test_deconv_zero_counts(s, k, p, q):
    positions, taps = counts_by_marking(5, 4, k, s, p, q)
    c = deconv_zero_counts((5, 4), k, s, p, q)
    assert (c.input_pixels, c.inserted_zeros, c.padding_zeros) == (20, positions["inserted"], positions["padding"])
    assert c.positions == sum(positions.values())
    assert (c.taps_input, c.taps_inserted, c.taps_padding) == (taps["input"], taps["inserted"], taps["padding"])
    x, w = inputs(k)
    assert c.out_hw == lax_reference(x, w, s, k, p, q).shape[1:3]
    assert c.taps_input + c.taps_inserted + c.taps_padding == c.out_hw[0] * c.out_hw[1] * k * k


def test_deconv_zero_counts_fashion_mnist_layer():
    c = deconv_zero_counts((7, 7), 4, 2, 1)  # 7x7 -> 14x14, k4 s2 p1
    assert c.out_hw == (14, 14)
    assert (c.positions, c.input_pixels, c.inserted_zeros, c.padding_zeros) == (17 * 17, 49, 13 * 13 - 49, 17 * 17 - 13 * 13)
    # per axis an output sees 2 input pixels, the first and last output only 1: 12 * 2 + 2 = 26
    assert c.taps_input == 26 * 26


def test_conv_zero_counts():
    c = conv_zero_counts((28, 28), 4, 2, 1)
    assert c.out_hw == (14, 14) and c.inserted_zeros == 0 and c.padding_zeros == 30 * 30 - 28 * 28
    mask = jnp.pad(jnp.ones((1, 28, 28, 1)), ((0, 0), (1, 1), (1, 1), (0, 0)))
    taps_input = float(conv(mask, jnp.ones((4, 4, 1, 1)), 2).sum())
    assert c.taps_input == taps_input and c.taps_input + c.taps_padding == 14 * 14 * 16


def test_crossbar_deconv_is_deconv_of_realised_kernel():
    x, w = inputs(4)
    levels = normalised_levels(np.linspace(1.0, 2.0, 16) ** 2)
    y, _ = crossbar_apply(partial(fast_deconv, stride=2, padding=1), x, w, levels, CrossbarConfig(), 0, out_axis=2)
    np.testing.assert_allclose(y, zero_padded_deconv(x, snap_weights(w, levels, 1.0), 2, 1), atol=1e-5)
