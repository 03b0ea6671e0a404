"""Typed device parameters, built once from the checked config's `synapse` and `dw_activation` sections.

`SynapseParams.from_config(section)` and `DWActivationParams.from_config(section)` check every value
(a number, finite, of the right sign, an integer where one is needed) and raise ValueError naming the
config key, e.g. "synapse.skyrmion_pitch_m: must be > 0, got -4e-08". SI units throughout, as in the
key names; "1" marks a dimensionless value.
"""
from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass


def _number(check: str, default=dataclasses.MISSING):
    """A numeric field checked by `check`: "positive" (> 0), "nonnegative" (>= 0) or "any" (finite)."""
    return dataclasses.field(default=default, metadata={"check": check})


@dataclass(frozen=True, kw_only=True)
class Material:
    """Free-layer material."""
    Ms_A_per_m: float = _number("positive")      # saturation magnetisation (A/m)
    A_J_per_m: float = _number("positive")       # exchange stiffness (J/m)
    D_J_per_m2: float = _number("any")           # interfacial DMI (J/m^2), ubermag class Cnv_z
    alpha: float = _number("positive")           # Gilbert damping (1)
    thickness_m: float = _number("positive")     # free-layer thickness (m)
    Ku_J_per_m3: float | None = _number("nonnegative", None)  # uniaxial anisotropy, easy axis z (J/m^3);
    # None where a profile sets it (DWActivationParams.anisotropy)


@dataclass(frozen=True, kw_only=True)
class MTJ:
    """Readout magnetic tunnel junction."""
    TMR: float = _number("positive")             # (G_P - G_AP) / G_AP (1)
    RA_ohm_um2: float = _number("positive")      # resistance-area product in the parallel state (ohm um^2)


@dataclass(frozen=True, kw_only=True)
class PillarMTJ(MTJ):
    """Readout of the synapse: one MTJ pillar over every lattice site of the MTJ half, all in parallel."""
    pillar_radius_m: float = _number("positive")  # (m)


@dataclass(frozen=True, kw_only=True)
class HeavyMetal:
    """Spin-orbit-torque layer under the free layer."""
    spin_hall_angle: float = _number("any")      # (1)
    resistivity_ohm_m: float = _number("positive")  # (ohm m)
    thickness_m: float = _number("positive")     # (m)


@dataclass(frozen=True, kw_only=True)
class Barrier:
    """Raised-anisotropy strip on the synapse's reservoir/MTJ boundary."""
    width_m: float = _number("nonnegative")      # (m)
    Ku_increase_J_per_m3: float = _number("nonnegative")  # added to the material's Ku (J/m^3)


@dataclass(frozen=True, kw_only=True)
class Pinning:
    """Lowered-anisotropy disks at the synapse's lattice sites: each holds one core of their size."""
    radius_m: float = _number("positive")        # disk radius (m)
    Ku_J_per_m3: float = _number("nonnegative")  # uniaxial anisotropy inside the disks (J/m^3)


@dataclass(frozen=True, kw_only=True)
class Update:
    """The synapse's SOT update pulses."""
    current_densities_A_per_m2: tuple[float, ...] = _number("positive")  # tried smallest first (A/m^2)
    max_pulse_s: float = _number("positive")     # longest pulse (s)


@dataclass(frozen=True, kw_only=True)
class SynapseParams:
    """Skyrmion synapse (devices.synapse), config section `synapse`."""
    bits: int = _number("positive")              # 2^bits conductance levels (1)
    material: Material
    cell_m: float = _number("positive")          # in-plane cell size (m)
    skyrmion_pitch_m: float = _number("positive")  # centre-to-centre spacing of the lattice sites (m)
    ensemble: int = _number("positive")          # relaxed states per level (1)
    barrier: Barrier
    pinning: Pinning
    relax_tol_A_per_m: float = _number("positive")  # relaxations stop at max |m x H| below this (A/m)
    mtj: PillarMTJ
    heavy_metal: HeavyMetal
    update: Update
    position_jitter_m: float = _number("nonnegative", 0.0)  # spread of the initial core positions (m)

    @property
    def n_sites(self) -> int:
        """Skyrmions in the device: 2^bits - 1."""
        return 2 ** self.bits - 1

    @classmethod
    def from_config(cls, section: dict) -> SynapseParams:
        """From the config's `synapse` section; ValueError names the key of a bad value."""
        params = _build(cls, section, "synapse")
        if params.material.Ku_J_per_m3 is None:
            raise ValueError("synapse.material.Ku_J_per_m3: missing")
        return params


