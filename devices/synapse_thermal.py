"""Thermal fluctuation of the synapse's relaxed states at room temperature (stage synapse_thermal).

Proxy device: the synapse of the `synapse` section (material, cell, pitch, pinning, barrier, pillars) with
`synapse_thermal.proxy_bits` bits, whose levels k = 0 .. 2^bits - 1 put k cores under k of its pillars. Each
level is relaxed at T = 0 (the synapse stage's relaxation, from the engine cache where it ran) and then run as
stochastic LLG at `temperature_K` (devices.engine.thermal): `burn_in_s`, then `time_s` sampled every
`sample_every_s`. Per sample: the conductance of every pillar (devices.mtj over its cells) and the cores (connected
m_z < 0 regions larger than half the smallest core of the relaxed state, so that thermal blips of a few cells do
not count) under the MTJ half and in the device.

From the proxy to the full device: the pillars sit a pitch apart over pinned cores (or over the uniform film), far
beyond the exchange length, so their fluctuations are taken as independent and a level k of the full device with
N pillars has the variance k var_core + (N - k) var_empty, the two variances pooled over the proxy's pillars with
and without a core. A read integrates the conductance over crossbar.read_time_s: the variance of a window mean is
var / n (1 + 2 sum_{j<n} (1 - j / n) rho_j) over the n samples of a window, rho the samples' autocorrelation
(summed up to its first negative value). A state survives when no core crossed the barrier (a sample with every
core seen but another count under the MTJ) and the last sample holds the level's cores. A core read below the size
threshold for a few samples and back again is a transient shrink, not a loss: its share of the samples is reported.
"""
from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy import ndimage
from tqdm import tqdm

from devices import engine, mtj, synapse, tables
from devices.params import SynapseParams, SynapseThermalParams
from pipeline import io
from pipeline.table_contract import write_table


def proxy_params(params: SynapseParams, bits: int) -> SynapseParams:
    """The synapse of `params` with `bits` bits (the same material, lattice, pinning, barrier and pillars)."""
    return dataclasses.replace(params, bits=int(bits))


def pillar_conductances_S(mz_samples: np.ndarray, geom: synapse.Geometry, params: SynapseParams) -> np.ndarray:
    """(samples, pillars) conductance (S) of each pillar over the MTJ half's sites, from m_z maps (samples, nx, ny)."""
    area = np.pi * geom.pillar_radius_m ** 2
    masks = [geom.disk_mask(site[None, :], geom.pillar_radius_m) for site in geom.sites("mtj")]
    return np.array([[mtj.conductance_S(mz[mask], area, params.mtj.RA_ohm_um2, params.mtj.TMR) for mask in masks]
                     for mz in mz_samples])


def core_count(mz: np.ndarray, min_cells: int, region: np.ndarray | None = None) -> int:
    """Connected m_z < 0 regions of at least min_cells cells in an (nx, ny) map (within region)."""
    below = mz < 0 if region is None else (mz < 0) & region
    labels, n = ndimage.label(below)
    if n == 0:
        return 0
    sizes = np.bincount(labels.ravel())[1:]
    return int((sizes >= min_cells).sum())


def smallest_core_cells(mz: np.ndarray) -> int:
    """Cells of the smallest m_z < 0 region of a relaxed map (0 without cores)."""
    labels, n = ndimage.label(mz < 0)
    return int(np.bincount(labels.ravel())[1:].min()) if n else 0


def survived(under: np.ndarray, total: np.ndarray, level: int, n_cores: int) -> bool:
    """Whether a level's state kept its cores over the samples: no core crossed the barrier (every core seen, another
    count under the MTJ) and the last sample holds level cores under the MTJ and n_cores in all. under, total: the
    cores per sample under the MTJ and in the device."""
    crossed = bool(np.any((total == n_cores) & (under != level)))
    return not crossed and int(under[-1]) == level and int(total[-1]) == n_cores


def window_variance(series: np.ndarray, n: int) -> float:
    """Variance of the mean of n consecutive samples of a stationary series (module docstring)."""
    x = np.asarray(series, float) - np.mean(series)
    var = float(np.mean(x * x))
    if n <= 1 or var == 0:
        return var
    total = 0.0
    for j in range(1, min(n, len(x))):
        rho = float(np.mean(x[:-j] * x[j:])) / var
        if rho < 0:
            break
        total += (1 - j / n) * rho
    return var / n * (1 + 2 * total)


