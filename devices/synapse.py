"""Skyrmion synapse: relaxed conductance levels and the SOT update pulse (stage skyrmion_synapse).

Geometry (all lengths snapped to whole cells). The free layer is a rectangle of two equal halves
side by side along x: the reservoir (x < x_b) and the MTJ half (x >= x_b). Each half holds a lattice
of n_rows x n_cols sites at the configured pitch, with n_rows = ceil(sqrt(2^bits - 1)) and
n_cols = ceil((2^bits - 1) / n_rows), so the MTJ half holds the 2^bits - 1 skyrmions of the top
level: sites lie one pitch from the free edges (at half a pitch edge-squeezed cores collapse) and half
a pitch from the boundary. The device holds 2^bits - 1 skyrmions in all: level k has k of them on
the first k sites of the MTJ half (filled column by column from the boundary outwards) and the other
2^bits - 1 - k on the reservoir's sites farthest from the boundary.

Pinning sites. Every lattice site of both halves is a disk of lowered anisotropy (config `pinning`;
made by local He+ irradiation, which lowers the anisotropy of Pt/Co-type films): a core sits on its
site whatever its neighbours do, so that each level's cores take the same places in every state and
every core adds the same conductance step. Without pinning, the k cores of a level spread over the
whole half, and crowded cores shrink: G(k) then flattens at the top levels.

Readout. A read-only MgO MTJ pillar of radius mtj.pillar_radius_m stands over every site of the MTJ
half (n_rows n_cols pillars sharing one top electrode, in parallel): the tunnelling area is where the
cores are, so a core under a pillar turns most of that pillar's area antiparallel. Conductance from
devices.mtj over the cells under the pillars. A strip of raised anisotropy (config `barrier`) along the
boundary keeps each level's count.

Initial cores (radius a quarter pitch) get a seeded Gaussian jitter (position_jitter_m) per
ensemble member, then relax.

Update. Skyrmions are written through a lane: a nanotrack two pitches wide (narrower tracks do not
hold these skyrmions; at one pitch they collapse) with one site on each side of the barrier (same
margins and barrier as the device), over a heavy-metal write line of the same footprint.
Potentiation moves the reservoir core into the MTJ half, the representative step between the
middle levels; depression, moving it back, is its image under a rotation by pi about z (the lane
is symmetric), so it has the same pulse and is not simulated again. A current of density J
(every configured J, smallest first) is applied in chunks of max_pulse_s / 20; the pulse ends at
the first chunk after which, relaxed with the current off, exactly one more core lies under the
MTJ and no skyrmion was lost. Energy of the pulse: rho J^2 V_HM t_pulse, V_HM the write line's volume.

Sign convention: with the spin Hall angle > 0, polarisation +y and D > 0 (ubermag Cnv_z), cores
and walls move against the charge current (-x for current along +x): motion_sign(D, theta) = -1.
"""
from __future__ import annotations

import dataclasses
import json
import math
import time
from pathlib import Path

import discretisedfield as df
import micromagneticmodel as mm
import numpy as np
import pandas as pd
import torch
from scipy import ndimage
from tqdm import tqdm

from devices import engine, measure, mtj, physics
from devices.params import SynapseParams
from pipeline import io

CHUNKS_PER_PULSE = 20


