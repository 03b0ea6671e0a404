"""Energy per image of the hardware DCGAN, from counted operations and per-operation energies.

Counting rules (per image; ``LayerSpec`` shapes are per image):

Forward pass of a crossbar layer (dense, conv, or deconv run as a zero-padded convolution):
- one crossbar read per output position (dense: one read); every MAC reads 2 devices (G+, G-):
  cell reads = 2 x MACs, MACs = out_h out_w k k C_in C_out (dense: in x out). For conv and
  deconv layers the MACs are split by what the input of the tap holds: an input pixel
  (``crossbar_read``), a zero inserted between input pixels by the zero-padded deconvolution
  (``crossbar_read_inserted_zeros``), or a padding zero (``crossbar_read_padding_zeros``). All are
  charged: the row is driven and the cells are read whatever the input value (an upper bound;
  drop the zero rows for the lower one);
- DAC: one conversion per element of each applied input vector (k k C_in per read, dense: in);
  ADC: one per column output (C_out per read, dense: out);
- activation: one DW device operation per output element of a ReLU / Leaky ReLU layer; a DW
  ReLU also carries the bias current that puts its threshold at zero input
  (``activation_relu_bias_drive``, its extra Joule energy; ``system.dcgan``). Batch
  norm, biases, the generator's tanh and the discriminator's output logit (sigmoid in the loss)
  are CMOS and listed with count and zero energy (not modelled).

Testing (per generated image): one generator forward pass.

Training (per training image; one step = B real images, B latents), as ``system.train`` runs it:
- forward: G once (the fakes are reused), D three times (real and fake in the D step, fake
  through the updated D in the G step);
- backward (error propagation through the transposed crossbar): each forward product x w with
  x an input pixel has one counterpart dy w, so cell reads = 2 x the input-pixel MACs; DAC: one
  per output error element, ADC: one per input gradient element. Counted where the gradient is
  needed: D twice without its first layer (D step: no gradient into the images), D once with
  it (G step: the error reaches the fakes), G once without its first layer (none into z).
  Weight gradients (x outer delta), batch norm, the loss and Adam are CMOS, not counted;
- weight updates: the level steps actually made (``update_counts.csv`` from training), per
  training image, times the mean energy of a potentiation / depression step.

Per-operation energies: read = V_read^2 G t_read (config ``system.energy``; G: per layer, the
mean conductance programmed in the trained network when given, else the mean of the synapse
levels; the ``source`` column says which); activation = activation_energy total_J of the device;
update = synapse_update mean energy_J per direction; DAC / ADC from the config.
"""

from __future__ import annotations

import json
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from system.crossbar import level_indices, normalised_levels
from system.dcgan import Architecture, LayerSpec, architecture
from system.deconv import conv_zero_counts, deconv_zero_counts
from system.tables import DeviceTables

COLUMNS = ["network", "layer", "pass", "component", "count", "energy_per_op_J", "source", "energy_J"]


@dataclass(frozen=True)
class EnergyConfig:
    """Per-operation constants not in the device tables (config ``system.energy``)."""

    read_voltage_V: float
    read_time_s: float
    dac_energy_J: float = 0.0
    adc_energy_J: float = 0.0

    @classmethod
    def from_config(cls, energy: dict) -> EnergyConfig:
        return cls(float(energy["read_voltage_V"]), float(energy["read_time_s"]),
                   float(energy["dac_energy_J"]), float(energy["adc_energy_J"]))


@dataclass(frozen=True)
class LayerCounts:
    """Operations of one forward pass of one layer, per image."""

    macs_input: int
    macs_inserted_zeros: int
    macs_padding_zeros: int
    dac: int
    adc: int
    inputs: int
    outputs: int


def layer_counts(spec: LayerSpec) -> LayerCounts:
    """Count the MACs (by what the tap reads), conversions and elements of a layer."""
    inputs, outputs = int(np.prod(spec.in_shape)), int(np.prod(spec.out_shape))
    if spec.kind == "dense":
        return LayerCounts(inputs * outputs, 0, 0, inputs, outputs, inputs, outputs)
    c_in, c_out, k = spec.in_shape[-1], spec.out_shape[-1], spec.kernel
    if spec.kind == "conv":
        zc = conv_zero_counts(spec.in_shape[:2], k, spec.stride, spec.padding)
    else:
        zc = deconv_zero_counts(spec.in_shape[:2], k, spec.stride, spec.padding, spec.output_padding)
    if zc.out_hw != tuple(spec.out_shape[:2]):
        raise ValueError(f"{spec.name}: counted output {zc.out_hw} != spec {spec.out_shape[:2]}")
    reads = zc.out_hw[0] * zc.out_hw[1]
    pair = c_in * c_out
    return LayerCounts(zc.taps_input * pair, zc.taps_inserted * pair, zc.taps_padding * pair,
                       reads * k * k * c_in, reads * c_out, inputs, outputs)


def programmed_conductance(layers: tuple, params: dict, levels_S, weight_scale: float) -> dict:
    """Mean conductance (S) of the devices (G+ and G-) of each layer for trained ``params``."""
    g = np.sort(np.asarray(levels_S, np.float64))
    u = normalised_levels(g)
    mean = {}
    for spec in layers:
        plus, minus = (np.asarray(i) for i in level_indices(np.asarray(params[spec.name]["w"]), u, weight_scale))
        mean[spec.name] = float(0.5 * (g[plus].mean() + g[minus].mean()))
    return mean


