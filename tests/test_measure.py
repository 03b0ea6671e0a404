"""Measurements on analytic magnetisation fields with known charge, radius, wall position and width."""
import math

import discretisedfield as df
import numpy as np
import pytest

from devices import measure

CELL = (1e-9, 1e-9, 1e-9)


def skyrmion_array(n=60, centres=((30e-9, 30e-9),), radius=8e-9, wall=2e-9, core=-1, helicity=0.0):
    """Skyrmions with m_z = 0 exactly at `radius` from each centre: theta = 2 atan(exp((R - r) / w)) for core -1."""
    x = (np.arange(n) + 0.5) * CELL[0]
    X, Y = np.meshgrid(x, x, indexing="ij")
    m = np.zeros((n, n, 1, 3))
    m[..., 2] = -core
    for cx, cy in centres:
        r = np.hypot(X - cx, Y - cy)
        near = r < 4 * radius
        theta = 2 * np.arctan(np.exp((radius - r) / wall))
        phi = np.arctan2(Y - cy, X - cx) + helicity
        s = np.sin(theta) * core * -1
        m[near, 0, 0] = (s * np.cos(phi))[near]
        m[near, 0, 1] = (s * np.sin(phi))[near]
        m[near, 0, 2] = (-core * np.cos(theta))[near]
    return m


def wall_array(n=200, x0=83.3e-9, delta=5e-9, ny=4, up_left=True):
    x = (np.arange(n) + 0.5) * CELL[0]
    theta = 2 * np.arctan(np.exp((x - x0) / delta))
    if not up_left:
        theta = math.pi - theta
    m = np.zeros((n, ny, 1, 3))
    m[..., 0] = np.sin(theta)[:, None, None]
    m[..., 2] = np.cos(theta)[:, None, None]
    return m


@pytest.mark.parametrize("core, helicity, expected", [(-1, 0.0, -1), (-1, math.pi / 2, -1), (1, 0.0, 1)])
def test_topological_charge_sign_convention(core, helicity, expected):
    """Q = -1 for a core-down skyrmion (Neel or Bloch) in a +z background, +1 for the reversed texture."""
    m = skyrmion_array(core=core, helicity=helicity)
    assert measure.topological_charge(m, cell=CELL) == pytest.approx(expected, abs=0.01)


def test_topological_charge_region_and_uniform_state():
    m = skyrmion_array(centres=((20e-9, 30e-9), (45e-9, 30e-9)), radius=5e-9)
    assert measure.topological_charge(m, cell=CELL) == pytest.approx(-2, abs=0.02)
    left = ((0, 0, 0), (32e-9, 60e-9, 1e-9))
    assert measure.topological_charge(m, left, cell=CELL) == pytest.approx(-1, abs=0.02)
    uniform = np.zeros((10, 10, 1, 3))
    uniform[..., 2] = 1
    assert measure.topological_charge(uniform, cell=CELL) == 0


def test_skyrmion_count_ignores_empty_cells():
    m = skyrmion_array(centres=((15e-9, 15e-9), (45e-9, 45e-9), (15e-9, 45e-9)), radius=4e-9)
    m[:3] = 0  # empty cells (Ms = 0) have m_z = 0 and are not skyrmions
    assert measure.skyrmion_count(m, cell=CELL) == 3
    assert measure.skyrmion_count(m, ((0, 0, 0), (30e-9, 30e-9, 1e-9)), cell=CELL) == 1


@pytest.mark.parametrize("radius, centre", [(8e-9, (30e-9, 30e-9)), (5.3e-9, (27.4e-9, 31.1e-9))])
def test_skyrmion_radius_is_the_mz_zero_contour(radius, centre):
    m = skyrmion_array(centres=(centre,), radius=radius)
    assert measure.skyrmion_radius(m, cell=CELL) == pytest.approx(radius, rel=0.005)


def test_skyrmion_radius_needs_one_skyrmion():
    m = skyrmion_array(centres=((15e-9, 15e-9), (45e-9, 45e-9)), radius=4e-9)
    with pytest.raises(ValueError, match="found 2"):
        measure.skyrmion_radius(m, cell=CELL)
    box = ((30e-9, 30e-9, 0), (60e-9, 60e-9, 1e-9))
    assert measure.skyrmion_radius(m, box, cell=CELL) == pytest.approx(4e-9, rel=0.01)


def test_skyrmion_centre_off_the_grid():
    m = skyrmion_array(centres=((27.4e-9, 31.1e-9),), radius=5.3e-9)
    assert measure.skyrmion_centre(m, cell=CELL) == pytest.approx((27.4e-9, 31.1e-9), abs=0.02e-9)
    with pytest.raises(ValueError, match="no reversed"):
        measure.skyrmion_centre(np.broadcast_to([0.0, 0.0, 1.0], (8, 8, 1, 3)), cell=CELL)


@pytest.mark.parametrize("up_left", [True, False])
def test_dw_position_and_width(up_left):
    m = wall_array(up_left=up_left)
    assert measure.dw_position(m, cell=CELL) == pytest.approx(83.3e-9, abs=0.05e-9)
    assert measure.dw_width(m, cell=CELL) == pytest.approx(5e-9, rel=0.01)


def test_dw_position_needs_one_wall():
    uniform = np.zeros((20, 2, 1, 3))
    uniform[..., 2] = 1
    with pytest.raises(ValueError, match="found 0"):
        measure.dw_position(uniform, cell=CELL)


def test_field_input_equals_array_input_with_origin():
    m = wall_array()
    mesh = df.Mesh(p1=(-100e-9, 0, 0), p2=(100e-9, 4e-9, 1e-9), cell=CELL)
    field = df.Field(mesh, nvdim=3, value=m * 5.8e5)
    assert measure.dw_position(field) == pytest.approx(measure.dw_position(m, cell=CELL, origin=(-100e-9, 0, 0)))
    assert measure.dw_position(field) == pytest.approx(83.3e-9 - 100e-9, abs=0.05e-9)


def test_mz_mean_over_magnetic_cells_in_region():
    m = wall_array(x0=100e-9)
    assert measure.mz_mean(m, cell=CELL) == pytest.approx(0, abs=1e-12)
    left = np.zeros(m.shape[:3], dtype=bool)
    left[:100] = True
    assert measure.mz_mean(m, left, cell=CELL) > 0.9
    m[150:] = 0  # empty cells do not count
    assert measure.mz_mean(m, cell=CELL) > 0.3
    with pytest.raises(ValueError, match="no magnetic cells"):
        measure.mz_mean(m, ((160e-9, 0, 0), (200e-9, 4e-9, 1e-9)), cell=CELL)
