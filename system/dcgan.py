"""DCGAN generator and discriminator as pure functions over parameter pytrees.

Architectures (latent 100, 4x4 kernels, stride 2, padding 1 unless noted):

- fashion_mnist (28x28x1). G: dense 100 -> 7*7*128, deconv 7 -> 14 (64 ch), deconv 14 -> 28
  (1 ch, tanh). D: conv 28 -> 14 (64 ch), conv 14 -> 7 (128 ch), dense 6272 -> 1.
- anime_faces (64x64x3), the standard DCGAN. G: deconv 1 -> 4 (512 ch, stride 1, padding 0),
  -> 8 (256) -> 16 (128) -> 32 (64) -> 64 (3, tanh). D: conv 64 -> 32 (64) -> 16 (128) -> 8
  (256) -> 4 (512), conv 4 -> 1 (1 ch, stride 1, padding 0).

Batch norm after every hidden layer except the discriminator's first (DCGAN practice): batch
statistics in training, running averages (momentum 0.1) for generation. ReLU in G, Leaky ReLU
(slope 0.2) in D. ``variant``:

- "float": everything in float (the baseline);
- "hardware": every dense, conv and deconv layer on the crossbar op (skyrmion synapses), every
  ReLU / Leaky ReLU on the domain-wall activation op. Input calibration (``Hardware``): a
  batch-normalised pre-activation is mapped with the input scale a = 1/3 per unit, so +-3 sigma
  spans the device's current sweep; the discriminator's first layer has no batch norm, so its
  gain is set from the batch: a = 1 / (3 rms), rms the root mean square of the layer's
  pre-activation over the batch (an automatic gain control in the periphery; without it the
  small pre-activations of that layer used 5 % of the sweep, where the measured Leaky ReLU is
  coarse). The DW ReLU's wall reaches its MTJ only past a threshold current theta (the
  transfer-table fit); a constant bias current theta puts that knee at x = 0, and the ReLU's
  scale is (1 - theta) / 3 so that +3 sigma still ends at the top of the sweep. Batch norm,
  biases, the generator's tanh and the discriminator's output logit (sigmoid in the loss) stay
  in CMOS. The DAC and ADC full scales of each crossbar layer are state beside the BN running
  stats (``system.crossbar``: running averages in training, frozen for generation);
- "hardware_synapses" / "hardware_activations": ablations that put only the weights on the
  crossbar (float activations) or only the activations on the DW op (float weights), to tell
  which device part costs how much image quality.

Shapes are per image, NHWC; weights: dense (in, out), conv (k, k, C_in, C_out), deconv
(k, k, C_out, C_in) (see ``system.deconv``).
"""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from system.activation import DEFAULT_INPUT_SCALE, batch_rms, dw_activation
from system.crossbar import (FULL_SCALE_KEYS, CrossbarConfig, conv, crossbar_apply, dense, normalised_levels,
                             uncalibrated)
from system.deconv import fast_deconv
from system.tables import DeviceTables

VARIANTS = ("float", "hardware", "hardware_synapses", "hardware_activations")
LEAK = 0.2  # slope of the float Leaky ReLU
BN_MOMENTUM = 0.1  # running stats: new = (1 - m) old + m batch
BN_EPS = 1e-5
INIT_STD = 0.02  # DCGAN initialisation


@dataclass(frozen=True)
class LayerSpec:
    """One layer: kind in {dense, conv, deconv}; shapes per image; activation in
    {relu, lrelu, tanh, none}."""

    name: str
    kind: str
    in_shape: tuple
    out_shape: tuple
    kernel: int = 0
    stride: int = 1
    padding: int = 0
    output_padding: int = 0
    batch_norm: bool = False
    activation: str = "none"

    @property
    def weight_shape(self) -> tuple:
        if self.kind == "dense":
            return (self.in_shape[-1], self.out_shape[-1])
        if self.kind == "conv":
            return (self.kernel, self.kernel, self.in_shape[-1], self.out_shape[-1])
        return (self.kernel, self.kernel, self.out_shape[-1], self.in_shape[-1])


