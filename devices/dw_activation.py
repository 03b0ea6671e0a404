"""Domain-wall ReLU / Leaky ReLU: wall position and MTJ readout over the input sweep (stage dw_activation).

Device. A free-layer track (length x width x thickness) over a heavy-metal strip of the same
footprint. Ku(x) = min(K0 + a (x - x0)^2, Ku_max), a = a_plus for x >= x0 and a_minus =
ratio * a_plus for x < x0; the parabola saturates at Ku_max (a material limit, set well beyond
every wall position reached, so it only removes unphysical anisotropies far from the wall). The
wall is a Neel wall of the DMI's chirality between an up domain (x < x0) and a down domain. The
rest state is that wall relaxed at zero current.

Input. Positive input j moves the wall to +x, into the soft branch. Cores and walls move against
the charge current for this material (devices.synapse.motion_sign), so a positive input is a
charge current of density j along -x in the heavy metal; current_A = j * width * t_HM.

Sweep. For each input of the symmetric sweep, the steady state under that constant current
(devices.engine.steady_state: max |m x (H + H_SOT)| < tol_A_per_m), continued outward from the
rest state; the wall position and the readout conductance are recorded. ReLU reads an MTJ over the
right branch, beyond the wall at rest (x >= x0 + relu_mtj_offset_m); Leaky ReLU reads MTJs over
both branches in parallel. ReLU and Leaky ReLU with the same curvature ratio share one sweep.

Pulse. One LLG run from rest at the largest input, for the network's curvature ratio, times the
rise of the wall to pulse_rise_fraction of its steady-state displacement: every activation is
driven by a pulse that long. In the linear regime every input rises with the same time constant,
so the transfer curve read at the end of the pulse is the steady-state curve scaled by that
fraction, which the output normalisation removes.
"""
from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path

import discretisedfield as df
import micromagneticmodel as mm
import numpy as np
import pandas as pd
from tqdm import tqdm

from devices import engine, measure, mtj, physics
from devices.params import DWActivationParams
from devices.constants import E_CHARGE_C, HBAR_J_S, MU0
from devices.synapse import motion_sign
from devices.tables import normalised_output
from pipeline import io

SAVE_INTERVAL_S = 10e-12
SETTLE_CHUNK_S = 0.25e-9  # the settling run checks the wall position this often


def mesh(params: DWActivationParams) -> df.Mesh:
    cell, track, thickness = params.cell_m, params.track, params.material.thickness_m
    return df.Mesh(p1=(0, 0, 0), p2=(track.length_m, track.width_m, thickness), cell=(cell, cell, thickness))


def cell_x(params: DWActivationParams) -> np.ndarray:
    """Cell-centre x coordinates (m) along the track."""
    n = round(params.track.length_m / params.cell_m)
    return (np.arange(n) + 0.5) * params.cell_m


def anisotropy_J_per_m3(x, params: DWActivationParams, ratio: float) -> np.ndarray:
    """Ku(x) = min(K0 + a (x - x0)^2, Ku_max), a = a_plus (x >= x0) or ratio * a_plus (x < x0)."""
    an = params.anisotropy
    d = np.asarray(x, dtype=float) - an.x0_m
    a = np.where(d >= 0, an.a_plus_J_per_m5, ratio * an.a_plus_J_per_m5)
    return np.minimum(an.K0_J_per_m3 + a * d ** 2, an.Ku_max_J_per_m3)


def uncapped_interval_m(params: DWActivationParams, ratio: float) -> tuple[float, float]:
    """(x_min, x_max) (m) of the parabolic part of Ku(x), where it is below Ku_max."""
    an = params.anisotropy
    room = an.Ku_max_J_per_m3 - an.K0_J_per_m3
    return (an.x0_m - math.sqrt(room / (ratio * an.a_plus_J_per_m5)), an.x0_m + math.sqrt(room / an.a_plus_J_per_m5))


def wall_width_m(params: DWActivationParams) -> float:
    """The wall width parameter Delta (m, devices.physics.wall_width_m) at x0, where Ku = K0."""
    mat = params.material
    return physics.wall_width_m(mat.A_J_per_m, params.anisotropy.K0_J_per_m3, mat.Ms_A_per_m)


def sot_field_A_per_m(params: DWActivationParams, j: float) -> float:
    """Damping-like SOT field amplitude hbar theta J / (2 e mu0 Ms t) (A/m)."""
    mat = params.material
    return HBAR_J_S * params.heavy_metal.spin_hall_angle * j / (2 * E_CHARGE_C * MU0 * mat.Ms_A_per_m * mat.thickness_m)