def run_level(params: SynapseParams, thermal: SynapseThermalParams, level: int, samples_per_read: int,
              engine_name: str, seed: int, cache_dir) -> tuple[dict, np.ndarray, np.ndarray]:
    """One proxy level: relaxed at T = 0, then sampled at temperature. Returns (row of figures, pillar conductances
    (samples, pillars) at temperature and (pillars,) of the relaxed state, in S)."""
    geom = synapse.geometry(params)
    relaxed_row, relaxed = synapse.relax_level(params, engine_name, seed, cache_dir, level, 0)
    mz0 = synapse._mz(relaxed.m)
    min_cells = max(1, smallest_core_cells(mz0) // 2)
    system = synapse.build_system(geom, params, relaxed.m.array, f"thermal{level}")
    system.T = thermal.temperature_K
    burn = engine.thermal(system, t_s=thermal.burn_in_s, dt_s=thermal.time_step_s, n_samples=1, seed=seed,
                          engine=engine_name, cache_dir=cache_dir)
    system = synapse.build_system(geom, params, burn.m.array, f"thermal{level}")
    system.T = thermal.temperature_K
    n_samples = round(thermal.time_s / thermal.sample_every_s)
    run = engine.thermal(system, t_s=thermal.time_s, dt_s=thermal.time_step_s, n_samples=n_samples,
                         seed=seed + 1, engine=engine_name, cache_dir=cache_dir)
    maps = run.mz_samples[:, :, :, 0]
    g = pillar_conductances_S(maps, geom, params)
    half = geom.mtj_half_mask()
    under = np.array([core_count(mz, min_cells, half) for mz in maps])
    total = np.array([core_count(mz, min_cells) for mz in maps])
    device = g.sum(1)
    row = {"level": level, "conductance_T0_S": relaxed_row["conductance_S"], "conductance_mean_S": device.mean(),
           "conductance_std_S": device.std(), "conductance_std_read_S": np.sqrt(window_variance(device,
                                                                                             samples_per_read)),
           "cores_under_mtj_min": int(under.min()), "cores_under_mtj_max": int(under.max()),
           "cores_total_min": int(total.min()), "cores_total_max": int(total.max()),
           "survived": survived(under, total, level, params.n_sites),
           "shrink_fraction": float(np.mean(total < params.n_sites)),  # samples with a core below the size
           "min_core_cells": min_cells, "samples": n_samples, "wall_s": burn.wall_s + run.wall_s}
    return row, g, pillar_conductances_S(mz0[None], geom, params)[0]


def pooled_pillars(levels: list[int], conductances: list[np.ndarray], relaxed: list[np.ndarray],
                   samples_per_read: int) -> dict:
    """A pillar over a core and over the uniform film, pooled over the proxy's pillars (the first k pillars of level
    k hold its cores): instantaneous and read-window variances (S^2), mean shift from the relaxed state (S)."""
    pools = {"core": [], "empty": []}
    for level, g, g0 in zip(levels, conductances, relaxed):
        for p in range(g.shape[1]):
            pools["core" if p < level else "empty"].append((g[:, p], g0[p]))
    out = {}
    for kind, pool in pools.items():
        out[f"{kind}_pillars"] = len(pool)
        out[f"{kind}_var_S2"] = float(np.mean([np.var(s) for s, _ in pool])) if pool else float("nan")
        out[f"{kind}_var_read_S2"] = (float(np.mean([window_variance(s, samples_per_read) for s, _ in pool]))
                                      if pool else float("nan"))
        out[f"{kind}_shift_S"] = float(np.mean([s.mean() - s0 for s, s0 in pool])) if pool else float("nan")
    return out


def device_table(levels_table: pd.DataFrame, pillars: int, pooled: dict) -> pd.DataFrame:
    """synapse_thermal: each level k of the full device (N = pillars): the thermal std k var_core + (N - k) var_empty
    (instantaneous and over a read), the mean shift from T = 0 k shift_core + (N - k) shift_empty, the gap to the
    next level up in G and the read std over that gap."""
    t = levels_table.sort_values("level")
    k = t["level"].to_numpy()
    g = t["conductance_S"].to_numpy(float)
    std = np.sqrt(k * pooled["core_var_S2"] + (pillars - k) * pooled["empty_var_S2"])
    std_read = np.sqrt(k * pooled["core_var_read_S2"] + (pillars - k) * pooled["empty_var_read_S2"])
    gap = np.abs(np.diff(g, append=np.nan))  # to level k + 1 (NaN for the top level)
    gap[-1] = abs(g[-1] - g[-2])             # the top level: to the one below
    shift = k * pooled["core_shift_S"] + (pillars - k) * pooled["empty_shift_S"]
    return pd.DataFrame({"level": k, "conductance_S": g, "thermal_std_S": std, "thermal_std_read_S": std_read,
                         "thermal_shift_S": shift, "level_gap_S": gap, "read_std_over_gap": std_read / gap})


def worker_pool(workers: int):
    """A pool of `workers` spawned processes, or a null context (None) for workers <= 1."""
    if workers <= 1:
        return contextlib.nullcontext()
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))


