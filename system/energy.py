"""Energy per image of the hardware DCGAN from the trained network's activity, periphery included.

Mapping (``layer_mapping``): a crossbar layer's matrix has rows = k k C_in (dense: in) and 2 C_out
device columns (a weight is a G+/G- pair); it is cut into ceil(rows / tile_rows) x
ceil(2 C_out / tile_columns) tiles (config ``crossbar``). A read applies one input vector: one per
output position of a conv or zero-padded deconv layer (its patch), one per image for a dense
layer; every read uses all the layer's tiles, one array cycle each.

Array energy (traced, ``generation_trace`` / ``training_trace``): inputs are amplitude coded,
V_i = V_read q(x_i) / x_fs (q: the DAC quantiser of the forward pass, x_fs: the layer's DAC full
scale, ``system.crossbar``), and one read costs t_read sum_i V_i^2 sum_j G_ij (J), G_ij each
programmed device (G+ and G-) on row i, from its level index and the measured levels_S. Summed
over the reads of a batch this is t_read V_read^2 sum(linear(a^2, G_row)), a = q(x) / x_fs and
G_row[i] = sum_j G_ij, with ``linear`` the layer's own op (``system.dcgan.linear_op``) and one
output channel: inserted and padding zeros have V = 0 and cost no array energy (their cycles
count). Backward reads apply the error vector delta (C_out per output position) to the columns
of the transposed array: t_read sum_j V_j^2 sum_i G_ij, V_j = V_read q(delta_j) / delta_fs with
the error's own full scale, calibrated per layer as max |delta| over the traced batches.

Periphery, per image: DAC, one conversion per row per read that holds an input pixel (zero codes
included; the rows of inserted and padding zeros are zero by construction and grounded, not converted); ADC, one per
weight column (the pair is subtracted in analog) per row tile per read, the row tiles' partial
sums added digitally. Backward: DAC one per weight column per read, ADC one per row per column
tile per read. Energy per conversion = FOM 2^bits (config ``system.energy``; 0 for an ideal,
0-bit converter). DW activations: the device energy per output element (plus the ReLU's bias
current); weight updates: the level steps of ``update_counts.csv`` times the mean step energy.
CMOS parts (batch norm, biases, tanh, the output logit, partial-sum adders, weight gradients,
Adam) are listed with their count and zero energy (not modelled).

Groups: ``array_and_devices`` (crossbar reads, DW activations, synapse updates: the scope of the
reference numbers), ``periphery`` (DAC, ADC), ``cmos_unmodelled``. See docs/energy.md.
"""

from __future__ import annotations

import json
import math
import pickle
from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from system.crossbar import input_amplitude, level_indices, normalised_levels
from system.dcgan import Architecture, Hardware, LayerSpec, apply, architecture, linear_op, out_axis
from system.deconv import conv_zero_counts, deconv_zero_counts
from system.tables import DeviceTables
from system.train import bce, training_batches

COLUMNS = ["network", "layer", "pass", "component", "group", "count", "energy_per_op_J", "source", "energy_J"]
ARRAY, PERIPHERY, CMOS = "array_and_devices", "periphery", "cmos_unmodelled"
TEST_BATCH = 250  # generated images per traced batch
NETWORKS = ("generator", "discriminator")


@dataclass(frozen=True)
class EnergyConfig:
    """Constants of the energy model: read voltage (V) and read time (s) and tile size (devices) from
    config ``crossbar``; converter figures of merit (J per conversion step) and trace sizes from
    config ``system.energy``."""

    read_voltage_V: float
    read_time_s: float
    tile_rows: int
    tile_columns: int
    adc_fom_J: float
    dac_fom_J: float
    test_images: int
    train_batches: int

    @classmethod
    def from_config(cls, crossbar: dict, energy: dict) -> EnergyConfig:
        return cls(float(crossbar["read_voltage_V"]), float(crossbar["read_time_s"]), int(crossbar["tile_rows"]),
                   int(crossbar["tile_columns"]), float(energy["adc_fom_J_per_conversion_step"]),
                   float(energy["dac_fom_J_per_conversion_step"]), int(energy["test_images"]),
                   int(energy["train_batches"]))


