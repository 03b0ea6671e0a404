"""Device lookup tables: fits of the raw stage outputs, written under the contract of pipeline.table_contract.

- synapse_levels: one row per level; mean over the ensemble, conductance_std_S its spread.
- synapse_update: one row per direction and level step: the successful pulse of least energy
  (NaN where no configured current succeeded within max_pulse_s; all tried pulses in the sidecar).
- activation_transfer: one row per device, curvature ratio and input; output = (G - G(0)) /
  (G(j_max) - G(0)), so the positive branch reaches 1 at j_max and negative inputs give output < 0.
- activation_energy: per device and curvature ratio. Drive energy: mean over the positive half of
  the sweep of rho J^2 V_HM t_pulse, with t_pulse the activation pulse of the stage's run.json
  (the rise time of the wall at the largest input); read energy: V_read^2 G t_read at the mean conductance over the same inputs;
  total = drive + read. threshold: the fitted threshold of the transfer curve as a fraction of the
  sweep's largest input (0 where negative); bias_energy_J: the extra Joule energy of a bias input of
  that size, which puts the knee at zero input (the network's ReLU runs with it).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from devices import crossbar, mtj
from devices.params import CrossbarParams
from pipeline.table_contract import TABLES, setting_key, write_table

WORKING_OUTPUT = 0.05  # transfer_fit: the working range starts where the output reaches this
# Published device energies the tables are set beside: the hybrid CMOS-spintronic DCGAN that the project
# reproduces, and the predecessor 64-state skyrmion synapse it builds on
REFERENCE_UPDATE_J = 0.87e-15      # per state update, the predecessor 64-state skyrmion synapse
REFERENCE_ACTIVATION_J = 0.192e-12  # per activation, the tunable Leaky ReLU of the reference work


def build_tables(synapse_dir: Path, dw_dir: Path, synapse_params: dict, dw_params: dict, crossbar_params: dict,
                 outdir: Path, provenance: dict) -> None:
    """Read the two stages' outputs, fit, check the crossbar design rule (crossbar.DesignRuleError before any
    table is written), and write the four tables with sidecars to outdir."""
    synapse_dir, dw_dir, outdir = Path(synapse_dir), Path(dw_dir), Path(outdir)
    syn_run = json.loads((synapse_dir / "run.json").read_text())
    dw_run = json.loads((dw_dir / "run.json").read_text())
    levels, levels_fit = synapse_levels(pd.read_csv(synapse_dir / "levels.csv"))
    geom = syn_run["geometry"]
    levels_fit["crossbar_design_rule"] = crossbar.check(CrossbarParams.from_config(crossbar_params),
                                                        levels_fit["G_max_S"], geom["length_m"], geom["mtj_area_m2"])
    levels_fit["read_time_rule"] = crossbar.read_time_rule(CrossbarParams.from_config(crossbar_params),
                                                           levels["conductance_S"])
    levels_fit.update(readout_figures(levels, syn_run))
    update_raw = pd.read_csv(synapse_dir / "update.csv")
    update = synapse_update(update_raw)
    transfer, transfer_fit = activation_transfer(pd.read_csv(dw_dir / "transfer.csv"))
    energy = activation_energy(pd.read_csv(dw_dir / "transfer.csv"), dw_params, dw_run["pulse_s"], transfer_fit)
    update_fit = {"tried": update_raw.to_dict(orient="records"),
                  "heavy_metal_volume_m3": syn_run.get("lane", {}).get("heavy_metal_volume_m3"),
                  **beside_reference(update.set_index("direction")["energy_J"], REFERENCE_UPDATE_J),
                  "potentiation_over_depression": _ratio(update, "potentiation", "depression")}
    settings = [setting_key(d, r) for d, r in zip(energy["device"], energy["curvature_ratio"])]
    energy_fit = {"representative_input": "mean over the positive half of the sweep (j > 0)",
                  "pulse_s": dw_run["pulse_s"], "pulse_definition": dw_run["pulse_definition"],
                  "heavy_metal_volume_m3": heavy_metal_volume_m3(dw_params),
                  "read_voltage_V": dw_params["read"]["voltage_V"], "read_time_s": dw_params["read"]["time_s"],
                  **beside_reference(pd.Series(energy["total_J"].to_numpy(), index=settings), REFERENCE_ACTIVATION_J)}
    for name, frame, fit, run in [("synapse_levels", levels, levels_fit, syn_run),
                                  ("synapse_update", update, update_fit, syn_run),
                                  ("activation_transfer", transfer, transfer_fit, dw_run),
                                  ("activation_energy", energy, energy_fit, dw_run)]:
        write_table(outdir, name, frame[TABLES[name].column_names], fitted=fit, engine=run["engine"],
                    engine_version=run["engine_version"], provenance=provenance)


def synapse_levels(raw: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Ensemble means per level, resistance and spread; fit: G range, on/off, nonlinearity, spread."""
    grouped = raw.groupby("level")
    table = pd.DataFrame({
        "level": grouped.size().index.astype(int),
        "n_skyrmions": grouped["n_skyrmions"].agg(lambda s: int(s.mode().iloc[0])).to_numpy(),
        "mz_mean": grouped["mz_mean"].mean().to_numpy(),
        "conductance_S": grouped["conductance_S"].mean().to_numpy(),
        "conductance_std_S": grouped["conductance_S"].std(ddof=0).to_numpy(),
    })
    table["resistance_ohm"] = 1.0 / table["conductance_S"]
    G = table["conductance_S"].to_numpy()
    g_min, g_max = float(G.min()), float(G.max())
    line = np.linspace(G[0], G[-1], len(G))
    span = g_max - g_min
    fit = {"G_min_S": g_min, "G_max_S": g_max, "on_off_ratio": g_max / g_min,
           "level_nonlinearity": float(np.abs(G - line).max() / span) if span > 0 else float("nan"),
           "monotonic": bool(np.all(np.diff(G) < 0) or np.all(np.diff(G) > 0)),
           "spread_per_level_S": table["conductance_std_S"].tolist(),
           "max_relative_spread": float(table["conductance_std_S"].max() / span) if span > 0 else float("nan"),
           "n_skyrmions_match_level": bool((table["n_skyrmions"] == table["level"]).all()),
           "ensemble_size": int(grouped.size().max()),
           **level_separation(raw), **charge_check(raw)}
    return table, fit