@dataclass(frozen=True, kw_only=True)
class SynapseThermalParams:
    """Thermal fluctuation of the synapse's states (devices.synapse_thermal), config section `synapse_thermal`."""
    temperature_K: float = _number("positive")   # (K)
    proxy_bits: int = _number("positive")        # bits of the proxy device (1)
    burn_in_s: float = _number("positive")       # stochastic LLG before sampling (s)
    time_s: float = _number("positive")          # sampled time per proxy level (s)
    time_step_s: float = _number("positive")     # fixed step of the stochastic Heun (s)
    sample_every_s: float = _number("positive")  # (s)

    @classmethod
    def from_config(cls, section: dict) -> SynapseThermalParams:
        """From the config's `synapse_thermal` section; ValueError names the key of a bad value."""
        params = _build(cls, section, "synapse_thermal")
        for name in ("burn_in_s", "time_s", "sample_every_s"):
            if getattr(params, name) < params.time_step_s:
                raise ValueError(f"synapse_thermal.{name}: {getattr(params, name):g} s is shorter than time_step_s "
                                 f"{params.time_step_s:g} s")
        return params


@dataclass(frozen=True, kw_only=True)
class Track:
    """Free-layer track of the domain-wall device."""
    length_m: float = _number("positive")        # (m)
    width_m: float = _number("positive")         # (m)


@dataclass(frozen=True, kw_only=True)
class Anisotropy:
    """Ku(x) = min(K0 + a (x - x0)^2, Ku_max), a = a_plus for x >= x0, ratio * a_plus below."""
    K0_J_per_m3: float = _number("positive")     # (J/m^3)
    a_plus_J_per_m5: float = _number("positive")  # curvature of the soft branch (J/m^5)
    x0_m: float = _number("nonnegative")         # vertex (m, from the track's start)
    Ku_max_J_per_m3: float = _number("positive", math.inf)  # cap of the parabola (J/m^3)


@dataclass(frozen=True, kw_only=True)
class Sweep:
    """The input sweep of the domain-wall device."""
    n_points: int = _number("positive")          # inputs, symmetric about 0 (1)
    j_max_A_per_m2: float = _number("positive")  # largest |input current density| (A/m^2)
    tol_A_per_m: float = _number("positive")     # steady state: max |m x (H + H_SOT)| below this (A/m)
    max_time_s: float = _number("positive")      # longest LLG run (s)
    pulse_rise_fraction: float = _number("positive")  # the activation pulse ends at this rise (1)


@dataclass(frozen=True, kw_only=True)
class Read:
    """MTJ read of an activation."""
    voltage_V: float = _number("positive")       # (V)
    time_s: float = _number("positive")          # (s)


@dataclass(frozen=True, kw_only=True)
class DWActivationParams:
    """Domain-wall ReLU / Leaky ReLU (devices.dw_activation), config section `dw_activation`."""
    material: Material
    track: Track
    cell_m: float = _number("positive")          # (m)
    anisotropy: Anisotropy
    relu_curvature_ratio: float = _number("positive")  # a_minus / a_plus of the ReLU (1)
    relu_mtj_offset_m: float = _number("nonnegative")  # the ReLU MTJ covers x >= x0 + this (m)
    lrelu_curvature_ratios: tuple[float, ...] = _number("positive")  # Leaky ReLU settings (1)
    network_lrelu_curvature_ratio: float = _number("positive")  # the setting the network uses (1)
    sweep: Sweep
    mtj: MTJ
    heavy_metal: HeavyMetal
    read: Read

    @property
    def device_settings(self) -> list[tuple[str, float]]:
        """(device, curvature ratio a_minus / a_plus) pairs: the ReLU, then each Leaky ReLU setting."""
        return [("relu", self.relu_curvature_ratio)] + [("lrelu", r) for r in self.lrelu_curvature_ratios]

    @classmethod
    def from_config(cls, section: dict) -> DWActivationParams:
        """From the config's `dw_activation` section; ValueError names the key of a bad value."""
        return _build(cls, section, "dw_activation")