def layer_shape(spec: LayerSpec) -> tuple[int, int, int]:
    """(reads per image, rows, weight columns) of a crossbar layer: one read per output position
    (dense: one), rows k k C_in (dense: in), columns C_out."""
    if spec.kind == "dense":
        return 1, spec.in_shape[-1], spec.out_shape[-1]
    return spec.out_shape[0] * spec.out_shape[1], spec.kernel**2 * spec.in_shape[-1], spec.out_shape[-1]


@dataclass(frozen=True)
class Mapping:
    """One crossbar layer on tiles, per image: reads (input vectors applied), rows of its matrix,
    weight columns (C_out; 2 C_out device columns), row and column tiles, and the fraction of the
    tiles' cells that hold one of its devices."""

    reads: int
    rows: int
    columns: int
    row_tiles: int
    column_tiles: int
    cell_utilisation: float

    @property
    def cycles(self) -> int:
        """Array cycles per image: one per tile per read."""
        return self.reads * self.row_tiles * self.column_tiles


def layer_mapping(spec: LayerSpec, tile_rows: int, tile_columns: int) -> Mapping:
    """How ``spec`` sits on tiles of tile_rows x tile_columns devices."""
    reads, rows, columns = layer_shape(spec)
    row_tiles, column_tiles = math.ceil(rows / tile_rows), math.ceil(2 * columns / tile_columns)
    utilisation = rows * 2 * columns / (row_tiles * column_tiles * tile_rows * tile_columns)
    return Mapping(reads, rows, columns, row_tiles, column_tiles, utilisation)


def zero_row_fractions(spec: LayerSpec) -> tuple[float, float]:
    """Fractions of the driven rows that hold an inserted zero and a padding zero (by the layer's
    geometry, whatever the data)."""
    if spec.kind == "dense":
        return 0.0, 0.0
    if spec.kind == "conv":
        zc = conv_zero_counts(spec.in_shape[:2], spec.kernel, spec.stride, spec.padding)
    else:
        zc = deconv_zero_counts(spec.in_shape[:2], spec.kernel, spec.stride, spec.padding, spec.output_padding)
    taps = zc.out_hw[0] * zc.out_hw[1] * spec.kernel**2
    return zc.taps_inserted / taps, zc.taps_padding / taps


def conversion_energy_J(fom_J: float, bits: int) -> float:
    """Energy of one conversion (J): Walden FOM x 2^bits; 0 for an ideal (0-bit) converter."""
    return fom_J * 2.0**bits if bits else 0.0


