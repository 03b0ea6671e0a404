"""FID Inception-v3 feature extractor in JAX (the pt_inception-2015-12-05 network of pytorch-fid).

The architecture is torchvision's Inception-v3 patched as in pytorch-fid (FIDInceptionA/C/E_1/E_2:
average pools exclude the padding, and Mixed_7c pools with a max); features are the 2048-d global
average pool. Inputs are resized to 299x299 bilinearly (torch's align_corners=False, no antialias)
and lie in [-1, 1]; grayscale is repeated to 3 channels. The weights are the torch state dict
`pt_inception-2015-12-05-6726825d.pth`, read from a configured path or the torch hub cache, never
downloaded. Each BasicConv2d (conv without bias, BatchNorm eps 0.001, ReLU) is folded into one conv.
"""

from pathlib import Path
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from system.metrics import batched

WEIGHTS_FILE = "pt_inception-2015-12-05-6726825d.pth"
WEIGHTS_URL = f"https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/{WEIGHTS_FILE}"
INPUT_SIZE = 299
FEATURE_DIM = 2048
BN_EPS = 1e-3


class Conv(NamedTuple):
    """A BasicConv2d: channels in and out, kernel (kh, kw), stride, padding (ph, pw)."""

    cin: int
    cout: int
    kernel: tuple[int, int]
    stride: int = 1
    padding: tuple[int, int] = (0, 0)


def _block_a(cin: int, pool_features: int) -> dict[str, Conv]:
    return {
        "branch1x1": Conv(cin, 64, (1, 1)),
        "branch5x5_1": Conv(cin, 48, (1, 1)),
        "branch5x5_2": Conv(48, 64, (5, 5), 1, (2, 2)),
        "branch3x3dbl_1": Conv(cin, 64, (1, 1)),
        "branch3x3dbl_2": Conv(64, 96, (3, 3), 1, (1, 1)),
        "branch3x3dbl_3": Conv(96, 96, (3, 3), 1, (1, 1)),
        "branch_pool": Conv(cin, pool_features, (1, 1)),
    }


def _block_b(cin: int) -> dict[str, Conv]:
    return {
        "branch3x3": Conv(cin, 384, (3, 3), 2),
        "branch3x3dbl_1": Conv(cin, 64, (1, 1)),
        "branch3x3dbl_2": Conv(64, 96, (3, 3), 1, (1, 1)),
        "branch3x3dbl_3": Conv(96, 96, (3, 3), 2),
    }


def _block_c(cin: int, c7: int) -> dict[str, Conv]:
    return {
        "branch1x1": Conv(cin, 192, (1, 1)),
        "branch7x7_1": Conv(cin, c7, (1, 1)),
        "branch7x7_2": Conv(c7, c7, (1, 7), 1, (0, 3)),
        "branch7x7_3": Conv(c7, 192, (7, 1), 1, (3, 0)),
        "branch7x7dbl_1": Conv(cin, c7, (1, 1)),
        "branch7x7dbl_2": Conv(c7, c7, (7, 1), 1, (3, 0)),
        "branch7x7dbl_3": Conv(c7, c7, (1, 7), 1, (0, 3)),
        "branch7x7dbl_4": Conv(c7, c7, (7, 1), 1, (3, 0)),
        "branch7x7dbl_5": Conv(c7, 192, (1, 7), 1, (0, 3)),
        "branch_pool": Conv(cin, 192, (1, 1)),
    }


def _block_d(cin: int) -> dict[str, Conv]:
    return {
        "branch3x3_1": Conv(cin, 192, (1, 1)),
        "branch3x3_2": Conv(192, 320, (3, 3), 2),
        "branch7x7x3_1": Conv(cin, 192, (1, 1)),
        "branch7x7x3_2": Conv(192, 192, (1, 7), 1, (0, 3)),
        "branch7x7x3_3": Conv(192, 192, (7, 1), 1, (3, 0)),
        "branch7x7x3_4": Conv(192, 192, (3, 3), 2),
    }


def _block_e(cin: int) -> dict[str, Conv]:
    return {
        "branch1x1": Conv(cin, 320, (1, 1)),
        "branch3x3_1": Conv(cin, 384, (1, 1)),
        "branch3x3_2a": Conv(384, 384, (1, 3), 1, (0, 1)),
        "branch3x3_2b": Conv(384, 384, (3, 1), 1, (1, 0)),
        "branch3x3dbl_1": Conv(cin, 448, (1, 1)),
        "branch3x3dbl_2": Conv(448, 384, (3, 3), 1, (1, 1)),
        "branch3x3dbl_3a": Conv(384, 384, (1, 3), 1, (0, 1)),
        "branch3x3dbl_3b": Conv(384, 384, (3, 1), 1, (1, 0)),
        "branch_pool": Conv(cin, 192, (1, 1)),
    }