@dataclass(frozen=True, kw_only=True)
class Wire:
    """The metal line over each crossbar cell (word and bit lines alike)."""
    width_m: float = _number("positive")         # (m)
    aspect_ratio: float = _number("positive")    # thickness / width (1)
    resistivity_ohm_m: float = _number("positive")  # with the size effect of this width (ohm m)


@dataclass(frozen=True, kw_only=True)
class CrossbarParams:
    """The crossbar tile the networks are mapped to and its design rule (devices.crossbar), config section
    `crossbar`."""
    tile_rows: int = _number("positive")         # cells on a bit line (1)
    tile_columns: int = _number("positive")      # cells on a word line; a weight is a G+/G- pair of columns (1)
    wire: Wire
    read_voltage_V: float = _number("positive")  # full-scale read voltage of a row (V)
    read_time_s: float = _number("positive")     # (s)
    temperature_K: float = _number("positive")   # operating temperature (K)
    max_ir_drop_fraction: float = _number("positive")  # bound on the worst line's IR drop / V_read (1)

    @classmethod
    def from_config(cls, section: dict) -> CrossbarParams:
        """From the config's `crossbar` section; ValueError names the key of a bad value."""
        return _build(cls, section, "crossbar")


@dataclass(frozen=True, kw_only=True)
class Pulse:
    """A programming pulse: signed amplitude (V; SET > 0, RESET < 0) and duration (s)."""
    amplitude_V: float = _number("any")
    duration_s: float = _number("positive")


@dataclass(frozen=True, kw_only=True)
class RRAMParams:
    """Passive Pt/Al2O3/TiO2-x RRAM crossbar (devices.rram), config section `rram`. Reads use the
    `crossbar` section's read voltage and this section's read time; the range checks against the model are in
    devices.rram."""
    temperature_C: float = _number("any")        # ambient temperature (degC), the model's unit
    g_low_S: float = _number("positive")         # operating window: devices start inside it and
    g_high_S: float = _number("positive")        # w = s (G+ - G-) / (g_high - g_low) (S)
    tile_rows: int = _number("positive")         # cells on a bit line of an RRAM tile (1)
    cell_pitch_m: float = _number("positive")    # 0T1R cell pitch along a line (m)
    read_time_s: float = _number("positive")     # one read of an RRAM tile (s)
    set_pulse: Pulse
    reset_pulse: Pulse
    population: int = _number("positive")        # devices drawn for the tables (1)
    pulses: int = _number("positive")            # pulses per direction in the G-vs-pulse curves (1)

    @classmethod
    def from_config(cls, section: dict) -> RRAMParams:
        """From the config's `rram` section; ValueError names the key of a bad value."""
        return _build(cls, section, "rram")


@dataclass(frozen=True, kw_only=True)
class VCMASweep:
    """The P_sw(V) sweep of the VCMA device stage."""
    pulse_width_s: float = _number("positive")     # rectangular write pulse (s)
    amplitudes_V: tuple[float, ...] = _number("positive")  # pulse amplitudes of the sweep (V)
    trajectories: int = _number("positive")        # independent stochastic trajectories per amplitude (1)
    time_step_s: float = _number("positive")       # stochastic Heun step (s)
    relax_s: float = _number("positive")           # at 0 V after the pulse before the state is read (s)