def _run_level_job(*args) -> tuple[dict, np.ndarray, np.ndarray]:
    """run_level in a worker process (one torch thread)."""
    torch.set_num_threads(1)
    return run_level(*args)


def build(params: SynapseParams, thermal: SynapseThermalParams, read_time_s: float, synapse_levels_csv: Path,
          tables_dir: Path, outdir: Path, engine_name: str, seed: int, cache_dir, provenance: dict,
          workers: int = 1) -> None:
    """Run every proxy level (side by side in `workers` processes), write the table synapse_thermal (into
    tables_dir; the full device's levels from the synapse stage's levels.csv, averaged as the synapse_levels table
    averages them) and run.json, levels.csv and a plot (into outdir)."""
    start = time.perf_counter()
    proxy = proxy_params(params, thermal.proxy_bits)
    samples_per_read = max(1, round(read_time_s / thermal.sample_every_s))
    levels = list(range(proxy.n_sites + 1))
    jobs = [(proxy, thermal, level, samples_per_read, engine_name, seed, cache_dir) for level in levels]
    with worker_pool(workers) as pool:
        done = ([run_level(*job) for job in tqdm(jobs, desc="synapse thermal", unit="level")] if pool is None
                else [future.result() for future in tqdm([pool.submit(_run_level_job, *job) for job in jobs],
                                                         desc="synapse thermal", unit="level")])
    rows, conductances, relaxed = ([d[i] for d in done] for i in range(3))
    frame = pd.DataFrame(rows)
    pooled = pooled_pillars(levels, conductances, relaxed, samples_per_read)
    levels_table, _ = tables.synapse_levels(pd.read_csv(synapse_levels_csv))
    table = device_table(levels_table, synapse.geometry(params).n_rows * synapse.geometry(params).n_cols, pooled)
    fitted = {"proxy_bits": thermal.proxy_bits,  # the proxy levels without their wall times: a table is its physics
              "proxy_levels": frame.drop(columns="wall_s").to_dict(orient="records"), **pooled,
              "samples_per_read": samples_per_read, "read_time_s": read_time_s,
              "read_window_sampled": bool(thermal.time_s >= read_time_s),  # else the read figures extrapolate
              "all_proxy_states_survived": bool(frame["survived"].all()),
              "max_read_std_over_gap": float(table["read_std_over_gap"].max()),
              "median_read_std_over_gap": float(table["read_std_over_gap"].median()),
              "settings": dataclasses.asdict(thermal)}
    write_table(tables_dir, "synapse_thermal", table, fitted=fitted, engine=engine_name,
                engine_version=engine._backend(engine.resolve_engine(engine_name)).version(), provenance=provenance)
    outdir = Path(outdir)
    io.write_csv(outdir / "levels.csv", frame)
    io.write_json(outdir / "run.json", {"stage": "synapse_thermal", "wall_time_s": time.perf_counter() - start,
                                        "workers": workers, "seed": seed, "params": dataclasses.asdict(thermal)})
    _plot(outdir / "thermal.png", table, frame, conductances)


def _plot(path: Path, table: pd.DataFrame, frame: pd.DataFrame, conductances: list[np.ndarray]) -> None:
    """The full device's thermal std per level beside its level gap; the proxy levels' conductance traces."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    left.plot(table["level"], table["level_gap_S"] * 1e9, "k-", label="gap to the next level")
    left.plot(table["level"], table["thermal_std_S"] * 1e9, "C0--", label="thermal std, instantaneous")
    left.plot(table["level"], table["thermal_std_read_S"] * 1e9, "C0-", label="thermal std over a read")
    left.set(xlabel="level k", ylabel="conductance (nS)", title="Full device at 300 K (from the proxy)")
    left.legend(fontsize=9)
    for row, g in zip(frame.itertuples(), conductances):
        t = np.arange(len(g)) * 1.0
        right.plot(t, (g.sum(1) - row.conductance_T0_S) * 1e9, lw=0.8, label=f"proxy level {row.level}")
    right.set(xlabel="sample", ylabel="G - G(T = 0) (nS)", title="Proxy device: conductance at 300 K")
    right.legend(fontsize=9)
    fig.tight_layout()
    io.save_figure(path, fig)
    plt.close(fig)