STEM = {
    "Conv2d_1a_3x3": Conv(3, 32, (3, 3), 2),
    "Conv2d_2a_3x3": Conv(32, 32, (3, 3)),
    "Conv2d_2b_3x3": Conv(32, 64, (3, 3), 1, (1, 1)),
    "Conv2d_3b_1x1": Conv(64, 80, (1, 1)),
    "Conv2d_4a_3x3": Conv(80, 192, (3, 3)),
}
# (module name, block kind, its convs) in forward order; kinds as in pytorch-fid.
MIXED = [
    ("Mixed_5b", "A", _block_a(192, 32)),
    ("Mixed_5c", "A", _block_a(256, 64)),
    ("Mixed_5d", "A", _block_a(288, 64)),
    ("Mixed_6a", "B", _block_b(288)),
    ("Mixed_6b", "C", _block_c(768, 128)),
    ("Mixed_6c", "C", _block_c(768, 160)),
    ("Mixed_6d", "C", _block_c(768, 160)),
    ("Mixed_6e", "C", _block_c(768, 192)),
    ("Mixed_7a", "D", _block_d(768)),
    ("Mixed_7b", "E_1", _block_e(1280)),
    ("Mixed_7c", "E_2", _block_e(2048)),
]
CONVS: dict[str, Conv] = {**STEM, **{f"{m}.{b}": c for m, _, convs in MIXED for b, c in convs.items()}}


def state_dict_shapes() -> dict[str, tuple[int, ...]]:
    """Expected state dict keys (conv and BatchNorm of every BasicConv2d) and their shapes."""
    shapes = {}
    for name, c in CONVS.items():
        shapes[f"{name}.conv.weight"] = (c.cout, c.cin, *c.kernel)
        for stat in ("weight", "bias", "running_mean", "running_var"):
            shapes[f"{name}.bn.{stat}"] = (c.cout,)
    return shapes


def params_from_state_dict(state_dict: dict) -> dict[str, dict[str, jax.Array]]:
    """Folded conv params {name: {w (kh, kw, cin, cout), b (cout,)}} from a torch state dict."""
    expected = state_dict_shapes()
    missing = [k for k in expected if k not in state_dict]
    wrong = [k for k in expected if k in state_dict and tuple(state_dict[k].shape) != expected[k]]
    if missing or wrong:
        raise ValueError(
            f"not an FID Inception state dict: {len(missing)} keys missing (e.g. {missing[:3]}), "
            f"{len(wrong)} with wrong shapes (e.g. {[(k, tuple(state_dict[k].shape)) for k in wrong[:3]]})"
        )
    params = {}
    for name in CONVS:
        get = lambda key: np.asarray(state_dict[f"{name}.{key}"], dtype=np.float64)  # noqa: E731
        scale = get("bn.weight") / np.sqrt(get("bn.running_var") + BN_EPS)
        weight = get("conv.weight") * scale[:, None, None, None]
        params[name] = {
            "w": jnp.asarray(weight.transpose(2, 3, 1, 0), dtype=jnp.float32),
            "b": jnp.asarray(get("bn.bias") - get("bn.running_mean") * scale, dtype=jnp.float32),
        }
    return params


def basic_conv(params: dict, name: str, x: jax.Array) -> jax.Array:
    """BasicConv2d `name` (conv, BatchNorm folded in, ReLU) on NHWC input."""
    c = CONVS[name]
    y = jax.lax.conv_general_dilated(
        x, params[name]["w"], (c.stride, c.stride), [(p, p) for p in c.padding],
        dimension_numbers=("NHWC", "HWIO", "NHWC"),
    )
    return jax.nn.relu(y + params[name]["b"])


def max_pool(x: jax.Array, stride: int, padding: int = 0) -> jax.Array:
    """3x3 max pool (torch F.max_pool2d, padding with -inf)."""
    pad = ((0, 0), (padding, padding), (padding, padding), (0, 0))
    return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 3, 3, 1), (1, stride, stride, 1), pad)


def avg_pool_same(x: jax.Array) -> jax.Array:
    """3x3 stride-1 average pool over the valid pixels only (count_include_pad=False, as TensorFlow)."""
    pad = ((0, 0), (1, 1), (1, 1), (0, 0))
    window = lambda v: jax.lax.reduce_window(v, 0.0, jax.lax.add, (1, 3, 3, 1), (1, 1, 1, 1), pad)  # noqa: E731
    return window(x) / window(jnp.ones((1, *x.shape[1:3], 1), x.dtype))