@dataclass(frozen=True)
class Architecture:
    """A dataset's image shape, latent size and G / D layer stacks."""

    dataset: str
    image_shape: tuple
    latent_dim: int
    generator: tuple
    discriminator: tuple


def architecture(dataset: str, latent_dim: int = 100) -> Architecture:
    """Layer specs of G and D for ``dataset`` in {fashion_mnist, anime_faces}."""
    if dataset == "fashion_mnist":
        gen = (
            LayerSpec("g1", "dense", (latent_dim,), (7 * 7 * 128,), 0, 1, 0, 0, True, "relu"),
            LayerSpec("g2", "deconv", (7, 7, 128), (14, 14, 64), 4, 2, 1, 0, True, "relu"),
            LayerSpec("g3", "deconv", (14, 14, 64), (28, 28, 1), 4, 2, 1, 0, False, "tanh"),
        )
        disc = (
            LayerSpec("d1", "conv", (28, 28, 1), (14, 14, 64), 4, 2, 1, 0, False, "lrelu"),
            LayerSpec("d2", "conv", (14, 14, 64), (7, 7, 128), 4, 2, 1, 0, True, "lrelu"),
            LayerSpec("d3", "dense", (7 * 7 * 128,), (1,), 0, 1, 0, 0, False, "none"),
        )
        return Architecture(dataset, (28, 28, 1), latent_dim, gen, disc)
    if dataset == "anime_faces":
        gen = (
            LayerSpec("g1", "deconv", (1, 1, latent_dim), (4, 4, 512), 4, 1, 0, 0, True, "relu"),
            LayerSpec("g2", "deconv", (4, 4, 512), (8, 8, 256), 4, 2, 1, 0, True, "relu"),
            LayerSpec("g3", "deconv", (8, 8, 256), (16, 16, 128), 4, 2, 1, 0, True, "relu"),
            LayerSpec("g4", "deconv", (16, 16, 128), (32, 32, 64), 4, 2, 1, 0, True, "relu"),
            LayerSpec("g5", "deconv", (32, 32, 64), (64, 64, 3), 4, 2, 1, 0, False, "tanh"),
        )
        disc = (
            LayerSpec("d1", "conv", (64, 64, 3), (32, 32, 64), 4, 2, 1, 0, False, "lrelu"),
            LayerSpec("d2", "conv", (32, 32, 64), (16, 16, 128), 4, 2, 1, 0, True, "lrelu"),
            LayerSpec("d3", "conv", (16, 16, 128), (8, 8, 256), 4, 2, 1, 0, True, "lrelu"),
            LayerSpec("d4", "conv", (8, 8, 256), (4, 4, 512), 4, 2, 1, 0, True, "lrelu"),
            LayerSpec("d5", "conv", (4, 4, 512), (1, 1, 1), 4, 1, 0, 0, False, "none"),
        )
        return Architecture(dataset, (64, 64, 3), latent_dim, gen, disc)
    raise ValueError(f"unknown dataset {dataset!r}; expected fashion_mnist or anime_faces")


def hardware_parts(variant: str) -> tuple[bool, bool]:
    """(weights on the crossbar, ReLU / Leaky ReLU on the DW op) of ``variant``."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    return variant in ("hardware", "hardware_synapses"), variant in ("hardware", "hardware_activations")


def activation_device(spec: LayerSpec, variant: str) -> str:
    """Where the layer's nonlinearity runs."""
    if hardware_parts(variant)[1] and spec.activation in ("relu", "lrelu"):
        return {"relu": "DW ReLU", "lrelu": "DW Leaky ReLU"}[spec.activation]
    return {"none": "none (logit, sigmoid in the CMOS loss)", "tanh": "CMOS tanh"}.get(
        spec.activation, f"CMOS {spec.activation}"
    )


def describe_layers(arch: Architecture, variant: str) -> list[dict]:
    """One dict per layer of G then D: network, the LayerSpec fields, weight_shape,
    activation_device, and where the weights live (crossbar or CMOS)."""
    rows = []
    for network, layers in (("generator", arch.generator), ("discriminator", arch.discriminator)):
        for spec in layers:
            rows.append(
                {"network": network, **asdict(spec), "weight_shape": spec.weight_shape,
                 "weights": "crossbar" if hardware_parts(variant)[0] else "float",
                 "activation_device": activation_device(spec, variant)}
            )
    return rows


