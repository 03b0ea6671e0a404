"""Skyrmion synapse: geometry, initial states, a real relaxation of a two-skyrmion level."""

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from devices import measure, mtj, synapse
from devices.params import SynapseParams
from tests.conftest import REPO

CONFIG = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["synapse"]


def params(**changes) -> SynapseParams:
    return SynapseParams.from_config({**CONFIG, **changes})


@pytest.mark.parametrize("bits", [1, 2, 3, 6])
def test_every_level_fills_lattice_sites(bits):
    """Level k: k cores on the first k MTJ-half sites (from the boundary outwards), the rest on reservoir sites;
    sites a pitch apart and at least a pitch from the free edges; pinning disks at every site."""
    p = params(bits=bits)
    geom = synapse.geometry(p)
    n = 2 ** bits - 1
    pitch, cell = p.skyrmion_pitch_m, p.cell_m
    mtj_sites = geom.sites("mtj")
    for k in range(n + 1):
        centres = synapse.level_centres(geom, k, n)
        assert len(centres) == n and (centres[:, 0] >= geom.boundary_x_m).sum() == k
        assert np.allclose(centres[:k], mtj_sites[:k])
        if n > 1:
            spacing = np.hypot(*(centres[:, None, :] - centres[None, :, :]).transpose(2, 0, 1))
            assert spacing[~np.eye(n, dtype=bool)].min() == pytest.approx(pitch)
        edge = np.minimum.reduce([centres[:, 0], geom.length_m - centres[:, 0], centres[:, 1],
                                  geom.width_m - centres[:, 1]])
        assert edge.min() > pitch - cell
    assert np.all(np.diff(mtj_sites[:, 0]) >= 0)  # filled column by column from the boundary
    assert np.all(np.abs(mtj_sites[:, 0] - geom.boundary_x_m) >= pitch / 2 - 1e-15)
    # the pillars' cells approximate their disks (within a ring of cells); pinning disks lower Ku at every site
    assert geom.mtj_mask().sum() * cell ** 2 == pytest.approx(geom.mtj_area_m2, rel=0.25)
    K = synapse.anisotropy_J_per_m3(geom, p)[:, :, 0, 0]
    for x, y in np.concatenate([mtj_sites, geom.sites("reservoir")]):
        assert K[int(x / cell), int(y / cell)] == p.pinning.Ku_J_per_m3


def test_texture_has_down_cores_with_the_dmi_chirality():
    p = params(bits=2)
    geom = synapse.geometry(p)
    centre = synapse.level_centres(geom, 1, 1)[0]
    m = synapse.skyrmion_texture(geom, [centre], 6e-9, 5e-9, p.material.D_J_per_m2)
    assert np.allclose(np.linalg.norm(m, axis=-1), 1)
    i, j = (centre / p.cell_m).astype(int)
    assert m[i, j, 0, 2] < -0.9 and m[0, 0, 0, 2] > 0.99
    assert m[i + 4, j, 0, 0] < 0  # D > 0 (ubermag Cnv_z): in-plane part points towards the core
    cores = synapse.core_centres(m[:, :, 0, 2], geom)
    assert len(cores) == 1 and np.hypot(*(cores[0] - centre)) < p.cell_m


def test_motion_sign():
    assert synapse.motion_sign(3e-3, 0.1) == -1 and synapse.motion_sign(-3e-3, 0.1) == 1