@dataclasses.dataclass(frozen=True)
class Geometry:
    """Reservoir + MTJ halves, each nx_region x ny cells holding n_rows x n_cols sites (SI units).

    Sites are pitch_m apart, margin_m from the free edges, pitch_m / 2 from the reservoir/MTJ boundary.
    """
    cell_m: float
    thickness_m: float
    pitch_m: float
    margin_m: float
    n_rows: int
    n_cols: int
    nx_region: int
    ny: int
    pillar_radius_m: float

    @property
    def boundary_x_m(self) -> float:
        return self.nx_region * self.cell_m

    @property
    def length_m(self) -> float:
        return 2 * self.boundary_x_m

    @property
    def width_m(self) -> float:
        return self.ny * self.cell_m

    @property
    def mtj_area_m2(self) -> float:
        """Tunnelling area of the readout: a pillar of pillar_radius_m over each site of the MTJ half (m^2)."""
        return self.n_rows * self.n_cols * math.pi * self.pillar_radius_m ** 2

    def site_box(self, half: str) -> tuple[float, float, float, float]:
        """(x0, x1, y0, y1) in m: the box the 'mtj' or 'reservoir' half's n_rows x n_cols sites tile, one pitch each."""
        inset = self.margin_m - self.pitch_m / 2
        x0, x1 = (self.boundary_x_m, self.length_m - inset) if half == "mtj" else (inset, self.boundary_x_m)
        return x0, x1, inset, self.width_m - inset

    def sites(self, half: str) -> np.ndarray:
        """(n_rows n_cols, 2) lattice site centres (m) of a half, in the order the half fills: the MTJ half
        from the boundary outwards, the reservoir from its far edge towards the boundary (column by column)."""
        x0, _, y0, _ = self.site_box(half)
        cols = x0 + (np.arange(self.n_cols) + 0.5) * self.pitch_m
        rows = y0 + (np.arange(self.n_rows) + 0.5) * self.pitch_m
        return np.array([(x, y) for x in cols for y in rows])

    def mesh(self) -> df.Mesh:
        return df.Mesh(p1=(0, 0, 0), p2=(self.length_m, self.width_m, self.thickness_m),
                       cell=(self.cell_m, self.cell_m, self.thickness_m))

    def cell_centres(self):
        """x (2 nx_region,) and y (ny,) cell-centre coordinates (m)."""
        return ((np.arange(2 * self.nx_region) + 0.5) * self.cell_m, (np.arange(self.ny) + 0.5) * self.cell_m)

    def mtj_half_mask(self) -> np.ndarray:
        """(nx, ny) cells of the MTJ half (x >= the boundary), where a level counts its cores."""
        x, _ = self.cell_centres()
        return np.broadcast_to((x >= self.boundary_x_m)[:, None], (x.size, self.ny))

    def mtj_mask(self) -> np.ndarray:
        """(nx, ny) cells under the MTJ pillars (cell centres within pillar_radius_m of an MTJ-half site)."""
        return self.disk_mask(self.sites("mtj"), self.pillar_radius_m)

    def disk_mask(self, centres: np.ndarray, radius_m: float) -> np.ndarray:
        """(nx, ny) cells whose centres lie within radius_m of any of centres (m)."""
        x, y = self.cell_centres()
        d2 = (x[:, None, None] - centres[:, 0]) ** 2 + (y[None, :, None] - centres[:, 1]) ** 2
        return d2.min(axis=-1) < radius_m ** 2

    def interior_mtj_mask(self, margin_m: float) -> np.ndarray:
        """Cells under the MTJ at least margin_m from the free edges (the boundary is not free)."""
        x, y = self.cell_centres()
        inside_x = (x >= self.boundary_x_m) & (x <= self.length_m - margin_m)
        inside_y = (y >= margin_m) & (y <= self.width_m - margin_m)
        return inside_x[:, None] & inside_y[None, :]


def geometry(params: SynapseParams) -> Geometry:
    """The device (see the module docstring)."""
    n = params.n_sites
    n_rows = math.ceil(math.sqrt(n))
    n_cols = math.ceil(n / n_rows)
    return _geometry(params, n_rows, n_cols, params.skyrmion_pitch_m)


def lane_geometry(params: SynapseParams) -> Geometry:
    """The write lane: one site per half, two pitches wide."""
    return _geometry(params, 1, 1, params.skyrmion_pitch_m)


def _geometry(params: SynapseParams, n_rows, n_cols, margin_m) -> Geometry:
    cell, pitch = params.cell_m, params.skyrmion_pitch_m
    return Geometry(cell_m=cell, thickness_m=params.material.thickness_m, pitch_m=pitch, margin_m=margin_m,
                    n_rows=n_rows, n_cols=n_cols, pillar_radius_m=params.mtj.pillar_radius_m, nx_region=round(((n_cols - 0.5) * pitch + margin_m) / cell),
                    ny=round(((n_rows - 1) * pitch + 2 * margin_m) / cell))