def displacement_1d_m(params: DWActivationParams, j: float, ratio: float = 1.0) -> float:
    """1D-model equilibrium displacement q = pi mu0 Ms H_SOT / (4 Delta a) (m) of the wall for input j."""
    a = params.anisotropy.a_plus_J_per_m5 * (1.0 if j >= 0 else ratio)
    pressure = math.pi * MU0 * params.material.Ms_A_per_m * sot_field_A_per_m(params, j)
    return pressure / (4 * wall_width_m(params) * a)


def wall_texture(params: DWActivationParams) -> np.ndarray:
    """Unit m (nx, ny, 1, 3): up for x < x0, down beyond, Neel profile of the DMI's chirality at x0."""
    x = cell_x(params)
    ny = round(params.track.width_m / params.cell_m)
    theta = 2 * np.arctan(np.exp((x - params.anisotropy.x0_m) / wall_width_m(params)))
    c = np.sign(params.material.D_J_per_m2)  # ubermag Cnv_z, D > 0: in-plane part towards the down domain
    m = np.stack([c * np.sin(theta), np.zeros_like(theta), np.cos(theta)], axis=-1)
    return np.broadcast_to(m[:, None, None, :], (x.size, ny, 1, 3)).copy()


def build_system(params: DWActivationParams, ratio: float, m_unit: np.ndarray) -> mm.System:
    """The micromagnetic system (devices.physics.build_system) of the track with Ku(x) at this curvature ratio."""
    msh = mesh(params)
    K = anisotropy_J_per_m3(cell_x(params), params, ratio)
    return physics.build_system(msh, params.material, np.broadcast_to(K[:, None, None, None], (*msh.n, 1)).copy(),
                                m_unit, "dw_track")


def readout_S(m, params: DWActivationParams) -> dict:
    """Readout conductances (S) from m (Field or (nx, ny, 1, 3) array), per device.

    relu: one MTJ over x >= x0 + relu_mtj_offset_m, beyond the wall's tail at rest and under
    negative inputs, so that it reads the down domain until a positive input brings the wall in.
    lrelu: an MTJ over x < x0 in parallel with one over x >= x0 (the whole track).
    """
    array = m.array if isinstance(m, df.Field) else np.asarray(m)
    mz = array[..., 2] / np.linalg.norm(array, axis=-1)
    x, x0 = cell_x(params), params.anisotropy.x0_m
    width, length, cfg = params.track.width_m, params.track.length_m, params.mtj
    relu_start = x0 + params.relu_mtj_offset_m

    def mtj_over(cells, x_from, x_to):
        return mtj.conductance_S(mz[cells], (x_to - x_from) * width, cfg.RA_ohm_um2, cfg.TMR)
    return {"relu": mtj_over(x >= relu_start, relu_start, length),
            "lrelu": mtj_over(x < x0, 0.0, x0) + mtj_over(x >= x0, x0, length)}


def drive(params: DWActivationParams, j: float) -> engine.SOT:
    """The heavy-metal SOT for input current density j (A/m^2): positive j moves the wall to +x."""
    theta = params.heavy_metal.spin_hall_angle
    return engine.SOT(motion_sign(params.material.D_J_per_m2, theta) * j, theta)


def sweep_inputs(params: DWActivationParams) -> np.ndarray:
    """The input current densities (A/m^2) of the symmetric sweep."""
    sweep = params.sweep
    return np.linspace(-sweep.j_max_A_per_m2, sweep.j_max_A_per_m2, sweep.n_points)


def run_sweep(params: DWActivationParams, ratio: float, engine_name: str, cache_dir=None, progress=True):
    """Relax the rest state, then find the steady state at every input; returns (rows, rest Result).

    Each branch of the sweep is continued outward from zero input: the steady state at one current
    starts from the steady state of the previous, smaller one.
    """
    rest = engine.relax(build_system(params, ratio, wall_texture(params)), engine=engine_name, cache_dir=cache_dir)
    sweep = params.sweep
    inputs = sweep_inputs(params)
    states = {0.0: rest}
    with tqdm(total=int((inputs != 0).sum()), desc=f"DW sweep a-/a+={ratio:g}", unit="point",
              disable=not progress) as bar:
        for branch in (np.sort(inputs[inputs > 0]), np.sort(inputs[inputs < 0])[::-1]):
            m = rest.m.array
            for j in branch:
                result = engine.steady_state(build_system(params, ratio, m), sot=drive(params, j),
                                             tol=sweep.tol_A_per_m, max_time_s=sweep.max_time_s,
                                             engine=engine_name, cache_dir=cache_dir)
                m, states[float(j)] = result.m.array, result
                bar.update()
    rows = []
    for j in inputs:
        state = states[float(j)]
        rows.append({"current_density_A_m2": float(j),
                     "dw_position_m": measure.dw_position(state.m) - params.anisotropy.x0_m,
                     "readout_S": readout_S(state.m, params), "iterations": len(state.table)})
    return rows, rest