def readout_figures(levels: pd.DataFrame, syn_run: dict) -> dict:
    """Dynamic range (G_max - G_min) / G_max, strict monotonicity, the pillars' coverage and the core radius."""
    G = levels.sort_values("level")["conductance_S"].to_numpy()
    geom = syn_run["geometry"]
    site_area = geom["pitch_m"] ** 2
    return {"dynamic_range": float((G.max() - G.min()) / G.max()),
            "strictly_monotonic": bool(np.all(np.diff(G) < 0) or np.all(np.diff(G) > 0)),
            "mtj_area_m2": geom["mtj_area_m2"], "mtj_pillars": geom["n_rows"] * geom["n_cols"],
            "mtj_coverage_of_lattice": geom["mtj_area_m2"] / (geom["n_rows"] * geom["n_cols"] * site_area),
            "skyrmion_radius_m": syn_run.get("skyrmion_radius_m")}


def level_separation(raw: pd.DataFrame) -> dict:
    """Smallest gap between neighbouring ensemble-mean levels (S) against the spread of either level.

    Spread of a level: its ensemble standard deviation, and its full range (max - min, the stricter).
    Ratios are gap / the larger spread of the two levels, minimised over neighbour pairs (inf when
    no level spreads).
    """
    G = raw.groupby("level")["conductance_S"]
    gaps = np.abs(np.diff(G.mean().sort_index().to_numpy()))
    if gaps.size == 0:
        return {}
    std = G.std(ddof=0).sort_index().to_numpy()
    full_range = (G.max() - G.min()).sort_index().to_numpy()

    def min_ratio(spread):
        worst = np.maximum(spread[:-1], spread[1:])
        return float(np.min(np.where(worst > 0, gaps / np.where(worst > 0, worst, 1.0), np.inf)))
    return {"min_level_gap_S": float(gaps.min()), "min_gap_level": int(G.mean().sort_index().index[gaps.argmin()]),
            "min_gap_over_std": min_ratio(std), "min_gap_over_range": min_ratio(full_range)}


