"""DW activation op: table reproduction, interpolation, clipping, gradient, scale."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from system.activation import device_transfer, dw_activation

X_UNIFORM = np.linspace(-1.0, 1.0, 41)
X_UNEVEN = np.array([-1.0, -0.6, -0.45, -0.1, 0.0, 0.05, 0.3, 0.8, 1.0])


def lrelu_like(x):
    """A measured-looking Leaky ReLU: leak 0.2, slightly curved, 1 at the largest input."""
    return np.where(x > 0, x - 0.05 * x * (1 - x), 0.2 * x + 0.02 * x * (1 + x))


@pytest.mark.parametrize("xp", [X_UNIFORM, X_UNEVEN], ids=["uniform", "uneven"])
def test_reproduces_table_and_interpolates_monotonically(xp):
    fp = lrelu_like(xp)
    np.testing.assert_allclose(device_transfer(jnp.asarray(xp, jnp.float32), xp, fp), fp, atol=1e-6)
    u = np.linspace(-1.0, 1.0, 4001)
    y = np.asarray(device_transfer(jnp.asarray(u, jnp.float32), xp, fp))
    np.testing.assert_allclose(y, np.interp(u, xp, fp), atol=1e-6)
    for a, b, ya, yb in zip(xp[:-1], xp[1:], fp[:-1], fp[1:]):  # monotonic between sample points
        seg = y[(u >= a) & (u <= b)]
        assert np.all(np.diff(seg) * np.sign(yb - ya) >= -1e-6)
        assert seg.min() >= min(ya, yb) - 1e-6 and seg.max() <= max(ya, yb) + 1e-6


def test_clipped_beyond_the_sweep_with_zero_gradient():
    fp = lrelu_like(X_UNIFORM)
    u = jnp.asarray([-3.0, -1.0, 1.0, 2.5])
    np.testing.assert_allclose(device_transfer(u, X_UNIFORM, fp), [fp[0], fp[0], fp[-1], fp[-1]], atol=1e-6)
    grad = jax.grad(lambda x: dw_activation(x, X_UNIFORM, fp, 0.5).sum())(jnp.asarray([-10.0, 10.0]))
    np.testing.assert_array_equal(grad, [0.0, 0.0])


def test_input_scale_and_gradient_is_segment_slope():
    xp, fp = X_UNEVEN, lrelu_like(X_UNEVEN)
    a = 0.25
    x = jnp.asarray([-3.0, -0.3, 0.1, 1.0, 3.9])  # u = a x inside distinct segments
    np.testing.assert_allclose(dw_activation(x, xp, fp, a), np.interp(a * np.asarray(x), xp, fp) / a, rtol=1e-5)
    slopes = np.diff(fp) / np.diff(xp)
    seg = np.searchsorted(xp, a * np.asarray(x), side="right") - 1
    grad = jax.grad(lambda x: dw_activation(x, xp, fp, a).sum())(x)
    np.testing.assert_allclose(grad, slopes[seg], rtol=1e-5)


def test_bias_shifts_the_input_current_and_a_traced_scale_gets_no_gradient():
    xp, fp = X_UNEVEN, lrelu_like(X_UNEVEN)
    x, b = jnp.asarray([-3.0, -0.3, 0.1, 1.0, 2.5]), 0.3

    def f(x, a):
        return dw_activation(x, xp, fp, a, b)

    a = jnp.float32(0.25)
    np.testing.assert_allclose(f(x, a), np.interp(0.25 * np.asarray(x) + b, xp, fp) / 0.25, rtol=1e-5)
    slopes = np.diff(fp) / np.diff(xp)
    seg = np.searchsorted(xp, 0.25 * np.asarray(x) + b, side="right") - 1
    np.testing.assert_allclose(jax.grad(lambda x: f(x, a).sum())(x), slopes[seg], rtol=1e-5)
    assert float(jax.grad(lambda a: f(x, a).sum())(a)) == 0.0
    np.testing.assert_allclose(jax.jit(f)(x, a), f(x, a), rtol=1e-6)


def test_drop_in_for_relu_and_leaky_relu():
    x = jnp.linspace(-2.9, 2.9, 59)
    relu = dw_activation(x, X_UNIFORM, np.maximum(X_UNIFORM, 0.0))
    leaky = dw_activation(x, X_UNIFORM, np.where(X_UNIFORM > 0, X_UNIFORM, 0.2 * X_UNIFORM))
    np.testing.assert_allclose(relu, jax.nn.relu(x), atol=1e-5)
    np.testing.assert_allclose(leaky, jax.nn.leaky_relu(x, 0.2), atol=1e-5)


def test_jit_and_vmap():
    fp = lrelu_like(X_UNIFORM)
    xs = jnp.asarray(np.random.default_rng(0).normal(size=(4, 3, 5)), jnp.float32)
    f = jax.jit(jax.vmap(lambda x: dw_activation(x, X_UNIFORM, fp)))
    np.testing.assert_allclose(f(xs), dw_activation(xs, X_UNIFORM, fp), atol=1e-6)
    g = jax.jit(jax.vmap(jax.grad(lambda x: dw_activation(x, X_UNIFORM, fp).sum())))(xs)
    assert g.shape == xs.shape and np.all(np.isfinite(g))