def settling_run(params: DWActivationParams, ratio: float, rest, steady_m: float, engine_name: str, cache_dir=None):
    """LLG from the rest state at the largest input, in chunks of SETTLE_CHUNK_S, until the wall has
    covered pulse_rise_fraction of its way to the steady position steady_m (x0-relative, m) or
    max_time_s has passed. Returns (trace as in wall_trace, pulse_s or NaN when never reached)."""
    sweep, x0 = params.sweep, params.anisotropy.x0_m
    sot = drive(params, float(sweep_inputs(params).max()))
    x_rest = measure.dw_position(rest.m) - x0
    target = x_rest + sweep.pulse_rise_fraction * (steady_m - x_rest)
    m, t0, tables = rest.m.array, 0.0, []
    while t0 < sweep.max_time_s * (1 - 1e-9):
        chunk = min(SETTLE_CHUNK_S, sweep.max_time_s - t0)
        result = engine.evolve(build_system(params, ratio, m), t_s=chunk, sot=sot, engine=engine_name,
                               n_steps=max(1, round(chunk / SAVE_INTERVAL_S)), cache_dir=cache_dir)
        tables.append(result.table.assign(t_s=result.table["t_s"] + t0))
        m, t0 = result.m.array, t0 + chunk
        if measure.dw_position(result.m) - x0 >= target:
            break
    trace = wall_trace(pd.concat(tables, ignore_index=True), rest, params)
    reached = np.flatnonzero(trace["dw_position_m"].to_numpy() >= target)
    if len(reached) == 0:
        return trace, float("nan")
    i = reached[0]
    t, x = trace["t_s"].to_numpy(), trace["dw_position_m"].to_numpy()
    return trace, float(t[i - 1] + (target - x[i - 1]) * (t[i] - t[i - 1]) / (x[i] - x[i - 1]))


def run_stage(params: DWActivationParams, engine_name: str, outdir: Path, cache_dir: Path | None = None) -> None:
    """Sweep every curvature ratio once, read it out as ReLU / Leaky ReLU, time the settling at the
    largest input once, and write tables and plots. The engine cache: cache_dir, else outdir/.cache."""
    start = time.perf_counter()
    outdir = Path(outdir)
    cache_dir = outdir / ".cache" if cache_dir is None else Path(cache_dir)
    hm, width, x0 = params.heavy_metal, params.track.width_m, params.anisotropy.x0_m
    ratios = sorted({r for _, r in params.device_settings})
    sweeps, rests = {}, {}
    for ratio in ratios:
        rows, rests[ratio] = run_sweep(params, ratio, engine_name, cache_dir)
        sweeps[ratio] = pd.DataFrame(rows)
    records = []
    for device, ratio in params.device_settings:
        for row in sweeps[ratio].itertuples():
            records.append({"device": device, "curvature_ratio": ratio,
                            "current_density_A_m2": row.current_density_A_m2,
                            "current_A": row.current_density_A_m2 * width * hm.thickness_m,
                            "dw_position_m": row.dw_position_m,
                            "conductance_S": row.readout_S[device],
                            "iterations": row.iterations})
    transfer = pd.DataFrame(records)
    trace_ratio = params.network_lrelu_curvature_ratio
    trace_ratio = trace_ratio if trace_ratio in sweeps else ratios[0]
    j_max = float(sweep_inputs(params).max())
    steady = float(sweeps[trace_ratio].set_index("current_density_A_m2").loc[j_max, "dw_position_m"])
    wall, pulse_s = settling_run(params, trace_ratio, rests[trace_ratio], steady, engine_name, cache_dir)
    wall.insert(0, "current_density_A_m2", j_max)
    wall.insert(0, "curvature_ratio", trace_ratio)
    rise = params.sweep.pulse_rise_fraction
    pulse_reached = bool(np.isfinite(pulse_s))
    pulse_s = pulse_s if pulse_reached else params.sweep.max_time_s

    io.write_csv(outdir / "transfer.csv", transfer)
    io.write_csv(outdir / "wall.csv", wall)
    _plot_transfer(outdir / "transfer.png", transfer)
    _plot_position(outdir / "dw_position.png", transfer, params)
    _plot_settling(outdir / "settling.png", wall, steady, pulse_s, trace_ratio)
    rest = rests[ratios[0]]
    io.write_json(outdir / "run.json", {
        "stage": "dw_activation", "engine": rest.engine, "engine_version": rest.version,
        "wall_time_s": time.perf_counter() - start,
        "n_steady_states": int(sum((s["current_density_A_m2"] != 0).sum() for s in sweeps.values())),
        "params": dataclasses.asdict(params), "drive": "positive input = charge current along -x in the heavy metal (wall moves +x)",
        "pulse_s": pulse_s, "pulse_reached_rise": pulse_reached,
        "pulse_definition": f"LLG from rest at j_max = {j_max:g} A/m^2 (a-/a+ = {trace_ratio:g}) until the wall has "
                            f"covered {rise:g} of its way to the steady state (max_time_s if never); every "
                            "activation is driven this long (in the linear regime all inputs rise alike)",
        "steady_state_position_m": steady,
        "wall_width_parameter_m": {str(r): measure.dw_width(rests[r].m) for r in ratios},
        "rest_position_m": {str(r): measure.dw_position(rests[r].m) - x0 for r in ratios},
        "delta_analytic_m": wall_width_m(params),
        "displacement_1d_model_at_j_max_m": displacement_1d_m(params, j_max),
        "sot_field_at_j_max_A_per_m": sot_field_A_per_m(params, j_max),
        "uncapped_interval_m": {str(r): uncapped_interval_m(params, r) for r in ratios},
        "wall_within_parabola": bool(all(
            (sweeps[r]["dw_position_m"] + x0).between(*uncapped_interval_m(params, r)).all() for r in ratios)),
    })