def _rows(network: str, spec: LayerSpec, pass_: str, times: int, g_read: float, g_source: str,
          tables: DeviceTables, cfg: EnergyConfig) -> list:
    """Breakdown rows of ``times`` forward or backward passes of one layer, per image."""
    counts = layer_counts(spec)
    e_read = cfg.read_voltage_V**2 * g_read * cfg.read_time_s
    read_src = f"system.energy.read_voltage_V^2 * {g_source} * system.energy.read_time_s"
    rows = []

    def add(component, count, per_op, source):
        rows.append([network, spec.name, pass_, component, float(count), per_op, source, count * per_op])

    add("crossbar_read", times * 2 * counts.macs_input, e_read, read_src)
    if pass_ == "backward":
        add("dac", times * counts.outputs, cfg.dac_energy_J, "system.energy.dac_energy_J")
        add("adc", times * counts.inputs, cfg.adc_energy_J, "system.energy.adc_energy_J")
        return rows
    if spec.kind != "dense":
        add("crossbar_read_inserted_zeros", times * 2 * counts.macs_inserted_zeros, e_read, read_src)
        add("crossbar_read_padding_zeros", times * 2 * counts.macs_padding_zeros, e_read, read_src)
    add("dac", times * counts.dac, cfg.dac_energy_J, "system.energy.dac_energy_J")
    add("adc", times * counts.adc, cfg.adc_energy_J, "system.energy.adc_energy_J")
    if spec.activation in ("relu", "lrelu"):
        device = spec.activation
        ratio = f", curvature ratio {tables.lrelu_curvature_ratio:g}" if device == "lrelu" else ""
        add(f"activation_{device}", times * counts.outputs, tables.activation_energy_J[device],
            f"activation_energy total_J ({device}{ratio})")
        if device == "relu" and tables.relu_bias_energy_J > 0:
            add("activation_relu_bias_drive", times * counts.outputs, tables.relu_bias_energy_J,
                f"bias current {tables.relu_threshold:.3g} j_max: drive_energy_J (relu) (theta^2 + 2 theta <u>) / <u^2>")
    elif spec.activation == "tanh":
        add("cmos_tanh", times * counts.outputs, 0.0, "CMOS, not modelled")
    else:
        add("cmos_output_logit", times * counts.outputs, 0.0, "CMOS (sigmoid in the loss), not modelled")
    if spec.batch_norm:
        add("cmos_batchnorm", times * counts.outputs, 0.0, "CMOS, not modelled")
    return rows


def _passes(network: str, layers: tuple, pass_: str, times: list, tables, cfg, conductance) -> list:
    """Rows of all layers of a network; ``times[i]``: passes of layer i per image."""
    rows = []
    for spec, n in zip(layers, times):
        if conductance is not None:
            g, source = conductance[spec.name], f"G (programmed mean of {spec.name})"
        else:
            g, source = float(np.mean(tables.levels_S)), "G (synapse_levels mean conductance_S)"
        if n:
            rows += _rows(network, spec, pass_, n, g, source, tables, cfg)
    return rows


def inference_energy(arch: Architecture, tables: DeviceTables, cfg: EnergyConfig,
                     conductance: dict | None = None) -> pd.DataFrame:
    """Breakdown per generated image (testing): one generator forward pass.

    conductance: {layer: mean programmed G (S)} (``programmed_conductance``); None: level mean.
    """
    rows = _passes("generator", arch.generator, "forward", [1] * len(arch.generator), tables, cfg, conductance)
    return pd.DataFrame(rows, columns=COLUMNS)


def training_energy(arch: Architecture, tables: DeviceTables, cfg: EnergyConfig,
                    updates: pd.DataFrame, conductance: dict | None = None) -> pd.DataFrame:
    """Breakdown per training image: forward and backward reads, activations and weight updates.

    updates: per layer cumulative ``potentiation`` / ``depression`` level steps and the
    training ``images`` they took (``update_counts.csv`` of a hardware run).
    """
    g, d = arch.generator, arch.discriminator
    rows = _passes("generator", g, "forward", [1] * len(g), tables, cfg, conductance)
    rows += _passes("discriminator", d, "forward", [3] * len(d), tables, cfg, conductance)
    rows += _passes("discriminator", d, "backward", [1] + [3] * (len(d) - 1), tables, cfg, conductance)
    rows += _passes("generator", g, "backward", [0] + [1] * (len(g) - 1), tables, cfg, conductance)
    for record in updates.itertuples():
        for direction in ("potentiation", "depression"):
            per_image = getattr(record, direction) / record.images
            e = tables.update_energy_J[direction]
            rows.append([record.network, record.layer, "update", f"update_{direction}", per_image, e,
                         f"synapse_update mean energy_J ({direction})", per_image * e])
    return pd.DataFrame(rows, columns=COLUMNS)


def run_energy(outdir: Path, tables: DeviceTables, cfg: EnergyConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(testing, training) breakdowns of a finished hardware run in ``outdir`` (``system.train``: its
    config.json, generator.pkl, discriminator.pkl and update_counts.csv), with the conductances
    programmed at the end of training."""
    outdir = Path(outdir)
    config = json.loads((outdir / "config.json").read_text())
    if config["variant"] != "hardware":
        raise ValueError(f"{outdir} is a {config['variant']} run; the energy model needs a hardware run")
    arch = architecture(config["dataset"], int(config["system"]["latent_dim"]))
    params = {}
    for network in ("generator", "discriminator"):
        with open(outdir / f"{network}.pkl", "rb") as f:
            params[network] = pickle.load(f)["params"]
    hw = config["hardware"]
    conductance = {}
    for layers, network in ((arch.generator, "generator"), (arch.discriminator, "discriminator")):
        conductance.update(programmed_conductance(layers, params[network], hw["levels_S"],
                                                  hw["crossbar"]["weight_scale"]))
    updates = pd.read_csv(outdir / "update_counts.csv")
    return (inference_energy(arch, tables, cfg, conductance),
            training_energy(arch, tables, cfg, updates, conductance))
