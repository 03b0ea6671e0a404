"""The RRAM device stage: tables, G-vs-pulse curves and I-V plot of the compact model of devices/rram.py.

- rram_read: one row per state g0 on READ_POINTS log-spaced points over the model window: the mean
  coefficients A1, A3 and their signed device-to-device spreads at rram.temperature_C, the mean current at
  the read voltage (crossbar.read_voltage_V), the standard deviation of that current measured over
  rram.population drawn devices at g0, the Johnson noise of the chord conductance over the read bandwidth
  1 / (2 rram.read_time_s), and the nonlinearity A3 V_read^2 / A1.
- rram_update: one row per direction and switching bin: the configured pulse, the model's mean step D and
  signed spread s there, the standard deviation of the step measured over rram.population devices drawn
  across the bin (each with its own device draw and pulse draw; the step before the model-window clip, so
  that the column measures the model's spread), and V^2 G t_p at the bin's geometric centre.
- pulse_curves.csv: min(rram.population, MAX_CURVE_DEVICES) devices start at rram.g_low_S and take
  rram.pulses SET pulses, then rram.pulses RESET pulses; each device keeps its device draw, every pulse has a
  fresh pulse draw (devices.rram.apply_pulse). Per pulse: mean, standard deviation and 10 / 90 % quantiles,
  the fraction inside the operating window and the fraction held at the model window's floor.
- The design rule of the RRAM tile (devices/crossbar.py): a line of rram.tile_rows cells at the model's top
  conductance, rram.cell_pitch_m apart, under the `crossbar` section's wire and bound. A failing rule stops
  the stage before any file is written (crossbar.DesignRuleError, one line naming rram.tile_rows).

Random draws come from numpy Generators seeded from the config seed, one stream per product, so the
three products do not change each other.
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pandas as pd

from devices import crossbar, rram
from devices.constants import ZERO_CELSIUS_K
from devices.params import CrossbarParams, RRAMParams
from pipeline import io
from pipeline.table_contract import TABLES, write_table

READ_POINTS = 129
MAX_CURVE_DEVICES = 2000
ENGINE = "compact model"
ENGINE_VERSION = "Nili et al. 2020"
MODEL_SOURCE = ("H. Nili et al., IEEE Trans. Nanotechnol. 19, 344 (2020); coefficients as transcribed by "
                "github.com/caixunshiren/pytorch-metal-oxide-memristor-crossbar (docs/rram.md)")
CONVENTIONS = {
    "temperature": "degC in the fitted coefficients A1, A3, sigma_A1, sigma_A3 (their units are per degC)",
    "pulse_duration": "L = ln(t_p / 1 s), the natural log of the duration in seconds",
    "johnson_noise": "sqrt(4 k_B T G df), T in kelvin (temperature_C + 273.15), G the chord conductance I / V, "
                     "df = 1 / (2 read_time_s)",
    "switching_spread": "the model's one spread s split into equal variances: dG = D + s (zeta_device + "
                        "zeta_pulse) / sqrt(2), zeta_device drawn once per device, zeta_pulse per pulse",
    "read_spread": "one draw xi per device scales both spreads: I = (A1 + xi sigma_A1) V + (A3 + xi sigma_A3) V^3",
    "spreads": "signed, as the model's polynomials give them; the standard deviation is the absolute value",
}
DIRECTIONS = ("set", "reset")
N_BINS = len(rram.BIN_EDGES_S) - 1


def check_stage(params: RRAMParams, read_voltage_V: float) -> None:
    """devices.rram.check_params, the read voltage against the model's read range, and enough devices for a
    standard deviation; ValueError names the key."""
    rram.check_params(params)
    if not 0 < read_voltage_V <= rram.READ_RANGE_V:
        raise ValueError(f"crossbar.read_voltage_V: {read_voltage_V:g} V is outside the RRAM model's read range "
                         f"(0, {rram.READ_RANGE_V:g}] V")
    if params.population < 2:
        raise ValueError(f"rram.population: {params.population} device; the tables measure standard deviations "
                         f"and need at least 2")


def tile_crossbar(params: RRAMParams, crossbar_section: dict) -> CrossbarParams:
    """The `crossbar` section's wire, read voltage and IR-drop bound on a square tile of rram.tile_rows lines, at
    the RRAM's temperature and read time."""
    section = {**crossbar_section, "tile_rows": params.tile_rows, "tile_columns": params.tile_rows,
               "temperature_K": params.temperature_C + ZERO_CELSIUS_K, "read_time_s": params.read_time_s}
    return CrossbarParams.from_config(section)