def level_centres(geom: Geometry, level: int, total: int) -> np.ndarray:
    """Core centres (m) of level `level`: the first `level` sites of the MTJ half, the first `total - level`
    of the reservoir (Geometry.sites order)."""
    return np.concatenate([geom.sites("mtj")[:level], geom.sites("reservoir")[:total - level]])


def wall_width_m(params: SynapseParams) -> float:
    """The material's wall width parameter Delta (m, devices.physics.wall_width_m)."""
    mat = params.material
    return physics.wall_width_m(mat.A_J_per_m, mat.Ku_J_per_m3, mat.Ms_A_per_m)


def motion_sign(D: float, spin_hall_angle: float) -> float:
    """Direction (+1/-1 along x) in which SOT moves cores and walls for a charge current along +x."""
    return -float(np.sign(D * spin_hall_angle))


def skyrmion_texture(geom: Geometry, centres, radius_m: float, width_m: float, D: float) -> np.ndarray:
    """Unit m (nx, ny, 1, 3): +z background with down cores at centres, Neel profile of the DMI's chirality.

    theta(r) = 2 atan(sinh(R/w) / sinh(r/w)) about the nearest centre; the in-plane part points
    towards the core for D > 0 (ubermag Cnv_z) and away from it for D < 0.
    """
    x, y = geom.cell_centres()
    X, Y = np.meshgrid(x, y, indexing="ij")
    m = np.zeros((*X.shape, 3))
    m[..., 2] = 1.0
    centres = np.asarray(centres, dtype=float).reshape(-1, 2)
    if len(centres):
        d2 = (X[..., None] - centres[:, 0]) ** 2 + (Y[..., None] - centres[:, 1]) ** 2
        nearest = d2.argmin(axis=-1)
        dx, dy = X - centres[nearest, 0], Y - centres[nearest, 1]
        r = np.hypot(dx, dy)
        theta = 2 * np.arctan2(np.sinh(radius_m / width_m), np.sinh(r / width_m))
        phi = np.arctan2(dy, dx)
        c = -np.sign(D)
        m = np.stack([c * np.sin(theta) * np.cos(phi), c * np.sin(theta) * np.sin(phi), np.cos(theta)], axis=-1)
    return m[:, :, None, :]


def anisotropy_J_per_m3(geom: Geometry, params: SynapseParams) -> np.ndarray:
    """Ku per cell (nx, ny, 1, 1): the material's Ku, raised by the barrier on the reservoir/MTJ boundary,
    lowered to pinning.Ku_J_per_m3 in a disk of pinning.radius_m at every lattice site of both halves."""
    x, _ = geom.cell_centres()
    inside = np.abs(x - geom.boundary_x_m)[:, None] < params.barrier.width_m / 2
    K = np.broadcast_to(params.material.Ku_J_per_m3 + params.barrier.Ku_increase_J_per_m3 * inside, (x.size, geom.ny))
    disks = geom.disk_mask(np.concatenate([geom.sites("mtj"), geom.sites("reservoir")]), params.pinning.radius_m)
    return np.where(disks, params.pinning.Ku_J_per_m3, K)[:, :, None, None]


def build_system(geom: Geometry, params: SynapseParams, m_unit: np.ndarray, name: str) -> mm.System:
    """The micromagnetic system (devices.physics.build_system) of geom with the barrier's anisotropy."""
    return physics.build_system(geom.mesh(), params.material, anisotropy_J_per_m3(geom, params), m_unit, name)


def core_centres(mz: np.ndarray, geom: Geometry) -> np.ndarray:
    """(n, 2) centres (m) of the connected m_z < 0 regions of an (nx, ny) map, weighted by -m_z."""
    labels, n = ndimage.label(mz < 0)
    if n == 0:
        return np.zeros((0, 2))
    com = ndimage.center_of_mass(np.clip(-mz, 0, None), labels, range(1, n + 1))
    return (np.asarray(com, dtype=float).reshape(-1, 2) + 0.5) * geom.cell_m


def _mz(field_or_array) -> np.ndarray:
    array = field_or_array.array if isinstance(field_or_array, df.Field) else field_or_array
    return np.asarray(array)[:, :, 0, 2] / np.maximum(np.linalg.norm(np.asarray(array)[:, :, 0], axis=-1), 1e-300)