def test_two_skyrmion_level_relaxes_to_two_cores_under_the_mtj():
    p = params(bits=2)
    geom = synapse.geometry(p)
    result = synapse.relax_state(geom, p, synapse.level_centres(geom, 2, 3), "level2", "magnumnp", None)
    row = synapse.measure_level(result.m, geom, p)
    assert row["n_skyrmions"] == 2
    assert abs(abs(row["topological_charge"]) / 2 - 1) < 0.1
    assert measure.skyrmion_count(result.m, region=~geom.mtj_half_mask()) == 1  # the third stays in the reservoir
    g_p = mtj.parallel_state_conductance_S(geom.mtj_area_m2, p.mtj.RA_ohm_um2)
    # two of the four pillars sit on cores: m_z under the pillars about (2 - 2) / 4 + the cores' edges
    assert g_p / (1 + p.mtj.TMR) < row["conductance_S"] < g_p and 0.0 < row["mz_mean"] < 0.6
    cores = synapse.core_centres(synapse._mz(result.m), geom)
    assert np.allclose(np.sort(cores[cores[:, 0] > geom.boundary_x_m], axis=0), np.sort(geom.sites("mtj")[:2], axis=0),
                       atol=2 * p.cell_m)  # pinned on their sites
    radius = math.sqrt((synapse._mz(result.m) < 0).sum() * geom.cell_m ** 2 / len(cores) / math.pi)
    assert 5e-9 < radius < p.pinning.radius_m


def test_level_jobs_split_every_relaxation_once():
    p = params(bits=3, ensemble=3)
    for chunks in (1, 5, 8, 24):
        jobs = [synapse.level_jobs(p, c, chunks) for c in range(chunks)]
        flat = [job for chunk in jobs for job in chunk]
        assert sorted(flat) == [(k, s) for k in range(8) for s in range(3)]
        assert max(map(len, jobs)) - min(map(len, jobs)) <= 1
    with pytest.raises(ValueError, match="level job 8 is not one of 0..7"):
        synapse.level_jobs(p, 8, 8)


def test_scattered_level_jobs_gather_to_the_one_job_levels(tmp_path):
    """Two level jobs gathered give the rows of one job (seeded jitter per level and sample), the maps, and run.json;
    a job set from another ensemble is refused."""
    p = params(bits=1, ensemble=1)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # another thread count sums in another order, and the relaxation stops at a tolerance
    try:
        one, _ = synapse.run_level_chunk(p, "magnumnp", 7, None, 0, 1, progress=False)
        for job in range(2):
            synapse.write_level_chunk(p, "magnumnp", 7, None, job, 2, tmp_path / f"{job}.csv", tmp_path / f"{job}.npz")
    finally:
        torch.set_num_threads(threads)
    update = tmp_path / "update.json"  # the write-pulse job's hand-off (its pulses are tested on their own)
    update.write_text(json.dumps({"wall_time_s": 1.0, "lane": {"heavy_metal_volume_m3": 1e-23}}))
    csvs, npzs = [tmp_path / f"{job}.csv" for job in range(2)], [tmp_path / f"{job}.npz" for job in range(2)]
    synapse.gather_stage(p, csvs, npzs, update, tmp_path / "out", seed=7)
    gathered = pd.read_csv(tmp_path / "out" / "levels.csv")
    columns = ["level", "sample", "n_skyrmions", "topological_charge", "mz_mean", "conductance_S"]
    assert np.allclose(gathered[columns].to_numpy(), one[columns].to_numpy(), rtol=1e-9, atol=0)
    assert list(gathered["n_skyrmions"]) == [0, 1]
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert run["n_relaxations"] == 2 and run["level_jobs"] == 2 and run["engine"] == "magnumnp"
    assert run["job_time_s"] == pytest.approx(run["relax_time_s"] + 1.0)
    assert 5e-9 < run["skyrmion_radius_m"] < p.pinning.radius_m
    with np.load(tmp_path / "out" / "mz_maps.npz") as maps:
        mtj_half = maps["x_m"] >= maps["boundary_x_m"]  # rows of the (x, y) maps; level 0: no core there, level 1: one
        assert maps["level_0"][mtj_half].min() > 0.5 and maps["level_1"][mtj_half].min() < -0.5
    with pytest.raises(ValueError, match="not the 4 \\(level, sample\\) pairs"):
        synapse.gather_stage(params(bits=1, ensemble=2), csvs, npzs, update, tmp_path / "other", seed=7)