def max_tile_rows(figures: dict) -> int:
    """The largest N with r G N (N + 1) / 2 <= the bound (design_rule's figures)."""
    x = figures["max_ir_drop_fraction"] / (figures["wire_resistance_per_cell_ohm"] * figures["G_max_S"])
    return int(math.floor((math.sqrt(1.0 + 8.0 * x) - 1.0) / 2.0))


def design_rule(params: RRAMParams, crossbar_section: dict) -> dict:
    """The IR-drop design rule of the RRAM tile at the model's top conductance; crossbar.DesignRuleError (one
    line naming rram.tile_rows) when it fails."""
    g_top = rram.MODEL_WINDOW_S[1]
    figures = crossbar.design_rule(tile_crossbar(params, crossbar_section), g_top, params.cell_pitch_m)
    figures["max_tile_rows"] = max_tile_rows(figures)
    if not figures["holds"]:
        raise crossbar.DesignRuleError(
            f"rram.tile_rows: {params.tile_rows} cells on a line at the RRAM model's top conductance "
            f"{g_top * 1e6:.4g} uS drop {figures['ir_drop_fraction']:.3g} of V_read (crossbar.max_ir_drop_fraction "
            f"{figures['max_ir_drop_fraction']:g}, wire {figures['wire_resistance_per_cell_ohm']:.3g} ohm per "
            f"{params.cell_pitch_m:g} m cell); at most {figures['max_tile_rows']} rows hold")
    return figures


def read_frame(params: RRAMParams, read_voltage_V: float, read_time_s: float,
               rng: np.random.Generator) -> pd.DataFrame:
    """The rram_read table (module docstring)."""
    T, V = params.temperature_C, read_voltage_V
    g0 = np.geomspace(*rram.MODEL_WINDOW_S, READ_POINTS)
    a1, a3 = rram.read_coefficients(g0, T)
    s1, s3 = rram.read_spreads(g0, T)
    current = rram.current(V, a1, a3)
    measured = np.empty_like(g0)
    for k, g in enumerate(g0):  # a fresh population at every state
        b1, b3 = rram.read_coefficients(g, T, rng.standard_normal(params.population))
        measured[k] = rram.current(V, b1, b3).std(ddof=1)
    frame = pd.DataFrame({
        "g0_S": g0, "A1_S": a1, "A3_S_per_V2": a3, "sigma_A1_S": s1, "sigma_A3_S_per_V2": s3,
        "read_current_A": current, "d2d_current_std_A": measured,
        "johnson_std_A": rram.johnson_sigma(current / V, T, read_time_s), "nonlinearity": a3 * V ** 2 / a1})
    return frame[TABLES["rram_read"].column_names]


def pulse_of(params: RRAMParams, direction: str):
    return params.set_pulse if direction == "set" else params.reset_pulse


def bin_centre_S(b: int) -> float:
    """Geometric centre (S) of switching bin b."""
    return float(math.sqrt(rram.BIN_EDGES_S[b] * rram.BIN_EDGES_S[b + 1]))


def update_frame(params: RRAMParams, rng: np.random.Generator) -> pd.DataFrame:
    """The rram_update table (module docstring)."""
    rows, n = [], params.population
    for direction in DIRECTIONS:
        pulse = pulse_of(params, direction)
        V, t = pulse.amplitude_V, pulse.duration_s
        for b in range(N_BINS):
            lo, hi = float(rram.BIN_EDGES_S[b]), float(rram.BIN_EDGES_S[b + 1])
            centre = bin_centre_S(b)
            mean, spread = rram.switching_step(centre, V, t)
            g0 = np.minimum(np.exp(rng.uniform(math.log(lo), math.log(hi), n)), np.nextafter(hi, 0.0))
            steps = rram.pulse_step(g0, V, t, rng.standard_normal(n), rng.standard_normal(n))
            rows.append({"direction": direction, "bin": b, "g_low_S": lo, "g_high_S": hi, "amplitude_V": V,
                         "duration_s": t, "delta_mean_S": float(mean), "delta_spread_S": float(spread),
                         "delta_std_measured_S": float(steps.std(ddof=1)), "energy_per_pulse_J": V ** 2 * centre * t})
    return pd.DataFrame(rows).astype({"bin": int})[TABLES["rram_update"].column_names]