def wall_trace(table: pd.DataFrame, rest, params: DWActivationParams) -> pd.DataFrame:
    """Time trace of one run: mean m_z, wall position from it (x0-relative, m) and wall speed (m/s).

    For a straight wall between saturated domains (up on the left) <m_z> grows by 2 dx_w / L when it
    moves by dx_w.
    """
    length = params.track.length_m
    x_rest = measure.dw_position(rest.m) - params.anisotropy.x0_m
    mz0 = measure.mz_mean(rest.m)
    t = np.concatenate([[0.0], table["t_s"].to_numpy()])
    mz = np.concatenate([[mz0], table["mz"].to_numpy()])
    position = x_rest + (mz - mz0) * length / 2
    return pd.DataFrame({"t_s": t, "mz_mean": mz, "dw_position_m": position,
                         "velocity_m_per_s": np.gradient(position, t) if len(t) > 1 else np.zeros_like(t)})


def _plot_transfer(path, transfer: pd.DataFrame) -> None:
    """Normalised output (devices.tables.normalised_output, as in the activation_transfer table) versus input."""
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    for (device, ratio), group in transfer.groupby(["device", "curvature_ratio"]):
        group = group.sort_values("current_density_A_m2")
        j = group["current_density_A_m2"].to_numpy(float)
        ax.plot(j, normalised_output(j, group["conductance_S"].to_numpy(float)), "o-", ms=3,
                label=f"{device}, a-/a+ = {ratio:g}")
    ax.axhline(0, color="grey", lw=0.5)
    ax.set(xlabel="input current density (A/m²)", ylabel="normalised output",
           title="DW activation transfer\n(G - G(j=0)) / (G(j_max) - G(j=0))")
    ax.legend(fontsize=8)
    io.save_figure(path, fig)


def _plot_position(path, transfer: pd.DataFrame, params: DWActivationParams) -> None:
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    for ratio, group in transfer[transfer["device"] == "lrelu"].groupby("curvature_ratio"):
        ax.plot(group["current_density_A_m2"], group["dw_position_m"] * 1e9, "o-", ms=3, label=f"a-/a+ = {ratio:g}")
    relu = transfer[transfer["device"] == "relu"]
    ax.plot(relu["current_density_A_m2"], relu["dw_position_m"] * 1e9, "k--", lw=1, label="ReLU device")
    j = np.linspace(0, params.sweep.j_max_A_per_m2, 20)
    ax.plot(j, [displacement_1d_m(params, v) * 1e9 for v in j], ":", color="grey", label="1D model (soft branch)")
    ax.set(xlabel="input current density (A/m²)", ylabel="wall position - x0 (nm)", title="Settled wall position")
    ax.legend(fontsize=8)
    io.save_figure(path, fig)


def _plot_settling(path, wall: pd.DataFrame, steady_m: float, pulse_s: float, ratio: float) -> None:
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    j = wall["current_density_A_m2"].iloc[0]
    ax.plot(wall["t_s"] * 1e9, wall["dw_position_m"] * 1e9, label=f"LLG, {j:.2g} A/m²")
    ax.axhline(steady_m * 1e9, color="grey", ls=":", label="steady state (sweep)")
    ax.axvline(pulse_s * 1e9, color="k", ls="--", lw=1, label="end of the activation pulse")
    ax.set(xlabel="time (ns)", ylabel="wall position - x0 (nm)", title=f"Settling, a-/a+ = {ratio:g}")
    ax.legend(fontsize=8)
    io.save_figure(path, fig)
