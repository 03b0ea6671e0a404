"""Skyrmion synapse: geometry, initial states, a real relaxation of a two-skyrmion level."""

import math

import numpy as np
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


def test_level_relaxations_in_two_processes_match_one():
    """Worker processes give the same levels (seeded jitter per level and sample) as the serial loop."""
    p = params(bits=1, ensemble=1)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as in the workers: another thread count sums in another order, and the relaxation
    try:                      # stops at a tolerance, not at one point (here 1e-3 of m_z apart at 2 threads)
        serial, _, _ = synapse.run_levels(p, "magnumnp", 7, None, progress=False)
    finally:
        torch.set_num_threads(threads)
    with synapse.worker_pool(2) as pool:
        parallel, maps, results = synapse.run_levels(p, "magnumnp", 7, None, progress=False, pool=pool)
    columns = ["level", "sample", "n_skyrmions", "topological_charge", "mz_mean", "conductance_S"]
    assert np.allclose(serial[columns].to_numpy(), parallel[columns].to_numpy(), rtol=1e-9, atol=0)
    assert list(parallel["n_skyrmions"]) == [0, 1] and sorted(maps) == [0, 1]
    assert measure.skyrmion_count(results[1].m, region=synapse.geometry(p).mtj_mask()) == 1