def charge_check(raw: pd.DataFrame) -> dict:
    """Per relaxed state, whether it holds exactly k cores under the MTJ, and the largest deviation of
    |topological charge| (counted away from free edges) from k, per skyrmion (for k = 0: |Q| itself)."""
    if "topological_charge" not in raw:
        return {}
    k = raw["level"].to_numpy(float)
    deviation = np.abs(np.abs(raw["topological_charge"].to_numpy(float)) - k) / np.maximum(k, 1.0)
    worst = int(np.argmax(deviation))
    return {"all_states_hold_k_cores": bool((raw["n_skyrmions"] == raw["level"]).all()),
            "max_charge_deviation_per_skyrmion": float(deviation[worst]),
            "max_charge_deviation_state": {"level": int(raw["level"].iloc[worst]),
                                           "sample": int(raw["sample"].iloc[worst])} if "sample" in raw else None}


def beside_reference(energies: pd.Series, reference_J: float) -> dict:
    """The published energy (J) and each of ours over it, keyed as in energies' index."""
    return {"reference_energy_J": reference_J,
            "energy_over_reference": {str(k): float(v) / reference_J for k, v in energies.items()}}


def _ratio(update: pd.DataFrame, a: str, b: str) -> float:
    """Energy of the first `a` step over that of the first `b` step (NaN when either is missing)."""
    e = update.groupby("direction")["energy_J"].first()
    return float(e.get(a, np.nan) / e.get(b, np.nan))


def synapse_update(raw: pd.DataFrame) -> pd.DataFrame:
    """Per (direction, from_level, to_level): the successful pulse of least energy, else a NaN row."""
    rows = []
    for (direction, k0, k1), group in raw.groupby(["direction", "from_level", "to_level"], sort=False):
        ok = group[group["success"].astype(bool)]
        if len(ok):
            rows.append(ok.loc[ok["energy_J"].idxmin()])
        else:
            rows.append(pd.Series({"direction": direction, "from_level": k0, "to_level": k1,
                                   "current_density_A_m2": float(group["current_density_A_m2"].max()),
                                   "pulse_s": float("nan"), "energy_J": float("nan")}))
    table = pd.DataFrame(rows).reset_index(drop=True)
    return table.astype({"from_level": int, "to_level": int})


