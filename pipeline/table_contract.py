"""The device tables, the one hand-off from devices/ (writer) to system/ (reader).

Each table <name> is three files in one folder: <name>.csv, <name>.parquet (what system/ reads) and a
<name>.json sidecar with the keys SIDECAR_KEYS: table (its name), units (per column, as in TABLES),
definitions (how the columns are computed), fitted (fitted parameters, keyed by setting_key per
device setting where there are several), engine and engine_version (the micromagnetic engine of the
stage, or the compact model of an RRAM table), provenance (config hash, git commit, ...). Units are SI;
"1" is dimensionless; a text column lists its allowed values ("relu|lrelu").

Three families: the magnetic tables (MAGNETIC_TABLE_NAMES, written by the rule `tables` from the
micromagnetic stages, read by the DCGAN), the RRAM tables (RRAM_TABLE_NAMES, written by the rule
`rram_device` from the compact model of devices/rram.py) and the VCMA MTJ tables (VCMA_TABLE_NAMES, written
by the rule `vcma_device` from the macrospin of devices/vcma.py). TABLE_NAMES holds all.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline import io

SUFFIXES = ("csv", "parquet", "json")
SIDECAR_KEYS = ("table", "units", "definitions", "fitted", "engine", "engine_version", "provenance")
DTYPES = ("int", "float", "str")


class TableError(ValueError):
    """A device table file is missing or breaks the contract; the message names the file and the column or key."""


@dataclass(frozen=True)
class Column:
    """One column: name, unit (SI, "1", or the allowed values of a text column) and dtype ("int", "float", "str")."""
    name: str
    unit: str
    dtype: str


@dataclass(frozen=True)
class Table:
    """One table: its name, how its columns are computed, its columns in order, and the rule that writes it."""
    name: str
    definitions: str
    columns: tuple[Column, ...]
    rule: str = "tables"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def units(self) -> dict[str, str]:
        return {c.name: c.unit for c in self.columns}


def _columns(*spec: tuple[str, str, str]) -> tuple[Column, ...]:
    return tuple(Column(*c) for c in spec)


TABLES = {t.name: t for t in (
    Table("synapse_levels",
          "one row per level: mean over the ensemble of relaxed states; resistance = 1 / conductance; "
          "conductance_std_S the ensemble spread",
          _columns(("level", "1", "int"), ("n_skyrmions", "1", "int"), ("mz_mean", "1", "float"),
                   ("conductance_S", "S", "float"), ("resistance_ohm", "ohm", "float"),
                   ("conductance_std_S", "S", "float"))),
    Table("synapse_thermal",
          "one row per level of the full synapse (devices/synapse_thermal.py): conductance_S as in synapse_levels; "
          "thermal_std_S = sqrt(k var_core + (N - k) var_empty), N the pillars, var_core and var_empty the variances "
          "of a pillar over a core and over the uniform film from stochastic LLG at synapse_thermal.temperature_K on "
          "the proxy device (sidecar fitted); thermal_std_read_S the same for the mean over a read of "
          "crossbar.read_time_s; thermal_shift_S = k shift_core + (N - k) shift_empty, the mean conductance at "
          "temperature minus the relaxed state's; level_gap_S = |G(k + 1) - G(k)| (the top level: to the one "
          "below); read_std_over_gap = thermal_std_read_S / level_gap_S",
          _columns(("level", "1", "int"), ("conductance_S", "S", "float"), ("thermal_std_S", "S", "float"),
                   ("thermal_std_read_S", "S", "float"), ("thermal_shift_S", "S", "float"),
                   ("level_gap_S", "S", "float"),
                   ("read_std_over_gap", "1", "float")),
          rule="synapse_thermal"),
    Table("synapse_update",
          "least-energy successful SOT pulse per direction and level step (NaN where none succeeded); "
          "energy = rho J^2 V_HM t_pulse",
          _columns(("direction", "potentiation|depression", "str"), ("from_level", "1", "int"),
                   ("to_level", "1", "int"), ("current_density_A_m2", "A/m^2", "float"), ("pulse_s", "s", "float"),
                   ("energy_J", "J", "float"))),
    Table("activation_transfer",
          "one row per device setting and input: output = (G - G(j=0)) / (G(j_max) - G(j=0)); "
          "current_A = J width t_HM",
          _columns(("device", "relu|lrelu", "str"), ("curvature_ratio", "1", "float"),
                   ("current_density_A_m2", "A/m^2", "float"), ("current_A", "A", "float"),
                   ("dw_position_m", "m", "float"), ("conductance_S", "S", "float"), ("output", "1", "float"))),
    Table("activation_energy",
          "one row per device setting: drive = mean over j > 0 of rho J^2 V_HM t_pulse; read = V^2 G t_read; "
          "total = drive + read; threshold = the fitted threshold current density over max |j| of the sweep "
          "(0 where it is negative), in [0, 1); bias_energy_J = the extra drive energy of a bias input "
          "threshold that puts the knee at zero input: drive (theta^2 + 2 theta <u>) / <u^2> over the positive "
          "sweep points u = j / max |j|",
          _columns(("device", "relu|lrelu", "str"), ("curvature_ratio", "1", "float"), ("drive_energy_J", "J", "float"),
                   ("read_energy_J", "J", "float"), ("total_J", "J", "float"), ("threshold", "1", "float"),
                   ("bias_energy_J", "J", "float"))),
    Table("rram_read",
          "one row per state g0 on 129 log-spaced points over the model window of devices/rram.py; "
          "I(V) = A1 V + A3 V^3 with A1, A3 the means at rram.temperature_C (degC) and sigma_A1, sigma_A3 the "
          "signed device-to-device spreads (A = mean + xi sigma, xi ~ N(0, 1) per device); read_current_A = "
          "I(V_read) of the mean device, V_read = crossbar.read_voltage_V; d2d_current_std_A = the standard "
          "deviation of I(V_read) over rram.population drawn devices at that g0 (model: |sigma_A1 V_read + "
          "sigma_A3 V_read^3|); johnson_std_A = sqrt(4 k_B T G df) of the chord conductance G = "
          "read_current_A / V_read, T in kelvin, df = 1 / (2 crossbar.read_time_s); nonlinearity = "
          "A3 V_read^2 / A1",
          _columns(("g0_S", "S", "float"), ("A1_S", "S", "float"), ("A3_S_per_V2", "S/V^2", "float"),
                   ("sigma_A1_S", "S", "float"), ("sigma_A3_S_per_V2", "S/V^2", "float"),
                   ("read_current_A", "A", "float"), ("d2d_current_std_A", "A", "float"),
                   ("johnson_std_A", "A", "float"), ("nonlinearity", "1", "float")),
          rule="rram_device"),
    Table("rram_update",
          "one row per direction and switching bin [g_low_S, g_high_S) of devices/rram.py: the configured pulse "
          "(rram.set_pulse / rram.reset_pulse), the model's mean step D and signed spread s of that pulse in "
          "that bin (dG = D + s (zeta_device + zeta_pulse) / sqrt(2)); delta_std_measured_S = the standard "
          "deviation of the step over rram.population devices, each with its own device and pulse draw "
          "(the step before the model-window clip; model: |s|); energy_per_pulse_J = V^2 G t_p at the bin's "
          "geometric-centre conductance G",
          _columns(("direction", "set|reset", "str"), ("bin", "1", "int"), ("g_low_S", "S", "float"),
                   ("g_high_S", "S", "float"), ("amplitude_V", "V", "float"), ("duration_s", "s", "float"),
                   ("delta_mean_S", "S", "float"), ("delta_spread_S", "S", "float"),
                   ("delta_std_measured_S", "S", "float"), ("energy_per_pulse_J", "J", "float")),
          rule="rram_device"),
    Table("vcma_switching",
          "one row per pulse amplitude of vcma_mtj.sweep (devices/vcma_tables.py): of `trajectories` macrospin "
          "trajectories at vcma_mtj.temperature_K, each started from the Boltzmann distribution of the upper well "
          "at rest, `switched` end in the lower well after a rectangular pulse of pulse_width_s and "
          "sweep.relax_s at 0 V; p_sw = switched / trajectories with its Wilson 95 % interval (ci_low, ci_high); "
          "p_fit = the sigmoid P = F(b0 + b1 V) (logistic or Gumbel, the lower deviance; sidecar fitted.fit) fitted by "
          "binomial maximum likelihood, with its pointwise 95 % band "
          "(fit_band_low, fit_band_high) from the fit's covariance; bit_energy_J = C V^2 + V^2 G_P t_p + "
          "V_read^2 G_P t_read of one write and read",
          _columns(("amplitude_V", "V", "float"), ("pulse_width_s", "s", "float"), ("trajectories", "1", "int"),
                   ("switched", "1", "int"), ("p_sw", "1", "float"), ("ci_low", "1", "float"),
                   ("ci_high", "1", "float"), ("p_fit", "1", "float"), ("fit_band_low", "1", "float"),
                   ("fit_band_high", "1", "float"), ("bit_energy_J", "J", "float")),
          rule="vcma_device"),
    Table("vcma_devices",
          "one row per device drawn with vcma_mtj.variation (Ki and diameter Gaussian, drawn once): its thermal "
          "stability at rest in the bias field, and at the operating amplitude (the nominal device's fitted V50) "
          "`switched` of `trajectories` trajectories, p_sw with its Wilson 95 % interval; v50_V = the device's own "
          "50 % point estimated from p_sw with the nominal fit's sigmoid and width (p_sw clipped to "
          "[1 / 2n, 1 - 1 / 2n])",
          _columns(("device", "1", "int"), ("Ki_J_per_m2", "J/m^2", "float"), ("diameter_m", "m", "float"),
                   ("stability", "1", "float"), ("operating_V", "V", "float"), ("trajectories", "1", "int"),
                   ("switched", "1", "int"), ("p_sw", "1", "float"), ("ci_low", "1", "float"),
                   ("ci_high", "1", "float"), ("v50_V", "V", "float")),
          rule="vcma_device"),
)}
TABLE_NAMES = tuple(TABLES)  # every table
MAGNETIC_TABLE_NAMES = tuple(name for name, table in TABLES.items() if table.rule == "tables")  # the DCGAN's four
RRAM_TABLE_NAMES = tuple(name for name, table in TABLES.items() if table.rule == "rram_device")
VCMA_TABLE_NAMES = tuple(name for name, table in TABLES.items() if table.rule == "vcma_device")


def setting_key(device: str, curvature_ratio: float) -> str:
    """The name of a device setting in sidecar keys, e.g. "lrelu_5" for ("lrelu", 5.0)."""
    return f"{device}_{float(curvature_ratio):g}"


def table_path(directory, name: str, suffix: str) -> Path:
    """<directory>/<name>.<suffix>."""
    return Path(directory) / f"{name}.{suffix}"


def _dtype_ok(series: pd.Series, dtype: str) -> bool:
    if dtype == "int":
        return pd.api.types.is_integer_dtype(series)
    if dtype == "float":
        return pd.api.types.is_float_dtype(series) or pd.api.types.is_integer_dtype(series)
    return pd.api.types.is_string_dtype(series) and series.map(lambda v: isinstance(v, str)).all()


def check_frame(name: str, frame: pd.DataFrame, where) -> None:
    """Raise TableError (naming `where`) unless frame has exactly the columns of table `name`, in order,
    each of its dtype."""
    table = TABLES[name]
    expected = table.column_names
    missing = [c for c in expected if c not in frame.columns]
    if missing:
        raise TableError(f"{where} lacks column(s) {missing}; has {list(frame.columns)}")
    if list(frame.columns) != expected:
        raise TableError(f"{where} has columns {list(frame.columns)}; the contract of {name} is {expected}")
    for column in table.columns:
        if not _dtype_ok(frame[column.name], column.dtype):
            raise TableError(f"{where}: column {column.name} is {frame[column.name].dtype}, not {column.dtype}")


def write_table(directory, name: str, frame: pd.DataFrame, *, fitted: dict, engine: str, engine_version: str,
                provenance: dict) -> None:
    """Check frame against the contract of table `name`, then write its CSV, Parquet and JSON sidecar
    (module docstring) into directory, each atomically."""
    check_frame(name, frame, f"table {name} to be written to {directory}")
    table = TABLES[name]
    io.write_csv(table_path(directory, name, "csv"), frame)
    io.write_parquet(table_path(directory, name, "parquet"), frame)
    io.write_json(table_path(directory, name, "json"), {
        "table": name, "units": table.units, "definitions": table.definitions, "fitted": fitted,
        "engine": engine, "engine_version": engine_version, "provenance": provenance})


def read_table(directory, name: str) -> tuple[pd.DataFrame, dict]:
    """(frame from <name>.parquet, sidecar dict from <name>.json), both checked against the contract;
    TableError names the file and the missing or mismatched column or key."""
    parquet, sidecar_path = table_path(directory, name, "parquet"), table_path(directory, name, "json")
    for path in (parquet, sidecar_path):
        if not path.is_file():
            raise TableError(f"device table file missing: {path} (written by the {TABLES[name].rule} rule)")
    frame = pd.read_parquet(parquet)
    check_frame(name, frame, parquet)
    if frame.empty:
        raise TableError(f"{parquet} has no rows")
    try:
        sidecar = json.loads(sidecar_path.read_text())
    except json.JSONDecodeError as error:
        raise TableError(f"{sidecar_path} is not valid JSON ({error})") from None
    absent = [k for k in SIDECAR_KEYS if k not in sidecar]
    if absent:
        raise TableError(f"{sidecar_path} lacks key(s) {absent}")
    if sidecar["table"] != name:
        raise TableError(f"{sidecar_path}: table is {sidecar['table']!r}, not {name!r}")
    wrong = {c: u for c, u in TABLES[name].units.items() if sidecar["units"].get(c) != u}
    if wrong:
        raise TableError(f"{sidecar_path}: units of {sorted(wrong)} are not the contract's {wrong}")
    return frame, sidecar