def window_bins(params: RRAMParams) -> list[int]:
    """The switching bins that overlap the operating window [g_low, g_high] (more than at an edge)."""
    edges = rram.BIN_EDGES_S
    return [b for b in range(N_BINS) if edges[b] < params.g_high_S and edges[b + 1] > params.g_low_S]


def reversed_fraction(mean: float, spread: float) -> float:
    """Fraction of devices whose own mean step (D + s zeta_device / sqrt(2)) has the opposite sign of D:
    Phi(-sqrt(2) |D| / |s|)."""
    if spread == 0 or mean == 0:
        return 0.0
    return 0.5 * math.erfc(abs(mean) / abs(spread))  # Phi(-x) = erfc(x / sqrt(2)) / 2 with x = sqrt(2) |D| / |s|


def common_fitted(params: RRAMParams, read_voltage_V: float, read_time_s: float, seed: int,
                  rule: dict, update: pd.DataFrame) -> dict:
    """The sidecar figures both RRAM tables carry."""
    T = params.temperature_C
    window_current = rram.current(read_voltage_V, *rram.read_coefficients(np.array([params.g_low_S,
                                                                                  params.g_high_S]), T))
    bins = window_bins(params)
    steps = update.set_index(["direction", "bin"])
    return {
        "model": MODEL_SOURCE,
        "temperature_C": T, "temperature_K": T + ZERO_CELSIUS_K,
        "read_voltage_V": read_voltage_V, "read_time_s": read_time_s, "read_bandwidth_Hz": 1.0 / (2.0 * read_time_s),
        "operating_window": {"g_low_S": params.g_low_S, "g_high_S": params.g_high_S,
                             "on_off_ratio": params.g_high_S / params.g_low_S,
                             "read_current_A": [float(i) for i in window_current], "bins": bins},
        "pulses": {d: {"amplitude_V": pulse_of(params, d).amplitude_V, "duration_s": pulse_of(params, d).duration_s}
                   for d in DIRECTIONS},
        "mean_step_in_window_S": {d: {str(b): float(steps.loc[(d, b), "delta_mean_S"]) for b in bins}
                                  for d in DIRECTIONS},
        "spread_in_window_S": {d: {str(b): float(steps.loc[(d, b), "delta_spread_S"]) for b in bins}
                               for d in DIRECTIONS},
        "devices_with_reversed_mean_step": {
            d: {str(b): reversed_fraction(steps.loc[(d, b), "delta_mean_S"], steps.loc[(d, b), "delta_spread_S"])
                for b in bins} for d in DIRECTIONS},
        "model_window_S": list(rram.MODEL_WINDOW_S), "bin_edges_S": rram.BIN_EDGES_S.tolist(),
        "model_ranges": {"read_V": rram.READ_RANGE_V, "pulse_duration_s": list(rram.PULSE_DURATION_RANGE_S),
                         "set_amplitude_V": list(rram.SET_RANGE_V), "reset_amplitude_V": list(rram.RESET_RANGE_V)},
        "crossbar_design_rule": {"tile_rows": params.tile_rows, "tile_columns": params.tile_rows, **rule},
        "conventions": CONVENTIONS, "population": params.population, "seed": seed,
    }


def read_fitted(read: pd.DataFrame, read_voltage_V: float, population: int) -> dict:
    """Sidecar figures of rram_read: the measured spread against the model's (in standard errors of a standard
    deviation, sigma / sqrt(2 (n - 1))), and the ranges of the noise and nonlinearity columns."""
    V = read_voltage_V
    model = np.abs(read["sigma_A1_S"] * V + read["sigma_A3_S_per_V2"] * V ** 3).to_numpy()
    measured = read["d2d_current_std_A"].to_numpy()
    spread = model > 0
    error = np.abs(measured - model)[spread] / (model[spread] / math.sqrt(2.0 * (population - 1)))
    relative = read["d2d_current_std_A"] / read["read_current_A"]
    smallest = int(np.argmin(model))
    return {"d2d_std_model": "|sigma_A1 V_read + sigma_A3 V_read^3|",
            "d2d_std_max_deviation_in_sampling_errors": float(error.max()) if error.size else 0.0,
            "d2d_std_over_current": [float(relative.min()), float(relative.max())],
            "d2d_std_smallest_at_g0_S": float(read["g0_S"].iloc[smallest]),
            "johnson_over_d2d_std": [float((read["johnson_std_A"] / measured).min()),
                                     float((read["johnson_std_A"] / measured).max())],
            "johnson_over_current": [float((read["johnson_std_A"] / read["read_current_A"]).min()),
                                     float((read["johnson_std_A"] / read["read_current_A"]).max())],
            "nonlinearity_range": [float(read["nonlinearity"].min()), float(read["nonlinearity"].max())]}