def activation_transfer(raw: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Normalised output per (device, curvature ratio) and the fitted activation parameters."""
    frames, fits = [], {}
    for (device, ratio), group in raw.groupby(["device", "curvature_ratio"], sort=False):
        group = group.sort_values("current_density_A_m2").copy()
        j, G = group["current_density_A_m2"].to_numpy(float), group["conductance_S"].to_numpy(float)
        g0 = float(np.interp(0.0, j, G))
        group["output"] = normalised_output(j, G)
        frames.append(group)
        fit = transfer_fit(j, group["current_A"].to_numpy(float), group["output"].to_numpy())
        fits[setting_key(device, ratio)] = {"device": device, "curvature_ratio": float(ratio), "G_at_zero_S": g0,
                                       "G_at_j_max_S": float(G[-1]), **fit}
    return pd.concat(frames, ignore_index=True), fits


def normalised_output(j: np.ndarray, G: np.ndarray) -> np.ndarray:
    """(G - G(j=0)) / (G(j_max) - G(j=0)) of one transfer curve, inputs j sorted ascending."""
    g0 = np.interp(0.0, j, G)
    return (G - g0) / (G[-1] - g0)


def transfer_fit(j: np.ndarray, current_A: np.ndarray, output: np.ndarray) -> dict:
    """Fit of one transfer curve (inputs sorted ascending, output normalised to 1 at j_max).

    Working range: the positive inputs whose output is at least WORKING_OUTPUT (above the knee of a
    ReLU whose MTJ the wall reaches only past a threshold). slope (1/A) and R^2 of a line through it;
    threshold (A) where that line crosses 0; leak ratio = slope of a line through j <= 0 / slope;
    saturation = 1 - slope over the top quarter of the positive inputs / slope (0 linear, 1 flat);
    the largest |output| at negative inputs; max_decrease, the largest drop of the output between
    neighbouring inputs (0 for a monotonic curve, in units of the output at j_max).
    """
    pos, neg = j > 0, j <= 0
    work = pos & (output >= WORKING_OUTPUT)
    work = work if work.sum() >= 2 else j >= 0
    slope, intercept = np.polyfit(current_A[work], output[work], 1)
    residual = output[work] - (slope * current_A[work] + intercept)
    r2 = 1 - residual.var() / output[work].var() if output[work].var() > 0 else float("nan")
    neg_slope = np.polyfit(current_A[neg], output[neg], 1)[0] if neg.sum() >= 2 else float("nan")
    top = np.flatnonzero(pos)[-max(2, int(pos.sum()) // 4):]  # the top quarter of the positive inputs
    top_slope = np.polyfit(current_A[top], output[top], 1)[0]
    return {"slope_per_A": float(slope), "slope_per_A_m2": float(slope * current_A.max() / j.max()),
            "leak_ratio": float(neg_slope / slope), "threshold_A": float(-intercept / slope),
            "threshold_A_m2": float(-intercept / slope * j.max() / current_A.max()),
            "saturation": float(1 - top_slope / slope), "linearity_r2": float(r2),
            "working_range_A_m2": [float(j[work].min()), float(j[work].max())],
            "output_at_minus_j_max": float(output[0]),
            "max_abs_output_negative": float(np.abs(output[j < 0]).max()) if (j < 0).any() else 0.0,
            "max_decrease": float(max(0.0, -np.diff(output).min())) if len(output) > 1 else 0.0}


def heavy_metal_volume_m3(dw_params: dict) -> float:
    track = dw_params["track"]
    return track["length_m"] * track["width_m"] * dw_params["heavy_metal"]["thickness_m"]


def activation_energy(raw: pd.DataFrame, dw_params: dict, pulse_s: float, transfer_fits: dict) -> pd.DataFrame:
    """Drive and read energy per activation at the representative inputs, the threshold and its bias
    energy (module docstring), per device setting; transfer_fits as from activation_transfer."""
    hm, read = dw_params["heavy_metal"], dw_params["read"]
    volume = heavy_metal_volume_m3(dw_params)
    rows = []
    for (device, ratio), group in raw.groupby(["device", "curvature_ratio"], sort=False):
        pos = group[group["current_density_A_m2"] > 0]
        drive = float(mtj.joule_energy_J(hm["resistivity_ohm_m"], pos["current_density_A_m2"].to_numpy(), volume,
                                         pulse_s).mean())
        read_J = mtj.read_energy_J(read["voltage_V"], float(pos["conductance_S"].mean()), read["time_s"])
        key = setting_key(device, ratio)
        j = np.unique(group["current_density_A_m2"].to_numpy(float))
        theta = threshold(transfer_fits[key]["threshold_A_m2"], j, key)
        rows.append({"device": device, "curvature_ratio": float(ratio), "drive_energy_J": drive,
                     "read_energy_J": read_J, "total_J": drive + read_J, "threshold": theta,
                     "bias_energy_J": bias_energy_J(drive, theta, j / np.abs(j).max())})
    return pd.DataFrame(rows)


def threshold(threshold_A_m2: float, j: np.ndarray, setting: str) -> float:
    """The fitted threshold current density (A/m^2) over the largest |input| j of the sweep, 0 where the
    fitted line crosses zero output at a negative input (no threshold to bias away)."""
    theta = float(threshold_A_m2) / np.abs(j).max()
    if not theta < 1.0:
        raise ValueError(f"{setting}: fitted threshold {threshold_A_m2:g} A/m^2 is {theta:g} of the sweep; "
                         "a threshold must lie below its top")
    return float(max(theta, 0.0))


def bias_energy_J(drive_J: float, theta: float, x: np.ndarray) -> float:
    """Extra drive energy (J) of a bias input theta (normalised like x): the Joule energy rho j^2 V t
    averaged over the positive sweep points u of x, with u -> u + theta, minus the unbiased one."""
    u = x[x > 0]
    return float(drive_J * (theta**2 + 2 * theta * u.mean()) / np.mean(u**2))