@dataclass(frozen=True)
class Hardware:
    """What the hardware variants need, as hashable constants: synapse levels (S), crossbar
    settings, the DW transfer curves (x, y), the activation input scale (normalised current per
    unit of a batch-normalised pre-activation, per rms of the others), the ReLU bias current
    (normalised; the device threshold), and which parts are on (weights on the crossbar,
    activations on the DW op; both in the "hardware" variant)."""

    levels_S: tuple
    crossbar: CrossbarConfig
    relu: tuple
    lrelu: tuple
    input_scale: float = DEFAULT_INPUT_SCALE
    synapses: bool = True
    activations: bool = True
    relu_bias: float = 0.0

    @property
    def levels(self) -> np.ndarray:
        """Normalised levels in [0, 1]."""
        return normalised_levels(np.array(self.levels_S))

    @classmethod
    def from_tables(cls, tables: DeviceTables, crossbar: CrossbarConfig, variant: str = "hardware") -> Hardware:
        synapses, activations = hardware_parts(variant)
        if not (synapses or activations):
            raise ValueError("the float variant has no hardware")
        on_synapse = crossbar.with_synapse(tables.levels_S, tables.levels_std_S, tables.wire_ohm_per_cell,
                                           tables.levels_thermal_std_S)
        return cls.from_dict({"levels_S": tables.levels_S, "crossbar": asdict(on_synapse),
                              "relu": (tables.relu_x, tables.relu_y),
                              "lrelu": (tables.lrelu_x, tables.lrelu_y),
                              "input_scale": DEFAULT_INPUT_SCALE, "relu_bias": tables.relu_threshold,
                              "synapses": synapses, "activations": activations})

    def to_dict(self) -> dict:
        """JSON-ready form (stored with a trained run)."""
        return {**asdict(self), "crossbar": asdict(self.crossbar)}

    @classmethod
    def from_dict(cls, d: dict) -> Hardware:
        values = lambda a: tuple(float(v) for v in np.asarray(a))  # noqa: E731
        return cls(values(d["levels_S"]), CrossbarConfig(**d["crossbar"]),
                   tuple(values(a) for a in d["relu"]), tuple(values(a) for a in d["lrelu"]),
                   float(d["input_scale"]), bool(d.get("synapses", True)), bool(d.get("activations", True)),
                   float(d.get("relu_bias", 0.0)))


def layer_id(spec: LayerSpec) -> int:
    """Stable id of a layer (seeds its device variation and read noise)."""
    return zlib.crc32(spec.name.encode()) & 0x7FFFFFFF


def on_crossbar(hw: Hardware | None) -> bool:
    """Whether the weights are on the crossbar (and the layers have converters)."""
    return hw is not None and hw.synapses


def init(layers: tuple, key: jax.Array, hw: Hardware | None = None) -> tuple[dict, dict]:
    """DCGAN initialisation: w ~ N(0, 0.02), BN gamma ~ N(1, 0.02); returns (params, state).

    state: per layer the BN running stats (mean, var) and, with the weights on the crossbar
    (``hw``), the DAC / ADC full scales (``system.crossbar.uncalibrated``).
    """
    params, state = {}, {}
    for spec, k in zip(layers, jax.random.split(key, len(layers))):
        kw, kg = jax.random.split(k)
        p = {"w": INIT_STD * jax.random.normal(kw, spec.weight_shape)}
        s = uncalibrated() if on_crossbar(hw) else {}
        channels = spec.out_shape[-1]
        if spec.batch_norm:
            p["gamma"] = 1.0 + INIT_STD * jax.random.normal(kg, (channels,))
            p["beta"] = jnp.zeros(channels)
            s.update(mean=jnp.zeros(channels), var=jnp.ones(channels))
        else:
            p["b"] = jnp.zeros(channels)
        params[spec.name] = p
        if s:
            state[spec.name] = s
    return params, state