@dataclass(frozen=True, kw_only=True)
class VCMAVariation:
    """Device-to-device variation: Ki and diameter drawn once per device (Gaussian)."""
    Ki_rel_sigma: float = _number("nonnegative")   # standard deviation of Ki over its mean (1)
    diameter_sigma_m: float = _number("nonnegative")  # (m)
    devices: int = _number("positive")             # devices drawn (1)
    trajectories: int = _number("positive")        # trajectories per device at the operating amplitude (1)


@dataclass(frozen=True, kw_only=True)
class VCMAMTJParams:
    """Voltage-controlled perpendicular MTJ whose free layer is the random bit (devices.vcma), config section
    `vcma_mtj`. A positive voltage across the barrier lowers the interfacial anisotropy."""
    Ms_A_per_m: float = _number("positive")        # free-layer saturation magnetisation (A/m)
    Ki_J_per_m2: float = _number("positive")       # interfacial anisotropy at zero bias (J/m^2)
    xi_J_per_V_m: float = _number("positive")      # VCMA coefficient, the change of Ki per barrier field (J/(V m))
    alpha: float = _number("positive")             # Gilbert damping (1)
    diameter_m: float = _number("positive")        # circular pillar (m)
    t_free_m: float = _number("positive")          # free-layer thickness (m)
    t_barrier_m: float = _number("positive")       # MgO barrier thickness (m)
    bias_field_A_per_m: float = _number("nonnegative")  # in-plane bias field along +x (A/m)
    temperature_K: float = _number("positive")     # (K)
    TMR: float = _number("positive")               # (G_P - G_AP) / G_AP (1)
    RA_ohm_um2: float = _number("positive")        # resistance-area product, parallel state (ohm um^2)
    eps_r_barrier: float = _number("positive")     # relative permittivity of the barrier (1)
    read_voltage_V: float = _number("positive")    # read of the bit after the pulse (V)
    read_time_s: float = _number("positive")       # (s)
    sweep: VCMASweep
    variation: VCMAVariation

    @classmethod
    def from_config(cls, section: dict) -> VCMAMTJParams:
        """From the config's `vcma_mtj` section; ValueError names the key of a bad value."""
        return _build(cls, section, "vcma_mtj")


def _build(cls, section, key: str):
    """cls from the dict `section` (config key `key`), every field checked."""
    if not isinstance(section, dict):
        raise ValueError(f"{key}: must be a mapping, got {section!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(section) - set(fields))
    if unknown:
        raise ValueError(f"{key}: unknown key(s) {unknown}")
    hints = typing.get_type_hints(cls)
    values = {}
    for name, field in fields.items():
        if name not in section:
            if field.default is dataclasses.MISSING:
                raise ValueError(f"{key}.{name}: missing")
            continue
        values[name] = _value(hints[name], field, section[name], f"{key}.{name}")
    return cls(**values)


def _value(hint, field, value, key: str):
    if isinstance(hint, types.UnionType):  # float | None
        hint = next(t for t in typing.get_args(hint) if t is not type(None))
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, key)
    if typing.get_origin(hint) is tuple:
        if not isinstance(value, (list, tuple)) or not value:
            raise ValueError(f"{key}: must be a non-empty list of numbers, got {value!r}")
        return tuple(_number_value(float, field, v, f"{key}[{i}]") for i, v in enumerate(value))
    return _number_value(hint, field, value, key)


def _number_value(kind: type, field, value, key: str):
    if isinstance(value, bool) or not isinstance(value, int if kind is int else (int, float)):
        raise ValueError(f"{key}: must be {'an integer' if kind is int else 'a number'}, got {value!r}")
    check = field.metadata["check"]
    if (not math.isfinite(value) or (check == "positive" and not value > 0)
            or (check == "nonnegative" and not value >= 0)):
        rule = {"positive": "> 0", "nonnegative": ">= 0", "any": "finite"}[check]
        raise ValueError(f"{key}: must be {'finite and ' if check != 'any' else ''}{rule}, got {value!r}")
    return kind(value)