def mixed_block(params: dict, module: str, kind: str, x: jax.Array) -> jax.Array:
    """One Inception block (pytorch-fid's FIDInceptionA / B / C / D / E_1 / E_2), NHWC."""
    conv = lambda branch, v: basic_conv(params, f"{module}.{branch}", v)  # noqa: E731
    if kind == "A":
        b5 = conv("branch5x5_2", conv("branch5x5_1", x))
        b3 = conv("branch3x3dbl_3", conv("branch3x3dbl_2", conv("branch3x3dbl_1", x)))
        branches = [conv("branch1x1", x), b5, b3, conv("branch_pool", avg_pool_same(x))]
    elif kind == "B":
        b3 = conv("branch3x3dbl_3", conv("branch3x3dbl_2", conv("branch3x3dbl_1", x)))
        branches = [conv("branch3x3", x), b3, max_pool(x, 2)]
    elif kind == "C":
        b7 = conv("branch7x7_3", conv("branch7x7_2", conv("branch7x7_1", x)))
        b7d = conv("branch7x7dbl_1", x)
        for i in range(2, 6):
            b7d = conv(f"branch7x7dbl_{i}", b7d)
        branches = [conv("branch1x1", x), b7, b7d, conv("branch_pool", avg_pool_same(x))]
    elif kind == "D":
        b3 = conv("branch3x3_2", conv("branch3x3_1", x))
        b7 = conv("branch7x7x3_4", conv("branch7x7x3_3", conv("branch7x7x3_2", conv("branch7x7x3_1", x))))
        branches = [b3, b7, max_pool(x, 2)]
    elif kind in ("E_1", "E_2"):
        b3 = conv("branch3x3_1", x)
        b3d = conv("branch3x3dbl_2", conv("branch3x3dbl_1", x))
        pooled = avg_pool_same(x) if kind == "E_1" else max_pool(x, 1, 1)
        branches = [
            conv("branch1x1", x),
            conv("branch3x3_2a", b3), conv("branch3x3_2b", b3),
            conv("branch3x3dbl_3a", b3d), conv("branch3x3dbl_3b", b3d),
            conv("branch_pool", pooled),
        ]
    else:
        raise ValueError(f"unknown Inception block kind {kind!r}")
    return jnp.concatenate(branches, axis=-1)


def inception_features(params: dict, x: jax.Array) -> jax.Array:
    """2048-d pool features of NHWC images already at 299x299x3 in [-1, 1]."""
    for name in ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3"):
        x = basic_conv(params, name, x)
    x = max_pool(x, 2)
    x = basic_conv(params, "Conv2d_4a_3x3", basic_conv(params, "Conv2d_3b_1x1", x))
    x = max_pool(x, 2)
    for module, kind, _ in MIXED:
        x = mixed_block(params, module, kind, x)
    return x.mean(axis=(1, 2))


def _resize_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) bilinear interpolation weights of torch's align_corners=False (no antialias)."""
    src = np.maximum((np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5, 0.0)
    lo = np.minimum(np.floor(src).astype(int), n_in - 1)
    hi = np.minimum(lo + 1, n_in - 1)
    frac = src - lo
    matrix = np.zeros((n_out, n_in))
    np.add.at(matrix, (np.arange(n_out), lo), 1.0 - frac)
    np.add.at(matrix, (np.arange(n_out), hi), frac)
    return matrix.astype(np.float32)


def resize_bilinear(x: jax.Array, size: int = INPUT_SIZE) -> jax.Array:
    """Resize NHWC images to size x size as torch F.interpolate(mode='bilinear', align_corners=False)."""
    rows, cols = _resize_matrix(x.shape[1], size), _resize_matrix(x.shape[2], size)
    return jnp.einsum("oh,nhwc,pw->nopc", rows, x, cols)


def _preprocess(images: jax.Array) -> jax.Array:
    """Float NHWC images in [-1, 1], 1 or 3 channels, to 299x299x3."""
    if images.shape[-1] == 1:
        images = jnp.repeat(images, 3, axis=-1)
    return resize_bilinear(images)


def weights_path(path: Path | None = None) -> Path:
    """The configured weights file, or the torch hub cache copy when none is configured; never downloads."""
    if path is not None:
        path = Path(path).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"FID Inception weights not found at {path} (configured path); get {WEIGHTS_URL}")
        return path
    import torch.hub

    cached = Path(torch.hub.get_dir()) / "checkpoints" / WEIGHTS_FILE
    if not cached.is_file():
        raise FileNotFoundError(
            f"FID Inception weights not found at {cached} (torch hub cache) and no path configured; "
            f"download {WEIGHTS_URL} yourself and set system.metrics.inception_weights"
        )
    return cached


def load_fid_inception(path: Path | None = None, batch_size: int = 50) -> Callable[[np.ndarray], np.ndarray]:
    """Feature function: float images (N, H, W, 1 or 3) in [-1, 1] -> (N, 2048) Inception pool features.

    Weights come from `path`, or from the torch hub cache when `path` is None (see weights_path).
    Images go through a jitted forward in batches of min(batch_size, N) (the last one padded).
    """
    import torch

    params = params_from_state_dict(torch.load(weights_path(path), map_location="cpu", weights_only=True))
    forward = jax.jit(lambda p, x: inception_features(p, _preprocess(x)))

    def feature_fn(images: np.ndarray) -> np.ndarray:
        images = np.asarray(images, dtype=np.float32)
        if images.ndim != 4 or images.shape[-1] not in (1, 3):
            raise ValueError(f"expected images (N, H, W, 1 or 3), got shape {images.shape}")
        return batched(forward, params, images, batch_size)

    return feature_fn
