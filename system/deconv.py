"""Transposed convolution as a zero-padded ordinary convolution, so it runs on a crossbar.

For stride s, kernel k, padding p and output padding q (PyTorch ``ConvTranspose2d``
semantics, output size (H - 1) s - 2 p + k + q):

1. insert s - 1 zeros between neighbouring input pixels: H -> (H - 1) s + 1;
2. pad k - 1 - p zeros before and k - 1 - p + q after, per spatial axis;
3. convolve (stride 1) with the kernel flipped in space and with in/out channels swapped.

The deconvolution kernel ``w`` is given as (k, k, C_out, C_in): the HWIO kernel of the forward
convolution it transposes (``jax.lax.conv_transpose(..., transpose_kernel=True)`` convention).
``zero_padded_deconv`` writes the three steps out; ``fast_deconv`` (used by the network) lets
XLA do steps 1-2 through ``lhs_dilation`` and takes its gradients from the strided forward
convolution (tests show values and gradients equal to the explicit form); on the crossbar it is
``crossbar_apply`` with ``fast_deconv`` as the linear op and the kernel's axis 2 as the output
(column) axis. ``conv_zero_counts`` / ``deconv_zero_counts`` count the positions and kernel taps
(MACs per channel pair) that fall on input pixels, inserted zeros and padding zeros.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from system.crossbar import conv

INPUT, INSERTED, PADDING = 0, 1, 2


def deconv_padding(kernel: int, padding: int, output_padding: int = 0) -> tuple[int, int]:
    """Zeros added (before, after) each spatial axis of the zero-inserted input."""
    if not 0 <= padding <= kernel - 1:
        raise ValueError(f"padding must be in [0, kernel - 1], got {padding} for kernel {kernel}")
    return kernel - 1 - padding, kernel - 1 - padding + output_padding


def equivalent_kernel(w: jax.Array) -> jax.Array:
    """(k, k, C_out, C_in) deconvolution kernel -> (k, k, C_in, C_out) conv kernel, flipped."""
    return jnp.swapaxes(w[::-1, ::-1], 2, 3)


def insert_zeros(x: jax.Array, stride: int) -> jax.Array:
    """NHWC: stride - 1 zeros between neighbouring pixels, H -> (H - 1) stride + 1."""
    n, h, w, c = x.shape
    out = jnp.zeros((n, (h - 1) * stride + 1, (w - 1) * stride + 1, c), x.dtype)
    return out.at[:, ::stride, ::stride, :].set(x)


def zero_padded_input(x: jax.Array, kernel: int, stride: int, padding: int, output_padding: int = 0):
    """The explicit input of the equivalent convolution: zeros inserted, then padded."""
    pad = deconv_padding(kernel, padding, output_padding)
    return jnp.pad(insert_zeros(x, stride), ((0, 0), pad, pad, (0, 0)))


def zero_padded_deconv(x, w, stride: int, padding: int, output_padding: int = 0) -> jax.Array:
    """Transposed convolution written out: insert zeros, pad, convolve with the flipped kernel."""
    xp = zero_padded_input(x, w.shape[0], stride, padding, output_padding)
    return conv(xp, equivalent_kernel(w))


def forward_conv(y, w, stride: int, padding: int, output_padding: int = 0) -> jax.Array:
    """The strided convolution that the deconvolution transposes (its adjoint in y)."""
    pad = (padding, padding - output_padding)
    return conv(y, w, stride, (pad, pad))


@partial(jax.custom_vjp, nondiff_argnums=(2, 3, 4))
def fast_deconv(x, w, stride: int, padding: int, output_padding: int = 0) -> jax.Array:
    """Same as ``zero_padded_deconv``: zero insertion done by XLA (``lhs_dilation``), and
    gradients through the strided forward convolution (XLA's CPU kernel gradient of an
    lhs-dilated convolution is some 50x slower)."""
    pad = deconv_padding(w.shape[0], padding, output_padding)
    return conv(x, equivalent_kernel(w), padding=(pad, pad), lhs_dilation=stride)


def _fast_deconv_fwd(x, w, stride, padding, output_padding):
    return fast_deconv(x, w, stride, padding, output_padding), (x, w)


def _fast_deconv_bwd(stride, padding, output_padding, residuals, dy):
    x, w = residuals
    _, kernel_pullback = jax.vjp(lambda w: forward_conv(dy, w, stride, padding, output_padding), w)
    (dw,) = kernel_pullback(x)
    return forward_conv(dy, w, stride, padding, output_padding), dw


fast_deconv.defvjp(_fast_deconv_fwd, _fast_deconv_bwd)


@dataclass(frozen=True)
class ZeroCounts:
    """Per image and per (input channel, output channel) pair.

    positions: positions of the (zero-inserted, padded) input map = input_pixels +
        inserted_zeros + padding_zeros; taps_*: kernel taps summed over all output positions,
        by what they land on (their sum is out_h * out_w * k * k, the MACs per channel pair).
    """

    out_hw: tuple[int, int]
    positions: int
    input_pixels: int
    inserted_zeros: int
    padding_zeros: int
    taps_input: int
    taps_inserted: int
    taps_padding: int


def _axis_kinds(size: int, stride: int, pad: tuple[int, int]) -> np.ndarray:
    """What each position of one zero-inserted, padded axis holds (INPUT/INSERTED/PADDING)."""
    inner = np.full((size - 1) * stride + 1, INSERTED)
    inner[::stride] = INPUT
    return np.concatenate([np.full(pad[0], PADDING), inner, np.full(pad[1], PADDING)])


def _coverage(length: int, kernel: int, stride: int) -> np.ndarray:
    """How many output windows (size kernel, given stride) cover each position."""
    n_out = (length - kernel) // stride + 1
    cover = np.zeros(length, dtype=np.int64)
    for tap in range(kernel):
        cover[tap : tap + (n_out - 1) * stride + 1 : stride] += 1
    return cover


def _count(kh: np.ndarray, kw: np.ndarray, kernel: int, stride: int) -> ZeroCounts:
    kind = np.maximum.outer(kh, kw)  # padding wins over inserted, inserted over input
    taps = np.outer(_coverage(len(kh), kernel, stride), _coverage(len(kw), kernel, stride))
    out_hw = ((len(kh) - kernel) // stride + 1, (len(kw) - kernel) // stride + 1)
    return ZeroCounts(
        out_hw=out_hw,
        positions=int(kind.size),
        input_pixels=int((kind == INPUT).sum()),
        inserted_zeros=int((kind == INSERTED).sum()),
        padding_zeros=int((kind == PADDING).sum()),
        taps_input=int(taps[kind == INPUT].sum()),
        taps_inserted=int(taps[kind == INSERTED].sum()),
        taps_padding=int(taps[kind == PADDING].sum()),
    )


def deconv_zero_counts(in_hw, kernel: int, stride: int, padding: int, output_padding: int = 0):
    """ZeroCounts of a transposed convolution run as a zero-padded stride-1 convolution."""
    pad = deconv_padding(kernel, padding, output_padding)
    return _count(_axis_kinds(in_hw[0], stride, pad), _axis_kinds(in_hw[1], stride, pad), kernel, 1)


def conv_zero_counts(in_hw, kernel: int, stride: int, padding: int) -> ZeroCounts:
    """ZeroCounts of an ordinary (strided, zero-padded) convolution."""
    pad = (padding, padding)
    return _count(_axis_kinds(in_hw[0], 1, pad), _axis_kinds(in_hw[1], 1, pad), kernel, stride)
