"""Crossbar op: dense and convolution layers on differential pairs of skyrmion synapses.

A weight is stored as two devices, w = s (G+ - G-) / (G_max - G_min), with G+ and G- on the
synapse's (non-uniform) conductance levels: w > 0 programs G+ to the level nearest
G_min + |w|/s (G_max - G_min) and leaves G- at G_min; w < 0 the reverse (|w| > s takes the top
level). ``levels`` arguments are the constant normalised levels (``normalised_levels``). The
network keeps a float "shadow" weight; the forward pass uses the snapped one and the gradient
passes straight through (STE). Non-idealities, each off at 0 in ``CrossbarConfig``:

- device-to-device variation: a device programmed to level k has the conductance G_k + sigma_k xi,
  G_k and sigma_k the level's mean and spread in the synapse table (its ensemble of relaxed states),
  scaled by variation_scale (0: off, 1: the table's spread); xi ~ N(0, 1) is the device's own, drawn
  once from ``seed`` and the layer id (the same on every call and whatever level it holds);
- read noise: the tunnel junctions' current noise (``devices.mtj``: S_I = 4 k_B T G a coth a,
  a = e V / 2 k_B T, over the read's bandwidth 1 / (2 t_read)), independent per cell and read.
  One read applies one input vector, row i at V_i = V_read x_i / x_fs (the DAC's amplitude); the
  column current's variance is sum_i S_I(G_i+, V_i) + S_I(G_i-, V_i) times the bandwidth, with
  G+ + G- = 2 G_min + (G_max - G_min) |w| / s for the programmed pair; it is drawn once per output
  element (one Gaussian of exactly that variance, not one number per MAC) and converted to the
  output's units by y = I s x_fs / (V_read (G_max - G_min));
- thermal noise: the programmed states fluctuate at room temperature (table synapse_thermal, from
  stochastic LLG); a device at level k adds per read an independent N(0, sigma_k^2), sigma_k the
  level's std of the conductance averaged over a read; a column gets s^2 sum_i x_i^2 (sigma[k+]^2 +
  sigma[k-]^2) / (G_max - G_min)^2, drawn with the read noise as one Gaussian per output element;
- IR drop: the tile's line resistance lowers the voltage each cell sees (``devices.crossbar``); a static
  gain per device, the voltage it keeps with every cell of its tile at G_max and every row at full
  scale (the design rule's worst case, solved exactly once per tile size), at row (ravel index of the
  weight's other axes) mod tile_rows and device columns 2c, 2c + 1 mod tile_columns; a weight's gain
  is its pair's mean. Drops that depend on each read's inputs and the programmed states are not
  modelled (with them a read would need a circuit solve);
- DAC / ADC: uniform symmetric quantisers with 2^bits - 1 levels over +-full scale on the
  inputs / column outputs; values beyond full scale saturate; the gradient passes straight
  through (identity, saturated values included). Each layer's DAC and ADC have a full scale,
  a per-layer constant as a circuit has (``calibrate_full_scale``): in training the running
  average (momentum ``FULL_SCALE_MOMENTUM``, like batch norm's) of the batch's least-error full
  scale (``least_error_full_scale``: the one whose quantiser has the least mean squared error,
  rounding and saturation together, on the batch's inputs x or column outputs y), started at
  the first batch's, and frozen in evaluation. Training quantises with the value updated by the
  batch, so the forward pass uses the same constant as the stored state. With bits 0 a
  converter is ideal (no quantisation, no saturation) and its full scale is the running max
  |x|: the energy model (``system.energy``) codes input amplitudes with it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from devices import crossbar, mtj


@dataclass(frozen=True)
class CrossbarConfig:
    """Crossbar settings (config ``system.crossbar``; the read from the tile's section ``crossbar``; the
    synapse's levels from its table)."""

    weight_scale: float = 1.0
    variation_scale: float = 0.0  # device-to-device spread in units of the table's spread per level
    read_noise: bool = False      # tunnel-junction noise of every cell on every read
    ir_drop: bool = False         # static IR-drop gain of each device from its place in the tile
    thermal_noise: bool = False   # the programmed states' thermal fluctuation over a read (table synapse_thermal)
    dac_bits: int = 0
    adc_bits: int = 0
    seed: int = 0
    read_voltage_V: float = 0.0   # full-scale row voltage (V)
    read_time_s: float = 0.0      # duration of one read (s)
    temperature_K: float = 0.0    # of the tile (K)
    tile_rows: int = 0            # cells on a bit line
    tile_columns: int = 0         # device columns (two per weight)
    g_min_S: float = 0.0          # the synapse's lowest level (S)
    g_range_S: float = 0.0        # G_max - G_min (S)
    level_spread: tuple = ()      # the table's spread of each level (sorted by G) over G_max - G_min (1)
    level_thermal_std: tuple = () # each level's thermal std over a read (sorted by G) over G_max - G_min (1)
    wire_ohm: float = 0.0         # line resistance of one cell pitch (ohm)

    def __post_init__(self):
        for name in ("dac_bits", "adc_bits"):
            bits = getattr(self, name)
            if bits != 0 and bits < 2:
                raise ValueError(f"{name} must be 0 (off) or >= 2, got {bits}")
        if self.weight_scale <= 0:
            raise ValueError(f"weight_scale must be > 0, got {self.weight_scale}")
        if self.variation_scale < 0:
            raise ValueError(f"variation_scale must be >= 0, got {self.variation_scale}")
        for name in ("level_spread", "level_thermal_std"):  # hashable, also from a JSON list
            object.__setattr__(self, name, tuple(float(v) for v in getattr(self, name)))
        if self.read_noise:
            for name in ("read_voltage_V", "read_time_s", "temperature_K"):
                if not getattr(self, name) > 0:
                    raise ValueError(f"read noise is on but {name} is {getattr(self, name)}, must be > 0")
        if self.ir_drop:
            for name in ("tile_rows", "tile_columns"):
                if not getattr(self, name) > 0:
                    raise ValueError(f"IR drop is on but {name} is {getattr(self, name)}, must be > 0")

    @classmethod
    def from_config(cls, crossbar: dict, seed: int = 0) -> CrossbarConfig:
        """Build from the ``system.crossbar`` mapping, which holds under ``tile`` the tile's read_voltage_V,
        read_time_s, temperature_K, tile_rows and tile_columns when read noise or IR drop is on; ``seed`` fixes the
        device variation. The synapse's figures come with ``with_synapse``."""
        tile = crossbar.get("tile") or {}
        return cls(
            weight_scale=float(crossbar["weight_scale"]),
            variation_scale=float(crossbar["variation_scale"]),
            read_noise=bool(crossbar["read_noise"]),
            ir_drop=bool(crossbar["ir_drop"]),
            thermal_noise=bool(crossbar["thermal_noise"]),
            dac_bits=int(crossbar["dac_bits"]),
            adc_bits=int(crossbar["adc_bits"]),
            seed=int(seed),
            **{k: float(tile[k]) for k in ("read_voltage_V", "read_time_s", "temperature_K") if k in tile},
            **{k: int(tile[k]) for k in ("tile_rows", "tile_columns") if k in tile},
        )

    def with_synapse(self, levels_S, levels_std_S=None, wire_ohm: float = 0.0,
                     levels_thermal_std_S=None) -> CrossbarConfig:
        """This config on the synapse of conductance levels ``levels_S`` (S) with spreads ``levels_std_S`` and
        thermal read stds ``levels_thermal_std_S`` (S, the same order; None: not known) and line resistance
        ``wire_ohm`` per cell pitch (ohm)."""
        g = np.asarray(levels_S, np.float64)
        order = np.argsort(g)
        g_range = float(g.max() - g.min())

        def per_level(values):
            return () if values is None else tuple(np.asarray(values, np.float64)[order] / g_range)
        return dataclasses.replace(self, g_min_S=float(g.min()), g_range_S=g_range,
                                   level_spread=per_level(levels_std_S),
                                   level_thermal_std=per_level(levels_thermal_std_S), wire_ohm=float(wire_ohm))


MAX_BUCKETS = 1 << 16


def fast_searchsorted(a: np.ndarray, v: jax.Array, side: str = "left") -> jax.Array:
    """``np.searchsorted(a, v, side)`` (int32) for a constant, strictly increasing, non-empty ``a``, in O(1).

    Uniformly spaced ``a``: arithmetic only. Otherwise ``[a[0], a[-1]]`` is cut into buckets no
    wider than the narrowest gap, so each holds at most one element of ``a``: a bucket's count
    plus one comparison gives the answer (binary search where that needs > 65536 buckets).
    Gathers and binary searches are slow on CPU; this keeps the hardware step near the float
    one. Where v is within float rounding of an element of ``a``, the result may differ by one
    from exact arithmetic (as float32 and float64 may).
    """
    a = np.asarray(a, np.float64)
    if len(a) == 1:  # e.g. the one midpoint of a 1-bit (two-level) synapse
        return (v > a[0] if side == "left" else v >= a[0]).astype(jnp.int32)
    gaps = np.diff(a)
    if len(a) == 0 or gaps.min() <= 0:
        raise ValueError("fast_searchsorted needs strictly increasing breakpoints")
    width = gaps.min()
    position = (v - a[0]) * (1.0 / width)
    if np.allclose(gaps, width, rtol=1e-9, atol=0.0):
        index = jnp.ceil(position) if side == "left" else jnp.floor(position) + 1
        return jnp.clip(index, 0, len(a)).astype(jnp.int32)
    n_buckets = int((a[-1] - a[0]) // width) + 1
    if n_buckets > MAX_BUCKETS:
        return jnp.searchsorted(jnp.asarray(a, v.dtype), v, side, method="scan_unrolled").astype(jnp.int32)
    base = np.searchsorted(a, a[0] + width * np.arange(n_buckets), side=side).astype(np.int32)
    upper = np.append(a, np.inf)  # upper[base[j]]: the one element of a that bucket j may hold
    k = jnp.take(base, jnp.clip(jnp.floor(position), 0, n_buckets - 1).astype(jnp.int32), mode="clip")
    nxt = jnp.take(jnp.asarray(upper, v.dtype), k, mode="clip")
    k = k + (v > nxt if side == "left" else v >= nxt).astype(jnp.int32)
    below = v <= a[0] if side == "left" else v < a[0]
    return jnp.where(below, 0, k)


def normalised_levels(levels_S: np.ndarray) -> np.ndarray:
    """Levels mapped to [0, 1]: (G - G_min) / (G_max - G_min), sorted ascending."""
    g = np.sort(np.asarray(levels_S, dtype=np.float64))
    return ((g - g[0]) / (g[-1] - g[0])).astype(np.float32)


def _nearest_level(w: jax.Array, levels: np.ndarray, scale: float) -> jax.Array:
    """Index of the level nearest |w| / s."""
    levels = np.asarray(levels, np.float64)
    return fast_searchsorted(0.5 * (levels[1:] + levels[:-1]), jnp.abs(w) / scale)


def level_indices(w: jax.Array, levels: np.ndarray, scale: float) -> tuple[jax.Array, jax.Array]:
    """Level index (int32) of G+ and G- for each weight; ``levels``: constant normalised
    levels (``normalised_levels``)."""
    k = _nearest_level(w, levels, scale)
    zero = jnp.zeros_like(k)
    return jnp.where(w > 0, k, zero), jnp.where(w < 0, k, zero)


def snap_weights(w: jax.Array, levels: np.ndarray, scale: float) -> jax.Array:
    """Weight realised by the programmed pair: s (u[k+] - u[k-]) = s sign(w) u[k] (u[0] = 0)."""
    k = _nearest_level(w, levels, scale)
    return scale * jnp.sign(w) * jnp.take(jnp.asarray(levels, w.dtype), k, mode="clip")


FULL_SCALE_MOMENTUM = 0.1  # running full scale: new = (1 - m) old + m the batch's full scale
FULL_SCALE_KEYS = ("dac_full_scale", "adc_full_scale")
FULL_SCALE_CANDIDATES = 2.0 ** (-np.arange(48) / 8)  # least-error search: max |v| times these (9 % apart, to 1/61)
FULL_SCALE_SAMPLE = 2 ** 14  # least-error search: on this many of the batch's values at most (``sample_indices``)


@lru_cache(maxsize=64)
def sample_indices(size: int) -> np.ndarray:
    """Flat indices of at most ``FULL_SCALE_SAMPLE`` values spread over an array of ``size`` values by the golden
    ratio's Weyl sequence (no stride that could fall on one channel), int32, a constant under jit."""
    if size <= FULL_SCALE_SAMPLE:
        return np.arange(size, dtype=np.int32)
    golden = (np.sqrt(5.0) - 1) / 2
    return np.floor((np.arange(FULL_SCALE_SAMPLE) * golden) % 1.0 * size).astype(np.int32)


def uncalibrated() -> dict:
    """Converter state of a layer before its first training batch (full scale 0: not calibrated)."""
    return {k: jnp.zeros(()) for k in FULL_SCALE_KEYS}


def least_error_full_scale(v: jax.Array, bits: int) -> jax.Array:
    """The full scale (units of v) of a ``bits``-bit quantiser with the least mean squared error on v, rounding
    and saturation together: the best of max |v| x ``FULL_SCALE_CANDIDATES`` on ``sample_indices`` of v (a single
    batch's choice scatters by ~10 % at 8 bits; the running average in training settles it); max |v| when bits = 0
    (an ideal converter does not saturate)."""
    magnitude = jax.lax.stop_gradient(jnp.abs(v)).ravel()
    top = jnp.max(magnitude)
    if bits == 0:
        return top
    sample = magnitude[sample_indices(magnitude.size)]
    candidates = top * jnp.asarray(FULL_SCALE_CANDIDATES, v.dtype)
    error = jax.vmap(lambda fs: jnp.mean((quantise(sample, bits, fs) - sample) ** 2))(candidates)
    return candidates[jnp.argmin(error)]


def calibrate_full_scale(full_scale: jax.Array, v: jax.Array, train: bool, bits: int = 0) -> jax.Array:
    """The full scale a ``bits``-bit converter uses for ``v`` (units of v). Training: the running average of the
    batch's ``least_error_full_scale`` (max |v| at bits 0), the batch's own while uncalibrated (full_scale 0);
    evaluation: frozen."""
    if not train:
        return full_scale
    batch = least_error_full_scale(v, bits)
    return jnp.where(full_scale > 0, (1 - FULL_SCALE_MOMENTUM) * full_scale + FULL_SCALE_MOMENTUM * batch, batch)


def quantise(x: jax.Array, bits: int, full_scale: jax.Array) -> jax.Array:
    """Uniform symmetric quantiser: 2^bits - 1 levels over +-full_scale, values beyond saturate
    (a full scale of 0 gives 0); straight-through gradient; identity when bits = 0."""
    if bits == 0:
        return x
    half = 2 ** (bits - 1) - 1
    step = full_scale / half
    safe = jnp.where(step > 0, step, 1.0)
    q = jnp.where(step > 0, jnp.clip(jnp.round(x / safe), -half, half) * step, 0.0)
    return x + jax.lax.stop_gradient(q - x)


def input_amplitude(x: jax.Array, bits: int, full_scale: jax.Array) -> jax.Array:
    """The DAC's output as a fraction of its full scale, in [-1, 1]: the read voltage over V_read
    (amplitude coding; the same quantised value as the forward pass, clipped where bits = 0)."""
    safe = jnp.where(full_scale > 0, full_scale, 1.0)
    return jnp.where(full_scale > 0, jnp.clip(quantise(x, bits, full_scale) / safe, -1.0, 1.0), 0.0)


def device_weight(w: jax.Array, levels: np.ndarray, cfg: CrossbarConfig, layer_id: int,
                  out_axis: int = -1) -> jax.Array:
    """Effective weight of the programmed pair (+ device variation, x IR-drop gain), STE gradient w.r.t. w."""
    realised = snap_weights(w, levels, cfg.weight_scale)
    if cfg.variation_scale > 0:
        if len(cfg.level_spread) != len(levels):
            raise ValueError(f"variation needs the spread of each of the {len(levels)} levels "
                             f"(CrossbarConfig.with_synapse), got {len(cfg.level_spread)}")
        spread = jnp.asarray(cfg.level_spread, w.dtype)
        plus, minus = level_indices(w, levels, cfg.weight_scale)
        xi = device_draws(cfg.seed, layer_id, tuple(w.shape))
        offset = jnp.take(spread, plus) * xi[0] - jnp.take(spread, minus) * xi[1]
        realised = realised + cfg.weight_scale * cfg.variation_scale * offset
    if cfg.ir_drop:
        if not (cfg.wire_ohm > 0 and cfg.g_range_S > 0):
            raise ValueError("IR drop needs the synapse's levels and wire resistance (CrossbarConfig.with_synapse), "
                             f"got g_range_S {cfg.g_range_S}, wire_ohm {cfg.wire_ohm}")
        realised = realised * ir_drop_gain(tuple(w.shape), out_axis % w.ndim, cfg.tile_rows, cfg.tile_columns,
                                           cfg.g_min_S + cfg.g_range_S, cfg.wire_ohm)
    return w + jax.lax.stop_gradient(realised - w)


@lru_cache(maxsize=64)
def ir_drop_gain(shape: tuple, out_axis: int, tile_rows: int, tile_columns: int, g_max_S: float,
                 wire_ohm: float) -> np.ndarray:
    """IR-drop gain (1) of each weight of ``shape`` (module docstring), float32, a constant under jit."""
    a = crossbar.attenuation(tile_rows, tile_columns, g_max_S, wire_ohm)
    moved = np.moveaxis(np.empty(shape, np.int8), out_axis, -1).shape
    rows = np.arange(int(np.prod(moved[:-1]))) % tile_rows
    columns = np.arange(moved[-1])
    gain = 0.5 * (a[np.ix_(rows, 2 * columns % tile_columns)] + a[np.ix_(rows, (2 * columns + 1) % tile_columns)])
    return np.moveaxis(gain.reshape(moved), -1, out_axis).astype(np.float32)


@lru_cache(maxsize=64)
def device_draws(seed: int, layer_id: int, shape: tuple) -> np.ndarray:
    """xi ~ N(0, 1) of the G+ and G- device of each weight, (2, *shape) float32: fixed per device (numpy draw
    from (seed, layer_id)), a constant under jit."""
    return np.random.default_rng([seed, layer_id]).standard_normal((2,) + shape).astype(np.float32)


def crossbar_apply(
    linear: Callable[[jax.Array, jax.Array], jax.Array],
    x: jax.Array,
    w: jax.Array,
    levels: np.ndarray,
    cfg: CrossbarConfig,
    layer_id: int,
    key: jax.Array | None = None,
    out_axis: int = -1,
    *,
    full_scale: dict | None = None,
    train: bool = True,
) -> tuple[jax.Array, dict]:
    """(y, converter state): y = ADC(linear(DAC(x), W_device) + read noise); ``linear`` is
    bilinear in (x, w).

    ``out_axis``: the output-channel (column) axis of ``w``; ``key``: needed for read noise;
    ``full_scale``: the layer's converter state {dac_full_scale, adc_full_scale} (None:
    ``uncalibrated()``); ``train``: update it from this batch (``calibrate_full_scale``). The
    returned state holds the full scales this call used.
    """
    full_scale = uncalibrated() if full_scale is None else full_scale
    dac_fs = calibrate_full_scale(full_scale["dac_full_scale"], x, train, cfg.dac_bits)
    x = quantise(x, cfg.dac_bits, dac_fs)
    w_device = device_weight(w, levels, cfg, layer_id, out_axis)
    y = linear(x, w_device)
    if cfg.read_noise or cfg.thermal_noise:
        if key is None:
            raise ValueError("read or thermal noise is on but no PRNG key was given")
        variance = 0.0
        if cfg.read_noise:
            variance = variance + read_noise_variance(linear, x, w_device, dac_fs, cfg)
        if cfg.thermal_noise:
            variance = variance + thermal_noise_variance(linear, x, w, levels, cfg)
        y = y + jnp.sqrt(variance) * jax.random.normal(jax.random.fold_in(key, layer_id), y.shape, y.dtype)
    adc_fs = calibrate_full_scale(full_scale["adc_full_scale"], y, train, cfg.adc_bits)
    return quantise(y, cfg.adc_bits, adc_fs), {"dac_full_scale": dac_fs, "adc_full_scale": adc_fs}


def read_noise_variance(linear: Callable, x: jax.Array, w_device: jax.Array, dac_full_scale: jax.Array,
                        cfg: CrossbarConfig) -> jax.Array:
    """Variance of each output of one read (units of y squared) from the cells' tunnel-junction noise (module
    docstring); x the DAC's output, w_device the programmed weights. Not differentiated."""
    if not (cfg.g_range_S > 0 and cfg.g_min_S >= 0):
        raise ValueError("read noise needs the synapse's levels (CrossbarConfig.with_synapse), got "
                         f"g_min_S {cfg.g_min_S}, g_range_S {cfg.g_range_S}")
    x, w_device = jax.lax.stop_gradient(x), jax.lax.stop_gradient(w_device)
    safe_fs = jnp.where(dac_full_scale > 0, dac_full_scale, 1.0)
    excess = mtj.shot_excess_factor(cfg.read_voltage_V * x / safe_fs, cfg.temperature_K)
    pair_over_range = 2 * cfg.g_min_S / cfg.g_range_S + jnp.abs(w_device) / cfg.weight_scale  # (G+ + G-) / dG
    variance_A2 = (mtj.current_noise_density_A2_per_Hz(cfg.g_range_S, 0.0, cfg.temperature_K)
                   * mtj.noise_bandwidth_Hz(cfg.read_time_s) * linear(excess, pair_over_range))
    amps_to_y = cfg.weight_scale * safe_fs / (cfg.read_voltage_V * cfg.g_range_S)
    return jnp.maximum(variance_A2, 0.0) * amps_to_y ** 2


def thermal_noise_variance(linear: Callable, x: jax.Array, w: jax.Array, levels: np.ndarray,
                           cfg: CrossbarConfig) -> jax.Array:
    """Variance of each output of one read (units of y squared) from the thermal fluctuation of the programmed
    states: s^2 sum_i x_i^2 (sigma[k+]^2 + sigma[k-]^2), sigma the level's read-window std over G_max - G_min
    (table synapse_thermal). Not differentiated."""
    if len(cfg.level_thermal_std) != len(levels):
        raise ValueError(f"thermal noise needs the read std of each of the {len(levels)} levels (CrossbarConfig."
                         f"with_synapse and the synapse_thermal table), got {len(cfg.level_thermal_std)}")
    x, w = jax.lax.stop_gradient(x), jax.lax.stop_gradient(w)
    var = jnp.asarray(cfg.level_thermal_std, x.dtype) ** 2
    plus, minus = level_indices(w, levels, cfg.weight_scale)
    return cfg.weight_scale ** 2 * linear(x * x, jnp.take(var, plus) + jnp.take(var, minus))


def non_idealities(cfg: CrossbarConfig) -> dict:
    """Each non-ideality of the crossbar: whether it is on, where its numbers come from (table or formula) and its
    size in units of G_max - G_min (the summary's sidecar)."""
    median = lambda values: float(np.median(values)) if len(values) else None  # noqa: E731
    read = {"on": cfg.read_noise, "source": "formula: S_I = 2 e I coth(e V / 2 k_B T) per cell (devices/mtj.py), "
            "bandwidth 1 / (2 crossbar.read_time_s)", "read_voltage_V": cfg.read_voltage_V,
            "read_time_s": cfg.read_time_s, "temperature_K": cfg.temperature_K}
    if cfg.read_voltage_V > 0 and cfg.read_time_s > 0 and cfg.temperature_K > 0 and cfg.g_range_S > 0:
        sigma_A = mtj.read_current_sigma_A(cfg.g_min_S + cfg.g_range_S, cfg.read_voltage_V, cfg.temperature_K,
                                           cfg.read_time_s)
        read["cell_std_at_g_max_over_range"] = float(sigma_A / cfg.read_voltage_V / cfg.g_range_S)
    ir = {"on": cfg.ir_drop, "source": "devices/crossbar.attenuation: nodal solution of the tile at G_max, wire "
          "resistance per cell from synapse_levels.json fitted.crossbar_design_rule", "wire_ohm": cfg.wire_ohm,
          "tile_rows": cfg.tile_rows, "tile_columns": cfg.tile_columns}
    if cfg.ir_drop and cfg.wire_ohm > 0:
        ir["smallest_gain"] = float(crossbar.attenuation(cfg.tile_rows, cfg.tile_columns, cfg.g_min_S + cfg.g_range_S,
                                                         cfg.wire_ohm).min())
    return {
        "variation": {"on": cfg.variation_scale > 0, "scale": cfg.variation_scale,
                      "source": "table synapse_levels, conductance_std_S (ensemble spread per level)",
                      "median_spread_over_range": median(cfg.level_spread)},
        "read_noise": read,
        "thermal_noise": {"on": cfg.thermal_noise, "source": "table synapse_thermal, thermal_std_read_S",
                          "median_read_std_over_range": median(cfg.level_thermal_std)},
        "ir_drop": ir,
        "dac_bits": cfg.dac_bits, "adc_bits": cfg.adc_bits,
        "converter_full_scale": "per layer, calibrated in training (running average of each batch's least-error full "
                                "scale, system/crossbar.least_error_full_scale; max |v| at 0 bits), frozen afterwards",
    }


def dense(x: jax.Array, w: jax.Array) -> jax.Array:
    """x (..., in) @ w (in, out)."""
    return x @ w


def conv(
    x: jax.Array,
    w: jax.Array,
    stride: int = 1,
    padding: tuple[tuple[int, int], tuple[int, int]] = ((0, 0), (0, 0)),
    lhs_dilation: int = 1,
) -> jax.Array:
    """2-D convolution (cross-correlation), x NHWC, w HWIO."""
    return jax.lax.conv_general_dilated(
        x,
        w,
        window_strides=(stride, stride),
        padding=padding,
        lhs_dilation=(lhs_dilation, lhs_dilation),
        dimension_numbers=("NHWC", "HWIO", "NHWC"),
    )


def level_transitions(w_old: jax.Array, w_new: jax.Array, levels: np.ndarray, scale: float):
    """[potentiation, depression] level steps (int32) made by reprogramming w_old -> w_new.

    Each device (G+ and G-) moving up k levels takes k potentiation pulses, down k levels k
    depression pulses.
    """
    moves = jnp.stack(level_indices(w_new, levels, scale)) - jnp.stack(
        level_indices(w_old, levels, scale)
    )
    return jnp.stack([jnp.maximum(moves, 0).sum(), jnp.maximum(-moves, 0).sum()])