def update_fitted(update: pd.DataFrame, population: int) -> dict:
    """Sidecar figures of rram_update: the measured spread against |s| (in standard errors), s / D per bin."""
    model = update["delta_spread_S"].abs().to_numpy()
    measured = update["delta_std_measured_S"].to_numpy()
    moved = model > 0
    error = np.abs(measured - model)[moved] / (model[moved] / math.sqrt(2.0 * (population - 1)))
    return {"delta_std_model": "|delta_spread_S|",
            "delta_std_max_deviation_in_sampling_errors": float(error.max()) if error.size else 0.0,
            "spread_over_mean": {d: update[update["direction"] == d].set_index("bin").eval(
                "delta_spread_S / delta_mean_S").astype(float).round(4).to_dict() for d in DIRECTIONS}}


def pulse_curves(params: RRAMParams, rng: np.random.Generator) -> pd.DataFrame:
    """G over min(population, MAX_CURVE_DEVICES) devices: rram.pulses SET pulses from g_low, then rram.pulses
    RESET pulses; one row per pulse (pulse 0: the start)."""
    n = min(params.population, MAX_CURVE_DEVICES)
    devices = rram.Population.draw(np.full(n, params.g_low_S), rng)
    g = devices.g0.copy()
    rows = [_curve_row(0, "start", g, params)]
    k = 0
    for direction in DIRECTIONS:
        pulse = pulse_of(params, direction)
        for _ in range(params.pulses):
            g = rram.apply_pulse(g, pulse.amplitude_V, pulse.duration_s, devices.zeta_switch, rng.standard_normal(n))
            k += 1
            rows.append(_curve_row(k, direction, g, params))
    return pd.DataFrame(rows)


def _curve_row(k: int, direction: str, g: np.ndarray, params: RRAMParams) -> dict:
    q10, q90 = np.quantile(g, [0.1, 0.9])
    return {"pulse": k, "direction": direction, "G_mean_S": float(g.mean()), "G_std_S": float(g.std(ddof=1)),
            "G_q10_S": float(q10), "G_q90_S": float(q90),
            "in_window_fraction": float(np.mean((g >= params.g_low_S) & (g <= params.g_high_S))),
            "at_model_floor_fraction": float(np.mean(g <= rram.MODEL_WINDOW_S[0]))}


def curve_figures(curves: pd.DataFrame, params: RRAMParams) -> dict:
    """The G-vs-pulse curves in a few numbers: the state after the SET and after the RESET train."""
    end_set = curves[curves["direction"] == "set"].iloc[-1]
    end_reset = curves.iloc[-1]
    return {"devices": int(min(params.population, MAX_CURVE_DEVICES)), "pulses_per_direction": params.pulses,
            "start_S": params.g_low_S,
            "after_set": {k: float(end_set[k]) for k in ("G_mean_S", "G_std_S", "G_q10_S", "G_q90_S",
                                                        "in_window_fraction", "at_model_floor_fraction")},
            "after_reset": {k: float(end_reset[k]) for k in ("G_mean_S", "G_std_S", "G_q10_S", "G_q90_S",
                                                            "in_window_fraction", "at_model_floor_fraction")}}


def generators(seed: int) -> dict[str, np.random.Generator]:
    """One Generator per product, from the config seed."""
    children = np.random.SeedSequence(seed).spawn(3)
    return {name: np.random.default_rng(child) for name, child in zip(("read", "update", "curves"), children)}


def build_tables(params: RRAMParams, crossbar_section: dict, seed: int, tables_dir, provenance: dict) -> dict:
    """Check the parameters and the tile's design rule, build the two RRAM tables and write them to tables_dir
    under the table contract; returns {"read": frame, "update": frame, "fitted": common figures}."""
    read_V, read_t = crossbar_section["read_voltage_V"], params.read_time_s
    check_stage(params, read_V)
    rule = design_rule(params, crossbar_section)
    rngs = generators(seed)
    read = read_frame(params, read_V, read_t, rngs["read"])
    update = update_frame(params, rngs["update"])
    fitted = common_fitted(params, read_V, read_t, seed, rule, update)
    for name, frame, extra in [("rram_read", read, read_fitted(read, read_V, params.population)),
                               ("rram_update", update, update_fitted(update, params.population))]:
        write_table(tables_dir, name, frame, fitted={**fitted, **extra}, engine=ENGINE, engine_version=ENGINE_VERSION,
                    provenance=provenance)
    return {"read": read, "update": update, "fitted": fitted}