def conductance_sums(spec: LayerSpec, w, levels_S, weight_scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Conductances (S) of the devices programmed for shadow weights ``w``: per row, the sum over
    the device columns of G+ + G- (shaped like w with the output axis of size 1: the kernel of the
    layer's op with one output channel); per weight column, the sum over the rows (C_out,)."""
    g = np.sort(np.asarray(levels_S, np.float64))
    plus, minus = (np.asarray(i) for i in level_indices(jnp.asarray(w), normalised_levels(g), weight_scale))
    devices = g[plus] + g[minus]
    axis = out_axis(spec) % devices.ndim
    row = devices.sum(axis=axis, keepdims=True)
    column = devices.sum(axis=tuple(a for a in range(devices.ndim) if a != axis))
    return row.astype(np.float32), column.astype(np.float32)


def forward_stats(spec: LayerSpec, x, full_scale, bits: int, g_row):
    """[sum over the batch's reads of sum_i a_i^2 G_row[i] (S), non-zero driven rows]; a = V / V_read."""
    a = input_amplitude(x, bits, full_scale)
    op = linear_op(spec)
    return jnp.stack([jnp.sum(op(a * a, g_row)), jnp.sum(op((a != 0).astype(a.dtype), jnp.ones_like(g_row)))])


def backward_stats(delta, full_scale, bits: int, g_column):
    """[sum over the batch's backward reads of sum_j a_j^2 G_column[j] (S), max |delta|]."""
    a = input_amplitude(delta, bits, full_scale)
    return jnp.stack([jnp.sum(a * a * g_column), jnp.max(jnp.abs(delta))])


def _zeros(layers: tuple, n: int) -> dict:
    return {spec.name: jnp.zeros((n,) + tuple(spec.out_shape)) for spec in layers}


def _forward(layers: tuple, passes: list, hw: Hardware, sums: dict) -> dict:
    """{layer: stacked forward_stats of each pass}; passes: (inputs, new state) of each forward pass."""
    return {spec.name: jnp.stack([forward_stats(spec, inputs[spec.name], state[spec.name]["dac_full_scale"],
                                                 hw.crossbar.dac_bits, sums[spec.name][0]) for inputs, state in passes])
            for spec in layers}


def _backward(layers: tuple, passes: list, hw: Hardware, sums: dict, delta_fs: dict) -> dict:
    """{layer: stacked backward_stats of each pass that reads its transposed array}; passes: (errors,
    index of the first layer read) of each backward pass."""
    return {spec.name: jnp.stack([backward_stats(errors[spec.name], delta_fs[spec.name], hw.crossbar.dac_bits,
                                                  sums[spec.name][1]) for errors, first in passes if i >= first])
            for i, spec in enumerate(layers) if any(i >= first for _, first in passes)}


def _accumulate(total: dict | None, batch: dict) -> dict:
    batch = jax.device_get(batch)
    return batch if total is None else jax.tree.map(np.add, total, batch)


def generation_trace(arch: Architecture, hw: Hardware, params: dict, state: dict, sums: dict, n_images: int,
                     seed: int) -> tuple[dict, int]:
    """Generator in evaluation mode on at least ``n_images`` latents (batches of up to TEST_BATCH, key
    ``seed``): ({"forward": {("generator", layer): array (1, 2) of forward_stats sums}}, images)."""
    batch = min(TEST_BATCH, n_images)

    @jax.jit
    def run(z, key):
        _, _, inputs = apply(arch.generator, params, state, z, hw=hw, train=False, key=key,
                             trace=_zeros(arch.generator, batch))
        return _forward(arch.generator, [(inputs, state)], hw, sums)

    total, key = None, jax.random.PRNGKey(seed)
    n_batches = -(-n_images // batch)
    for i in range(n_batches):
        k = jax.random.fold_in(key, i)
        total = _accumulate(total, run(jax.random.normal(jax.random.fold_in(k, 0), (batch, arch.latent_dim)),
                                       jax.random.fold_in(k, 1)))
    return {"forward": {("generator", name): v for name, v in total.items()}}, n_batches * batch


def training_trace(arch: Architecture, hw: Hardware, params: dict, state: dict, sums: dict, batches: list,
                   seed: int) -> tuple[dict, int]:
    """One training step of ``system.train`` per real batch, with the final parameters and state (no
    update between the passes): G forward once; D forward on real and fake (D step) and on the fakes
    again (G step, state threaded as in training); backward reads: D step, every D layer but the first,
    for real and fake; G step, every D layer, then every G layer but the first. The error full scales
    are calibrated first (max |delta| per layer over all batches), then the energies are summed.
    Returns ({"forward" / "backward": {(network, layer): array (passes, 2)}}, images)."""
    n = len(batches[0])
    G_layers, D_layers = arch.generator, arch.discriminator

    @jax.jit
    def step(real, key, delta_fs):
        k_z, k_g, k_d, k_gd = jax.random.split(key, 4)
        z = jax.random.normal(k_z, (n, arch.latent_dim))

        def G(trace):
            fake, s, inputs = apply(G_layers, params["generator"], state["generator"], z, hw=hw, key=k_g, trace=trace)
            return fake, (inputs, s)

        def D(trace, images, s, key):
            logits, s, inputs = apply(D_layers, params["discriminator"], s, images, hw=hw, key=key, trace=trace)
            return logits.reshape(n), (inputs, s)

        fake, g_pullback, g_pass = jax.vjp(G, _zeros(G_layers, n), has_aux=True)

        def d_loss(trace_real, trace_fake):
            real_logits, real_pass = D(trace_real, real, state["discriminator"], jax.random.fold_in(k_d, 0))
            fake_logits, fake_pass = D(trace_fake, jax.lax.stop_gradient(fake), real_pass[1],
                                       jax.random.fold_in(k_d, 1))
            return bce(real_logits, 1.0) + bce(fake_logits, 0.0), (real_pass, fake_pass)

        (d_real, d_fake), (real_pass, fake_pass) = jax.grad(d_loss, (0, 1), has_aux=True)(
            _zeros(D_layers, n), _zeros(D_layers, n))

        def g_loss(trace, fake):
            logits, g_step_pass = D(trace, fake, fake_pass[1], k_gd)
            return bce(logits, 1.0), g_step_pass

        (d_g_step, fake_error), g_step_pass = jax.grad(g_loss, (0, 1), has_aux=True)(_zeros(D_layers, n), fake)
        (g_errors,) = g_pullback(fake_error)
        return {"forward": {**_forward(G_layers, [g_pass], hw, sums),
                            **_forward(D_layers, [real_pass, fake_pass, g_step_pass], hw, sums)},
                "backward": {**_backward(G_layers, [(g_errors, 1)], hw, sums, delta_fs),
                             **_backward(D_layers, [(d_real, 1), (d_fake, 1), (d_g_step, 0)], hw, sums, delta_fs)}}

    key = jax.random.PRNGKey(seed)
    names = [spec.name for spec in G_layers + D_layers]
    ones = {name: jnp.ones(()) for name in names}
    delta_fs = {name: 0.0 for name in names}
    for i, real in enumerate(batches):  # calibration: the error full scales
        maxima = jax.device_get(step(real, jax.random.fold_in(key, i), ones)["backward"])
        delta_fs.update({name: max(delta_fs[name], float(v[:, 1].max())) for name, v in maxima.items()})
    delta_fs = {name: jnp.asarray(v, jnp.float32) for name, v in delta_fs.items()}
    total = None
    for i, real in enumerate(batches):
        total = _accumulate(total, step(real, jax.random.fold_in(key, i), delta_fs))
    network = {spec.name: net for net, layers in (("generator", G_layers), ("discriminator", D_layers))
               for spec in layers}
    return {p: {(network[name], name): v for name, v in total[p].items()} for p in total}, n * len(batches)


def _read_source(pass_: str) -> str:
    amplitude = "q(x)/x_fs" if pass_ == "forward" else "q(delta)/delta_fs"
    return (f"traced: crossbar.read_time_s * sum over reads of (crossbar.read_voltage_V {amplitude})^2 * "
            "(G+ + G-) of the programmed levels (synapse_levels conductance_S)")


def layer_rows(network: str, spec: LayerSpec, pass_: str, stats: np.ndarray, images: int, tables: DeviceTables,
                cfg: EnergyConfig, hw: Hardware) -> list:
    """Rows of one layer's forward or backward passes per image; stats: (passes, 2) trace sums."""
    m = layer_mapping(spec, cfg.tile_rows, cfg.tile_columns)
    times = stats.shape[0]
    rows = []

    def add(component, group, count, per_op, source):
        rows.append([network, spec.name, pass_, component, group, float(count), per_op, source, count * per_op])

    read_J = cfg.read_time_s * cfg.read_voltage_V**2 * float(stats[:, 0].sum()) / images  # per image
    add("crossbar_read", ARRAY, times * m.cycles, read_J / (times * m.cycles), _read_source(pass_))
    bits = hw.crossbar
    forward = pass_ == "forward"
    inserted, padding = zero_row_fractions(spec) if forward else (0.0, 0.0)
    add("dac", PERIPHERY, times * (round(m.reads * m.rows * (1 - inserted - padding)) if forward else m.reads * m.columns),
        conversion_energy_J(cfg.dac_fom_J, bits.dac_bits),
        f"system.energy.dac_fom_J_per_conversion_step * 2^{bits.dac_bits} (system.crossbar.dac_bits)")
    add("adc", PERIPHERY, times * m.reads * (m.columns * m.row_tiles if forward else m.rows * m.column_tiles),
        conversion_energy_J(cfg.adc_fom_J, bits.adc_bits),
        f"system.energy.adc_fom_J_per_conversion_step * 2^{bits.adc_bits} (system.crossbar.adc_bits)")
    partial_sums = m.columns * (m.row_tiles - 1) if forward else m.rows * (m.column_tiles - 1)
    if partial_sums:
        add("cmos_partial_sum_add", CMOS, times * m.reads * partial_sums, 0.0, "CMOS, not modelled")
    if not forward:
        return rows
    outputs = int(np.prod(spec.out_shape))
    if spec.activation in ("relu", "lrelu"):
        device = spec.activation
        ratio = f", curvature ratio {tables.lrelu_curvature_ratio:g}" if device == "lrelu" else ""
        add(f"activation_{device}", ARRAY, times * outputs, tables.activation_energy_J[device],
            f"activation_energy total_J ({device}{ratio})")
        if device == "relu" and tables.relu_bias_energy_J > 0:
            add("activation_relu_bias_drive", ARRAY, times * outputs, tables.relu_bias_energy_J,
                f"bias current {tables.relu_threshold:.3g} j_max: drive_energy_J (relu) (theta^2 + 2 theta <u>) / <u^2>")
    elif spec.activation == "tanh":
        add("cmos_tanh", CMOS, times * outputs, 0.0, "CMOS, not modelled")
    else:
        add("cmos_output_logit", CMOS, times * outputs, 0.0, "CMOS (sigmoid in the loss), not modelled")
    add("cmos_batchnorm" if spec.batch_norm else "cmos_bias", CMOS, times * outputs, 0.0, "CMOS, not modelled")
    return rows


def breakdown(arch: Architecture, trace: dict, images: int, tables: DeviceTables, cfg: EnergyConfig,
              hw: Hardware) -> pd.DataFrame:
    """Rows (``COLUMNS``) per image of the traced forward and backward passes."""
    rows = []
    for pass_ in ("forward", "backward"):
        for network, layers in zip(NETWORKS, (arch.generator, arch.discriminator)):
            for spec in layers:
                if (network, spec.name) in trace.get(pass_, {}):
                    rows += layer_rows(network, spec, pass_, np.asarray(trace[pass_][network, spec.name]), images,
                                        tables, cfg, hw)
    return pd.DataFrame(rows, columns=COLUMNS)


def training_cmos_rows(arch: Architecture, updates: pd.DataFrame) -> pd.DataFrame:
    """Unmodelled CMOS work of training per image: weight gradients (x outer delta, one MAC per weight
    per read; D twice per step, G once) and Adam (one update per weight per step)."""
    steps_per_image = float(updates["steps"].iloc[0] / updates["images"].iloc[0])
    rows = []
    for network, layers, passes in (("generator", arch.generator, 1), ("discriminator", arch.discriminator, 2)):
        for spec in layers:
            reads, n_rows, columns = layer_shape(spec)
            weights = n_rows * columns
            rows.append([network, spec.name, "backward", "cmos_weight_gradient", CMOS, float(passes * reads * weights),
                         0.0, "CMOS, not modelled", 0.0])
            rows.append([network, spec.name, "update", "cmos_adam", CMOS, weights * steps_per_image, 0.0,
                         "CMOS, not modelled", 0.0])
    return pd.DataFrame(rows, columns=COLUMNS)


def update_rows(updates: pd.DataFrame, tables: DeviceTables) -> pd.DataFrame:
    """Level steps made in training (``update_counts.csv``) per training image, times the mean step energy."""
    rows = []
    for record in updates.itertuples():
        for direction in ("potentiation", "depression"):
            per_image = getattr(record, direction) / record.images
            e = tables.update_energy_J[direction]
            rows.append([record.network, record.layer, "update", f"update_{direction}", ARRAY, per_image, e,
                         f"synapse_update mean energy_J ({direction})", per_image * e])
    return pd.DataFrame(rows, columns=COLUMNS)


def tiles_table(arch: Architecture, trace: dict, images: int, cfg: EnergyConfig) -> pd.DataFrame:
    """Per generator layer (testing): its tiles, reads, array cycles, cell utilisation, and driven rows per
    image, with the fractions that are non-zero (traced) and that hold inserted or padding zeros."""
    rows = []
    for spec in arch.generator:
        m = layer_mapping(spec, cfg.tile_rows, cfg.tile_columns)
        driven = m.reads * m.rows
        nonzero = float(np.asarray(trace["forward"]["generator", spec.name])[:, 1].sum()) / images
        inserted, padding = zero_row_fractions(spec)
        rows.append({"network": "generator", "layer": spec.name, "rows": m.rows, "weight_columns": m.columns,
                     "row_tiles": m.row_tiles, "column_tiles": m.column_tiles, "tiles": m.row_tiles * m.column_tiles,
                     "reads_per_image": m.reads, "array_cycles_per_image": m.cycles,
                     "cell_utilisation": m.cell_utilisation, "driven_rows_per_image": driven,
                     "nonzero_row_fraction": nonzero / driven, "inserted_zero_row_fraction": inserted,
                     "padding_zero_row_fraction": padding})
    return pd.DataFrame(rows)


def totals(frame: pd.DataFrame) -> dict:
    """Energy per image (J): array_and_devices (crossbar reads, DW activations, synapse updates) and
    with_periphery (plus DAC and ADC); NaN where a device energy is missing."""
    array = frame.loc[frame["group"] == ARRAY, "energy_J"].sum(skipna=False)
    periphery = frame.loc[frame["group"] == PERIPHERY, "energy_J"].sum(skipna=False)
    return {"array_and_devices": float(array), "with_periphery": float(array + periphery)}


def utilisation(tiles: pd.DataFrame) -> dict:
    """Network figures of a ``tiles_table``: array cycles per image; cell utilisation weighted by cycles
    (the fraction of the cells read that hold a device of the layer); non-zero driven rows / driven rows."""
    cycles = tiles["array_cycles_per_image"]
    driven = tiles["driven_rows_per_image"]
    return {"array_cycles_per_image": float(cycles.sum()),
            "cell_utilisation": float((cycles * tiles["cell_utilisation"]).sum() / cycles.sum()),
            "nonzero_row_fraction": float((driven * tiles["nonzero_row_fraction"]).sum() / driven.sum())}


def load_run(outdir: Path) -> tuple[Architecture, Hardware, dict, dict, dict]:
    """(architecture, hardware, params, state, run config) of a finished hardware run in ``outdir``;
    params and state keyed by network."""
    outdir = Path(outdir)
    config = json.loads((outdir / "config.json").read_text())
    if config["variant"] != "hardware":
        raise ValueError(f"{outdir} is a {config['variant']} run; the energy model needs a hardware run")
    arch = architecture(config["dataset"], int(config["system"]["latent_dim"]))
    params, state = {}, {}
    for network in NETWORKS:
        with open(outdir / f"{network}.pkl", "rb") as f:
            saved = pickle.load(f)
        params[network], state[network] = saved["params"], saved["state"]
    return arch, Hardware.from_dict(config["hardware"]), params, state, config


def run_energy(outdir: Path, tables: DeviceTables, cfg: EnergyConfig, images: np.ndarray,
               hardware: Hardware | None = None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(testing breakdown, training breakdown, generator tiles table) of a finished hardware run in
    ``outdir`` (``system.train``: config.json, generator.pkl, discriminator.pkl, update_counts.csv).
    images: its training images, uint8 (N, H, W[, C]); the first ``cfg.train_batches`` batches of its
    first epoch are replayed. hardware: the devices to run it on, else those it was trained on."""
    arch, hw, params, state, config = load_run(outdir)
    hw = hardware or hw
    seed, batch = int(config["seed"]), int(config["system"]["batch_size"])
    sums = {spec.name: conductance_sums(spec, params[network][spec.name]["w"], hw.levels_S, hw.crossbar.weight_scale)
            for network, layers in zip(NETWORKS, (arch.generator, arch.discriminator)) for spec in layers}
    test, test_images = generation_trace(arch, hw, params["generator"], state["generator"], sums, cfg.test_images, seed)
    real = training_batches(images, arch, seed, batch, cfg.train_batches)
    training, train_images = training_trace(arch, hw, params, state, sums, real, seed)
    updates = pd.read_csv(Path(outdir) / "update_counts.csv")
    test_frame = breakdown(arch, test, test_images, tables, cfg, hw)
    train_frame = pd.concat([breakdown(arch, training, train_images, tables, cfg, hw), update_rows(updates, tables),
                             training_cmos_rows(arch, updates)], ignore_index=True)
    return test_frame, train_frame, tiles_table(arch, test, test_images, cfg)