def measure_level(m: df.Field, geom: Geometry, params: SynapseParams) -> dict:
    """n_skyrmions, topological charge (away from free edges), mean m_z and conductance under the MTJ."""
    mask = geom.mtj_mask()
    mz = _mz(m)
    margin = 2 * geom.cell_m
    return {"n_skyrmions": measure.skyrmion_count(m, region=geom.mtj_half_mask()),
            "topological_charge": measure.topological_charge(m, region=geom.interior_mtj_mask(margin)),
            "mz_mean": measure.mz_mean(m, region=mask),
            "conductance_S": mtj.conductance_S(mz[mask], geom.mtj_area_m2, params.mtj.RA_ohm_um2, params.mtj.TMR)}


def _initial_radius_m(params: SynapseParams) -> float:
    """Starting core radius: a quarter pitch (the relaxation sets the real one, about 12 nm at m_z = 0 for 40 nm).
    Starting at the pinning disk's 16 nm, the walls of neighbouring cores overlap and the minimiser merged
    pairs of them into one (6 bits: 70 of 192 states lost a core)."""
    return params.skyrmion_pitch_m / 4


def relax_state(geom, params: SynapseParams, centres, name, engine_name, cache_dir) -> engine.Result:
    m0 = skyrmion_texture(geom, centres, _initial_radius_m(params), wall_width_m(params), params.material.D_J_per_m2)
    return engine.relax(build_system(geom, params, m0, name), engine=engine_name, tol=params.relax_tol_A_per_m,
                        cache_dir=cache_dir)


def relax_level(params, engine_name, seed, cache_dir, level, sample) -> tuple[dict, engine.Result]:
    """Relax ensemble member `sample` of level `level` (seeded jitter); returns (measured row, Result)."""
    geom = geometry(params)
    rng = np.random.default_rng([seed, level, sample])
    centres = level_centres(geom, level, params.n_sites)
    centres = centres + rng.normal(0.0, params.position_jitter_m, size=centres.shape)
    result = relax_state(geom, params, centres, f"level{level}_{sample}", engine_name, cache_dir)
    row = {"level": level, "sample": sample, **measure_level(result.m, geom, params), "relax_wall_s": result.wall_s}
    return row, result


def level_jobs(params: SynapseParams, chunk: int, chunks: int) -> list[tuple[int, int]]:
    """The (level, sample) relaxations of job `chunk` of `chunks`: every chunks-th of the level-major list, so
    that each job holds sparse and crowded levels alike (about the same run time)."""
    if not 0 <= chunk < chunks:
        raise ValueError(f"level job {chunk} is not one of 0..{chunks - 1}")
    jobs = [(k, s) for k in range(params.n_sites + 1) for s in range(params.ensemble)]
    return jobs[chunk::chunks]


def kept_levels(total: int) -> list[int]:
    """Levels whose sample-0 state the gather needs: the mapped levels and level 1 (the core radius)."""
    return sorted(set(_map_levels(total)) | ({1} & set(range(total + 1))))


