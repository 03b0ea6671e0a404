"""Domain-wall activation op: the device's measured transfer curve as a differentiable function.

The pre-activation x is mapped onto the device's normalised input current u = a x (a: per-layer
input scale, 1/(units of x); u = +-1 is the largest current of the sweep), the device output
is the piecewise-linear interpolation of the activation_transfer table at u, held at the end
values beyond the sweep, and the result is divided by a so that the op stays a drop-in for
ReLU / Leaky ReLU (y ~ x for small positive x). The division is a fixed gain in the periphery
(foldable into the next layer). Gradient: the slope of the table segment at u (zero beyond the
ends of the sweep).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from system.crossbar import fast_searchsorted

DEFAULT_INPUT_SCALE = 1.0 / 3.0  # a batch-normalised pre-activation spans +-3 sigma of the sweep


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


@partial(jax.custom_vjp, nondiff_argnums=(1, 2, 3))
def _dw(x, curve_x: tuple, curve_y: tuple, input_scale: float):
    return device_transfer(x * input_scale, np.array(curve_x), np.array(curve_y)) / input_scale


def _dw_fwd(x, curve_x, curve_y, input_scale):
    y, slope = _segments(x * input_scale, np.array(curve_x), np.array(curve_y))
    return _materialise(y / input_scale), slope


def _dw_bwd(curve_x, curve_y, input_scale, slope, g):
    return (g * slope,)  # d/dx [T(a x) / a] = T'(a x)


_dw.defvjp(_dw_fwd, _dw_bwd)


def dw_activation(
    x: jax.Array, curve_x: np.ndarray, curve_y: np.ndarray, input_scale: float = DEFAULT_INPUT_SCALE
) -> jax.Array:
    """DW ReLU / Leaky ReLU: device_transfer(a x) / a, a = input_scale; the table is constant."""
    as_tuple = lambda a: tuple(float(v) for v in np.asarray(a))  # noqa: E731 (hashable, static)
    return _dw(x, as_tuple(curve_x), as_tuple(curve_y), float(input_scale))
