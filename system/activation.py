"""Domain-wall activation op: the device's measured transfer curve as a differentiable function.

The pre-activation x is mapped onto the device's normalised input current u = a x + b (a: per-layer
input scale, 1/(units of x); b: a constant bias current, in units of the largest current of the
sweep; u = +-1 is the largest current of the sweep), the device output is the piecewise-linear
interpolation of the activation_transfer table at u, held at the end values beyond the sweep,
and the result is divided by a so that the op stays a drop-in for ReLU / Leaky ReLU (y ~ x for
small positive x). The division is a gain in the periphery (foldable into the next layer).
Gradient: the slope of the table segment at u (zero beyond the ends of the sweep); none flows
into a (a gain set from batch statistics is a measurement, not a parameter).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from system.crossbar import fast_searchsorted

DEFAULT_INPUT_SCALE = 1.0 / 3.0  # a batch-normalised pre-activation spans +-3 sigma of the sweep


def batch_rms(x: jax.Array) -> jax.Array:
    """Root mean square of x over the whole batch (units of x), a constant for the gradient:
    the measurement that an automatic gain control makes."""
    return jax.lax.stop_gradient(jnp.sqrt(jnp.mean(jnp.square(x))) + 1e-12)


def _segments(u: jax.Array, curve_x: np.ndarray, curve_y: np.ndarray):
    """(transfer value, slope) at u for the constant table (curve_x increasing, curve_y).

    Segment i = #(curve_x <= u): 0 and n are the flat extensions beyond the sweep, where the
    line c + k u has k = 0 and c the end value.
    """
    xp, fp = np.asarray(curve_x, np.float64), np.asarray(curve_y, np.float64)
    slope = np.diff(fp) / np.diff(xp)
    k = np.concatenate([[0.0], slope, [0.0]])
    c = np.concatenate([[fp[0]], fp[:-1] - slope * xp[:-1], [fp[-1]]])
    i = fast_searchsorted(xp, u, side="right")
    c_i, k_i = (jnp.take(jnp.asarray(t, u.dtype), i, mode="clip") for t in (c, k))
    return c_i + k_i * u, k_i


def device_transfer(u: jax.Array, curve_x: np.ndarray, curve_y: np.ndarray) -> jax.Array:
    """Device output at normalised current u: ``jnp.interp(u, curve_x, curve_y)`` (to float
    rounding), with an O(1) segment search."""
    return _segments(u, curve_x, curve_y)[0]


def _materialise(a: jax.Array) -> jax.Array:
    """Identity (a gather of every element). XLA on CPU otherwise recomputes the interpolation
    inside the transposing fusions of the next layer's weight gradient, reading the looked-up
    tables with strided access: this made the hardware training step ~3x slower."""
    flat = a.reshape(-1)
    index = jnp.arange(flat.size)
    return jnp.take(flat, index, mode="clip", unique_indices=True, indices_are_sorted=True).reshape(a.shape)


@partial(jax.custom_vjp, nondiff_argnums=(2, 3, 4))
def _dw(x, input_scale, curve_x: tuple, curve_y: tuple, bias: float):
    return device_transfer(x * input_scale + bias, np.array(curve_x), np.array(curve_y)) / input_scale


def _dw_fwd(x, input_scale, curve_x, curve_y, bias):
    y, slope = _segments(x * input_scale + bias, np.array(curve_x), np.array(curve_y))
    return _materialise(y / input_scale), (slope, input_scale)


def _dw_bwd(curve_x, curve_y, bias, residuals, g):
    slope, input_scale = residuals
    return g * slope, jnp.zeros_like(input_scale)  # d/dx [T(a x + b) / a] = T'(a x + b)


_dw.defvjp(_dw_fwd, _dw_bwd)


def dw_activation(
    x: jax.Array, curve_x: np.ndarray, curve_y: np.ndarray, input_scale=DEFAULT_INPUT_SCALE, bias: float = 0.0
) -> jax.Array:
    """DW ReLU / Leaky ReLU: device_transfer(a x + b) / a, a = input_scale (a number or a traced
    scalar), b = bias (normalised current); the table is constant."""
    as_tuple = lambda a: tuple(float(v) for v in np.asarray(a))  # noqa: E731 (hashable, static)
    scale = jnp.asarray(input_scale, x.dtype)
    return _dw(x, scale, as_tuple(curve_x), as_tuple(curve_y), float(bias))