def run_level_chunk(params: SynapseParams, engine_name, seed, cache_dir, chunk: int, chunks: int,
                    progress=True) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Relax the states of level job `chunk` of `chunks` (one scattered job of the stage).

    Returns its rows (with engine and engine_version) and {"level_k": m (nx, ny, 1, 3)} of the sample-0 states of
    kept_levels among them.
    """
    rows, states = [], {}
    kept = kept_levels(params.n_sites)
    for k, s in tqdm(level_jobs(params, chunk, chunks), desc=f"synapse levels, job {chunk}", unit="state",
                     disable=not progress):
        row, result = relax_level(params, engine_name, seed, cache_dir, k, s)
        rows.append({**row, "engine": result.engine, "engine_version": result.version})
        if s == 0 and k in kept:
            states[f"level_{k}"] = result.m.array
    return pd.DataFrame(rows), states


def write_level_chunk(params: SynapseParams, engine_name, seed, cache_dir, chunk: int, chunks: int,
                      rows_csv: Path, states_npz: Path) -> None:
    """run_level_chunk, written: its rows to rows_csv, its kept states to states_npz."""
    rows, states = run_level_chunk(params, engine_name, seed, cache_dir, chunk, chunks)
    io.write_npz(states_npz, **states)
    io.write_csv(rows_csv, rows)


def _count(centres: np.ndarray, geom: Geometry) -> tuple[int, int]:
    """(cores under the MTJ, all cores)."""
    return int((centres[:, 0] >= geom.boundary_x_m).sum()), len(centres)


def run_pulse(params: SynapseParams, lane: Geometry, start: df.Field, current_density: float, direction: str, engine_name,
              cache_dir=None) -> dict:
    """Drive the lane from `start` with an SOT pulse until one core has crossed (see module docstring).

    Returns success, pulse_s (nan when no chunk up to max_pulse_s succeeded) and the trace: a list of
    (t_s, (n, 2) core centres in m) after each chunk.
    """
    hm = params.heavy_metal
    sign = motion_sign(params.material.D_J_per_m2, hm.spin_hall_angle) * (1 if direction == "potentiation" else -1)
    sot = engine.SOT(sign * current_density, hm.spin_hall_angle)
    max_pulse = params.update.max_pulse_s
    chunk = max_pulse / CHUNKS_PER_PULSE
    under0, total0 = _count(core_centres(_mz(start), lane), lane)
    target = under0 + (1 if direction == "potentiation" else -1)
    m = start.array
    trace = [(0.0, core_centres(_mz(start), lane))]
    for i in range(CHUNKS_PER_PULSE):
        system = build_system(lane, params, m, f"{direction}_pulse")
        m = engine.evolve(system, t_s=chunk, n_steps=1, engine=engine_name, sot=sot, cache_dir=cache_dir).m.array
        t = (i + 1) * chunk
        centres = core_centres(_mz(m), lane)
        trace.append((t, centres))
        under, total = _count(centres, lane)
        if total != total0:
            break
        if under == target:
            settled = engine.relax(build_system(lane, params, m, "after_pulse"), engine=engine_name,
                                   tol=params.relax_tol_A_per_m, cache_dir=cache_dir)
            if _count(core_centres(_mz(settled.m), lane), lane) == (target, total0):
                return {"success": True, "pulse_s": t, "trace": trace}
    return {"success": False, "pulse_s": float("nan"), "trace": trace}


def run_updates(params: SynapseParams, engine_name, cache_dir, progress=True):
    """Minimum pulse per current density and direction for the representative level step.

    The lane is symmetric under a rotation by pi about z through its centre, which swaps the
    reservoir and MTJ sites and reverses the current: depression is the image of potentiation
    (identical pulse and energy), so only potentiation is simulated.
    """
    lane = lane_geometry(params)
    k = params.n_sites // 2
    relaxed = relax_state(lane, params, level_centres(lane, 0, 1), "lane", engine_name, cache_dir).m
    hm = params.heavy_metal
    volume = lane.length_m * lane.width_m * hm.thickness_m
    rows, traces = [], {}
    for j in tqdm(sorted(params.update.current_densities_A_per_m2), desc="synapse update", unit="pulse",
                  disable=not progress):
        out = run_pulse(params, lane, relaxed, j, "potentiation", engine_name, cache_dir)
        traces[j] = out
        energy = float(mtj.joule_energy_J(hm.resistivity_ohm_m, j, volume, out["pulse_s"]))
        for direction, k0, k1 in [("potentiation", k, k + 1), ("depression", k + 1, k)]:
            rows.append({"direction": direction, "from_level": k0, "to_level": k1, "current_density_A_m2": j,
                         "pulse_s": out["pulse_s"], "energy_J": energy, "success": out["success"]})
    return pd.DataFrame(rows), traces, lane, volume


def run_update_stage(params: SynapseParams, engine_name: str, outdir: Path, cache_dir: Path | None = None) -> None:
    """The write pulses (one job of the stage): update.csv, update.json (engine, write lane, time) and pulse.png.
    The engine cache: cache_dir, else outdir/.cache."""
    start = time.perf_counter()
    outdir = Path(outdir)
    updates, traces, lane, volume = run_updates(params, engine_name, outdir / ".cache" if cache_dir is None
                                                else Path(cache_dir))
    backend = engine._backend(engine.resolve_engine(engine_name))
    _plot_pulse(outdir / "pulse.png", updates, traces, lane)
    io.write_csv(outdir / "update.csv", updates)
    io.write_json(outdir / "update.json", {
        "engine": engine.resolve_engine(engine_name), "engine_version": backend.version(),
        "wall_time_s": time.perf_counter() - start,
        "lane": {**dataclasses.asdict(lane), "length_m": lane.length_m, "width_m": lane.width_m,
                 "heavy_metal_volume_m3": volume}})


def gather_stage(params: SynapseParams, chunk_csvs: list[Path], chunk_npzs: list[Path], update_json: Path,
                 outdir: Path, seed: int) -> None:
    """Gather the level jobs and the update job into levels.csv, run.json, mz_maps.npz and the plots."""
    rows = pd.concat([pd.read_csv(path) for path in chunk_csvs]).sort_values(["level", "sample"])
    expected = {(k, s) for k in range(params.n_sites + 1) for s in range(params.ensemble)}
    found = set(zip(rows["level"], rows["sample"]))
    if found != expected or len(rows) != len(expected):
        raise ValueError(f"the level jobs hold {len(rows)} states, not the {len(expected)} (level, sample) pairs "
                         "of the synapse section: were they run with another config?")
    engines = rows[["engine", "engine_version"]].drop_duplicates()
    if len(engines) != 1:
        raise ValueError(f"the level jobs ran on different engines: {engines.to_dict(orient='records')}")
    update = json.loads(Path(update_json).read_text())
    geom = geometry(params)
    states = {}
    for path in chunk_npzs:
        with np.load(path) as archive:
            states.update({int(key.split("_")[1]): archive[key] for key in archive.files})
    maps = {k: _mz(m) for k, m in states.items()}
    radius = None
    if 1 in states:
        state = df.Field(geom.mesh(), nvdim=3, value=states[1])
        if measure.skyrmion_count(state, region=geom.mtj_half_mask()) == 1:
            radius = measure.skyrmion_radius(state, region=geom.mtj_half_mask())
    outdir = Path(outdir)
    map_levels = _map_levels(params.n_sites)
    x, y = geom.cell_centres()
    io.write_npz(outdir / "mz_maps.npz", x_m=x, y_m=y, boundary_x_m=geom.boundary_x_m,
                 **{f"level_{k}": maps[k].astype(np.float32) for k in map_levels})
    _plot_levels(outdir / "levels.png", rows)
    _plot_maps(outdir / "mz_maps.png", maps, geom, map_levels)
    io.write_csv(outdir / "levels.csv", rows[["level", "sample", "n_skyrmions", "topological_charge", "mz_mean",
                                              "conductance_S"]])
    io.write_json(outdir / "run.json", {
        "stage": "skyrmion_synapse", "engine": engines["engine"].iloc[0],
        "engine_version": engines["engine_version"].iloc[0],
        "job_time_s": float(rows["relax_wall_s"].sum()) + update["wall_time_s"],  # all its jobs, one after another
        "relax_time_s": float(rows["relax_wall_s"].sum()), "update_time_s": update["wall_time_s"],
        "n_relaxations": len(rows), "level_jobs": len(chunk_csvs), "seed": seed, "params": dataclasses.asdict(params),
        "geometry": {**dataclasses.asdict(geom), "length_m": geom.length_m, "width_m": geom.width_m,
                     "boundary_x_m": geom.boundary_x_m, "mtj_area_m2": geom.mtj_area_m2},
        "lane": update["lane"], "skyrmion_radius_m": radius, "wall_width_parameter_m": wall_width_m(params),
    })


def _map_levels(total: int) -> list[int]:
    return sorted({0, 1, total // 2, total} & set(range(total + 1)))


def _plot_levels(path, levels: pd.DataFrame) -> None:
    """G(k) of the ensemble means with the on/off ratio G_max / G_min (as in the synapse_levels table), and
    each relaxed state's deviation from its level mean, the ensemble spread, on a scale where it shows."""
    import matplotlib.pyplot as plt
    stats = levels.groupby("level")["conductance_S"].agg(["mean", "min", "max"])
    deviation = levels["conductance_S"] - levels["level"].map(stats["mean"])
    fig, (ax, spread) = plt.subplots(1, 2, figsize=(12, 4.5))
    ax.plot(stats.index, stats["mean"] * 1e3, "o-", ms=4, label="ensemble mean")
    ax.plot(levels["level"], levels["conductance_S"] * 1e3, "k.", ms=3, label="relaxed states")
    g_max, g_min = stats["mean"].max(), stats["mean"].min()
    ax.set(xlabel="level k (skyrmions under the MTJ)", ylabel="conductance G (mS)", title="Synapse levels")
    ax.text(0.5, 0.04, f"on/off ratio G_max / G_min = {g_max / g_min:.3g}, dynamic range (G_max - G_min) / G_max = "
            f"{(g_max - g_min) / g_max:.3g}", transform=ax.transAxes, ha="center", fontsize=9,
            bbox={"facecolor": "white", "alpha": 0.8})
    ax.legend(fontsize=9)
    spread.fill_between(stats.index, (stats["min"] - stats["mean"]) * 1e6, (stats["max"] - stats["mean"]) * 1e6,
                        alpha=0.3, label="ensemble range")
    spread.plot(levels["level"], deviation * 1e6, "k.", ms=6, label="relaxed states")
    spread.axhline(0, color="grey", lw=0.5)
    spread.set(xlabel="level k (skyrmions under the MTJ)", ylabel="G - level mean (µS)",
               title=f"Ensemble spread (ensemble of {levels.groupby('level').size().min()})")
    spread.set_xticks(stats.index)
    ax.set_xticks(stats.index)
    spread.legend(fontsize=9)
    io.save_figure(path, fig)