def linear_op(spec: LayerSpec):
    """The layer's weighted sum (x, w) -> y as the crossbar runs it (bilinear): dense, convolution,
    or deconvolution as a zero-padded convolution (``system.deconv``)."""
    if spec.kind == "dense":
        return dense
    if spec.kind == "conv":
        return partial(conv, stride=spec.stride, padding=((spec.padding, spec.padding),) * 2)
    return partial(fast_deconv, stride=spec.stride, padding=spec.padding, output_padding=spec.output_padding)


def out_axis(spec: LayerSpec) -> int:
    """The output-channel (column) axis of the layer's weight."""
    return 2 if spec.kind == "deconv" else -1


def _linear(spec: LayerSpec, w, x, hw: Hardware | None, key, state: dict, train: bool):
    """The layer's weighted sum, in float or on the crossbar; returns (y, converter state)."""
    if not on_crossbar(hw):
        return linear_op(spec)(x, w), {}
    full_scale = {k: state[k] for k in FULL_SCALE_KEYS}
    return crossbar_apply(linear_op(spec), x, w, hw.levels, hw.crossbar, layer_id(spec), key, out_axis(spec),
                          full_scale=full_scale, train=train)


def batch_norm(x, p: dict, s: dict, train: bool):
    """Per-channel batch norm (CMOS); returns (y, new running stats)."""
    axes = tuple(range(x.ndim - 1))
    if train:
        mean, var = jnp.mean(x, axes), jnp.var(x, axes)
        s = {k: (1 - BN_MOMENTUM) * s[k] + BN_MOMENTUM * jax.lax.stop_gradient(v)
             for k, v in (("mean", mean), ("var", var))}
    else:
        mean, var = s["mean"], s["var"]
    return p["gamma"] * (x - mean) * jax.lax.rsqrt(var + BN_EPS) + p["beta"], s


def _activation(spec: LayerSpec, x, hw: Hardware | None):
    kind = spec.activation
    if kind in ("relu", "lrelu") and hw is not None and hw.activations:
        curve, bias = (hw.relu, hw.relu_bias) if kind == "relu" else (hw.lrelu, 0.0)
        scale = (1.0 - bias) * hw.input_scale / (1.0 if spec.batch_norm else batch_rms(x))
        return dw_activation(x, *curve, scale, bias)
    if kind == "relu":
        return jax.nn.relu(x)
    if kind == "lrelu":
        return jax.nn.leaky_relu(x, LEAK)
    if kind == "tanh":
        return jnp.tanh(x)
    return x


def apply(layers: tuple, params: dict, state: dict, x, *, hw: Hardware | None = None,
          train: bool = True, key: jax.Array | None = None, trace: dict | None = None):
    """Run a layer stack on a batch; returns (output, new state): BN running stats and, with the
    weights on the crossbar, the converter full scales this pass used (``init``).

    hw: None for the float variant (float parts of the others: see ``Hardware``); ``key``: read-noise
    key (hardware with read noise only). ``trace`` (for ``system.energy``): {layer: array shaped
    like the layer's weighted sum}, added to it (zeros: the gradient of a loss with respect to
    it is the error vector at the layer's output); with it, returns (output, new state, inputs),
    inputs[layer] the batch of input vectors the layer was applied to.
    """
    new_state, inputs = {}, {}
    for spec in layers:
        p, s = params[spec.name], state.get(spec.name, {})
        inputs[spec.name] = x = x.reshape((x.shape[0],) + spec.in_shape)
        x, converters = _linear(spec, p["w"], x, hw, key, s, train)
        if trace is not None:
            x = x + trace[spec.name]
        if spec.batch_norm:
            x, bn = batch_norm(x, p, s, train)
        else:
            x, bn = x + p["b"], {}
        if bn or converters:
            new_state[spec.name] = {**bn, **converters}
        x = _activation(spec, x, hw)
    return (x, new_state) if trace is None else (x, new_state, inputs)


def generator(arch: Architecture, params, state, z, **kw):
    """Images in [-1, 1], NHWC, from latents z (N, latent_dim)."""
    return apply(arch.generator, params, state, z, **kw)


def discriminator(arch: Architecture, params, state, images, **kw):
    """Logits (N,) of "real" for images NHWC in [-1, 1]."""
    logits, new_state = apply(arch.discriminator, params, state, images, **kw)
    return logits.reshape(images.shape[0]), new_state