def run_stage(params: RRAMParams, crossbar_section: dict, seed: int, outdir, tables_dir, provenance: dict) -> dict:
    """The whole stage: the two tables into tables_dir; pulse_curves.csv, pulse_curves.png, iv.png and run.json
    into outdir. Returns the run record (run.json)."""
    start = time.perf_counter()
    outdir = Path(outdir)
    built = build_tables(params, crossbar_section, seed, tables_dir, provenance)
    curves = pulse_curves(params, generators(seed)["curves"])
    io.write_csv(outdir / "pulse_curves.csv", curves)
    plot_pulse_curves(outdir / "pulse_curves.png", curves, params)
    plot_iv(outdir / "iv.png", params, crossbar_section["read_voltage_V"])
    run = {"engine": ENGINE, "engine_version": ENGINE_VERSION, "model": MODEL_SOURCE, "seed": seed,
           "population": params.population, "read_points": READ_POINTS, "curves": curve_figures(curves, params),
           "mean_step_in_window_S": built["fitted"]["mean_step_in_window_S"],
           "crossbar_design_rule": built["fitted"]["crossbar_design_rule"],
           "wall_time_s": time.perf_counter() - start}
    io.write_json(outdir / "run.json", run)
    return run


def plot_pulse_curves(path, curves: pd.DataFrame, params: RRAMParams) -> None:
    """Mean G against pulse number with the 10-90 % band, SET then RESET, the operating window marked."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4))
    start = curves.iloc[:1]
    for direction, colour in (("set", "tab:red"), ("reset", "tab:blue")):
        part = pd.concat([start if direction == "set" else curves[curves["direction"] == "set"].iloc[-1:],
                          curves[curves["direction"] == direction]])
        ax.fill_between(part["pulse"], part["G_q10_S"] * 1e6, part["G_q90_S"] * 1e6, color=colour, alpha=0.2,
                        lw=0, label=f"{direction}: 10-90 %")
        ax.plot(part["pulse"], part["G_mean_S"] * 1e6, color=colour,
                label=f"{direction} {pulse_of(params, direction).amplitude_V:+g} V, "
                      f"{pulse_of(params, direction).duration_s:g} s: mean")
    ax.axhspan(params.g_low_S * 1e6, params.g_high_S * 1e6, color="0.85", zorder=0, label="operating window")
    ax.set_xlabel("pulse")
    ax.set_ylabel("G (uS)")
    ax.set_title(f"{int(min(params.population, MAX_CURVE_DEVICES))} devices, {params.temperature_C:g} degC")
    ax.set_ylim(0, None)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    io.save_figure(path, fig)


def iv_conductances(params: RRAMParams) -> list[float]:
    """The three states of the I-V plot: the window's ends and its geometric centre (S)."""
    return [params.g_low_S, math.sqrt(params.g_low_S * params.g_high_S), params.g_high_S]


def plot_iv(path, params: RRAMParams, read_voltage_V: float) -> None:
    """Noise-free I(V) over the model's read range at three states, with the device-to-device band (+-1 sigma)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    v = np.linspace(-rram.READ_RANGE_V, rram.READ_RANGE_V, 161)
    fig, ax = plt.subplots(figsize=(6, 4))
    for g0 in iv_conductances(params):
        a1, a3 = rram.read_coefficients(g0, params.temperature_C)
        s1, s3 = rram.read_spreads(g0, params.temperature_C)
        i = rram.current(v, a1, a3)
        band = np.abs(rram.current(v, s1, s3))
        line, = ax.plot(v, i * 1e6, label=f"G0 = {g0 * 1e6:.3g} uS")
        ax.fill_between(v, (i - band) * 1e6, (i + band) * 1e6, color=line.get_color(), alpha=0.2, lw=0)
    ax.axvline(read_voltage_V, color="0.5", ls=":", label=f"V_read = {read_voltage_V:g} V")
    ax.set_xlabel("V (V)")
    ax.set_ylabel("I (uA)")
    ax.set_title(f"I = A1 V + A3 V^3 at {params.temperature_C:g} degC; band: device-to-device +-1 sigma")
    ax.legend(fontsize=8)
    io.save_figure(path, fig)