def _plot_maps(path, maps: dict, geom: Geometry, levels: list[int]) -> None:
    import matplotlib.pyplot as plt
    from matplotlib.patches import Circle
    fig, axes = plt.subplots(1, len(levels), figsize=(3.2 * len(levels), 2.2), squeeze=False)
    extent = (0, geom.length_m * 1e9, 0, geom.width_m * 1e9)
    for ax, k in zip(axes[0], levels):
        im = ax.imshow(maps[k].T, origin="lower", extent=extent, cmap="RdBu_r", vmin=-1, vmax=1)
        for x, y in geom.sites("mtj"):
            pillar = ax.add_patch(Circle((x * 1e9, y * 1e9), geom.pillar_radius_m * 1e9, fill=False, ec="k", lw=0.6,
                                         label="MTJ pillars (readout)"))
        ax.axvline(geom.boundary_x_m * 1e9, color="k", lw=0.8, ls="--")
        ax.set(title=f"level {k}", xlabel="x (nm)")
    axes[0][0].set_ylabel("y (nm)")
    fig.colorbar(im, ax=axes[0].tolist(), label="$m_z$", shrink=0.8)
    fig.legend(handles=[pillar], loc="upper left", fontsize=8)
    io.save_figure(path, fig)


def _plot_pulse(path, updates: pd.DataFrame, traces: dict, lane: Geometry) -> None:
    """Core x and y during the potentiation pulse of the smallest successful current (else the smallest)."""
    import matplotlib.pyplot as plt
    ok = updates[updates["success"]]
    j = (ok if len(ok) else updates)["current_density_A_m2"].min()
    out = traces[j]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    for ax, axis, label in [(axes[0], 0, "core x (nm)"), (axes[1], 1, "core y (nm)")]:
        for t, centres in out["trace"]:
            ax.plot(np.full(len(centres), t * 1e9), centres[:, axis] * 1e9, "k.", ms=4)
        if out["success"]:
            ax.axvline(out["pulse_s"] * 1e9, color="tab:green", label="pulse end")
        ax.set(xlabel="time (ns)", ylabel=label)
    axes[0].axhline(lane.boundary_x_m * 1e9, color="tab:red", ls="--", label="MTJ edge")
    axes[0].legend(loc="best", fontsize=8)
    axes[1].set_ylim(0, lane.width_m * 1e9)
    fig.suptitle(f"Potentiation pulse in the write lane, J = {j:.2g} A/m² (y drift: skyrmion Hall effect)")
    io.save_figure(path, fig)
