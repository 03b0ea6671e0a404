"""Measurements on magnetisation fields: topological charge, skyrmions, domain walls, averages.

Every function takes m as a discretisedfield Field, or as an (nx, ny, nz, 3) array together with
cell=(dx, dy, dz) in m (and optionally origin, the mesh's minimum corner in m). m need not be
normalised; cells where |m| = 0 (Ms = 0) are empty and ignored. region restricts a measurement: a
boolean cell mask of shape (nx, ny, nz) or (nx, ny), a box ((x1, y1, z1), (x2, y2, z2)) in m or a
discretisedfield Region (cells whose centres lie inside). Lengths are returned in m.
"""
from __future__ import annotations

import math

import discretisedfield as df
import numpy as np
from scipy import ndimage, optimize


def _unpack(m, cell=None, origin=None):
    """(unit m array, magnetic mask, cell, origin) from a Field or an array with cell sizes."""
    if isinstance(m, df.Field):
        array, cell, origin = m.array, m.mesh.cell, m.mesh.region.pmin
    elif cell is None:
        raise ValueError("an array m needs cell=(dx, dy, dz) in m")
    else:
        array = m
    array = np.asarray(array, dtype=float)
    norm = np.linalg.norm(array, axis=-1)
    magnetic = norm > 0
    unit = np.divide(array, norm[..., None], out=np.zeros_like(array), where=magnetic[..., None])
    origin = np.zeros(3) if origin is None else np.asarray(origin, dtype=float)
    return unit, magnetic, np.asarray(cell, dtype=float), origin


def _region_mask(region, shape, cell, origin) -> np.ndarray:
    """Boolean (nx, ny, nz) mask of the cells selected by region (see the module docstring)."""
    if region is None:
        return np.ones(shape, dtype=bool)
    if isinstance(region, np.ndarray) and region.dtype == bool:
        mask = region if region.ndim == 3 else region[..., None]
        return np.broadcast_to(mask, shape)
    if isinstance(region, df.Region):
        p1, p2 = region.pmin, region.pmax
    else:
        p1, p2 = region
    lo, hi = np.minimum(p1, p2), np.maximum(p1, p2)
    axes = [origin[d] + (np.arange(shape[d]) + 0.5) * cell[d] for d in range(3)]
    inside = [(a >= lo[d]) & (a <= hi[d]) for d, a in enumerate(axes)]
    return inside[0][:, None, None] & inside[1][None, :, None] & inside[2][None, None, :]


def topological_charge(m, region=None, *, cell=None, origin=None) -> float:
    """Skyrmion number Q = (1/4 pi) integral of m . (dm/dx x dm/dy) dx dy, by Berg and Luescher's lattice method.

    Each plaquette of four cell centres (all magnetic and in region) is split into the triangles
    (00, 10, 11) and (00, 11, 01), counter-clockwise seen from +z; each contributes its signed solid
    angle 2 atan2(m1.(m2 x m3), 1 + m1.m2 + m2.m3 + m3.m1). Layers along z are averaged. With this
    sign convention a skyrmion whose core points down (-z) in a +z background has Q = -1.
    """
    unit, magnetic, cell, origin = _unpack(m, cell, origin)
    use = magnetic & _region_mask(region, magnetic.shape, cell, origin)
    corners = [(slice(None, -1), slice(None, -1)), (slice(1, None), slice(None, -1)),
               (slice(1, None), slice(1, None)), (slice(None, -1), slice(1, None))]
    m00, m10, m11, m01 = (unit[a, b] for a, b in corners)
    valid = np.logical_and.reduce([use[a, b] for a, b in corners])

    def solid_angle(m1, m2, m3):
        num = np.einsum("...i,...i", m1, np.cross(m2, m3))
        den = 1 + np.einsum("...i,...i", m1, m2) + np.einsum("...i,...i", m2, m3) + np.einsum("...i,...i", m3, m1)
        return 2 * np.arctan2(num, den)

    omega = solid_angle(m00, m10, m11) + solid_angle(m00, m11, m01)
    return float(np.where(valid, omega, 0).sum() / (4 * math.pi) / unit.shape[2])


def _mz_layer(m, region, cell, origin):
    """m_z averaged over z (nx, ny), the in-plane mask of magnetic cells in region, and the cell sizes."""
    unit, magnetic, cell, origin = _unpack(m, cell, origin)
    use = magnetic & _region_mask(region, magnetic.shape, cell, origin)
    count = use.sum(axis=2)
    mz = np.divide(np.where(use, unit[..., 2], 0).sum(axis=2), count, out=np.zeros(count.shape), where=count > 0)
    return mz, count > 0, cell, origin


def skyrmion_count(m, region=None, *, cell=None, origin=None) -> int:
    """Number of connected regions (edge-sharing cells, scipy.ndimage.label) with m_z < 0 in region."""
    mz, use, _, _ = _mz_layer(m, region, cell, origin)
    return int(ndimage.label(use & (mz < 0))[1])


def skyrmion_radius(m, region=None, *, cell=None, origin=None, subdivisions: int = 32) -> float:
    """Radius (m) of the single skyrmion in region: sqrt(A / pi), A the area where m_z < 0.

    A is measured on m_z interpolated between cell centres by a cubic spline and sampled at
    subdivisions^2 points per cell around the skyrmion, which places the m_z = 0 contour to about
    1e-3 of a cell (bilinear interpolation would bias it by ~1e-2). Cells outside region or
    without magnetisation count as m_z = +1. ValueError unless exactly one m_z < 0 region exists.
    """
    mz, use, cell, _ = _mz_layer(m, region, cell, origin)
    mz = np.where(use, mz, 1.0)
    labels, count = ndimage.label(mz < 0)
    if count != 1:
        raise ValueError(f"expected one skyrmion (m_z < 0 region), found {count}")
    box = ndimage.find_objects(labels)[0]
    lo = [max(b.start - 2, 0) for b in box]
    hi = [min(b.stop + 2, n) for b, n in zip(box, mz.shape)]
    u, v = ((np.arange((stop - start) * subdivisions) + 0.5) / subdivisions - 0.5 + start for start, stop in zip(lo, hi))
    fine = ndimage.map_coordinates(mz, np.meshgrid(u, v, indexing="ij"), order=3, mode="nearest")
    area = (fine < 0).sum() * cell[0] * cell[1] / subdivisions ** 2
    return math.sqrt(area / math.pi)


def skyrmion_centre(m, region=None, *, cell=None, origin=None) -> tuple[float, float]:
    """(x, y) (m) of the single core-down skyrmion in region: centroid of the weight (1 - m_z) / 2.

    Choose a region that leaves out canted free edges, whose weight would pull the centroid.
    """
    mz, use, cell, origin = _mz_layer(m, region, cell, origin)
    weight = np.where(use, (1 - mz) / 2, 0.0)
    if weight.sum() == 0:
        raise ValueError("no reversed magnetisation in region")
    x = origin[0] + (np.arange(mz.shape[0]) + 0.5) * cell[0]
    y = origin[1] + (np.arange(mz.shape[1]) + 0.5) * cell[1]
    return float((weight.sum(1) * x).sum() / weight.sum()), float((weight.sum(0) * y).sum() / weight.sum())


def _wall_profile(m, region, cell, origin):
    """x of the cell centres (m) and m_z averaged over y and z, for columns holding magnetic cells."""
    unit, magnetic, cell, origin = _unpack(m, cell, origin)
    use = magnetic & _region_mask(region, magnetic.shape, cell, origin)
    count = use.sum(axis=(1, 2))
    x = origin[0] + (np.arange(unit.shape[0]) + 0.5) * cell[0]
    mz = np.where(use, unit[..., 2], 0).sum(axis=(1, 2))
    keep = count > 0
    return x[keep], mz[keep] / count[keep]


def dw_position(m, region=None, *, cell=None, origin=None) -> float:
    """x (m) where the y- and z-averaged m_z(x) crosses zero, interpolated linearly between cells.

    ValueError unless the profile changes sign exactly once (one wall along the track).
    """
    x, mz = _wall_profile(m, region, cell, origin)
    crossings = np.nonzero(np.sign(mz[:-1]) * np.sign(mz[1:]) < 0)[0]
    zeros = np.nonzero(mz == 0)[0]
    if len(crossings) + len(zeros) != 1:
        raise ValueError(f"expected one domain wall (one sign change of m_z along x), found "
                         f"{len(crossings) + len(zeros)}")
    if len(zeros):
        return float(x[zeros[0]])
    i = crossings[0]
    return float(x[i] - mz[i] * (x[i + 1] - x[i]) / (mz[i + 1] - mz[i]))


def dw_width(m, region=None, *, cell=None, origin=None) -> float:
    """Wall width parameter Delta (m) from a least-squares fit of m_z(x) = -s tanh((x - x0) / Delta).

    This is the Delta of the Bloch profile theta(x) = 2 atan(exp((x - x0) / Delta)), sqrt(A/K_eff) in
    the analytic 1D model (the wall is pi Delta wide by Lilley's definition); s = +1 for m_z > 0 on
    the left. m_z(x) is averaged over y and z.
    """
    x, mz = _wall_profile(m, region, cell, origin)
    s = 1.0 if mz[0] > mz[-1] else -1.0
    x0 = dw_position(m, region, cell=cell, origin=origin)
    guess = max(abs(x[-1] - x[0]) / 20, float(np.min(np.diff(x))))
    (x0, delta), _ = optimize.curve_fit(lambda x, x0, d: -s * np.tanh((x - x0) / d), x, mz, p0=(x0, guess))
    return float(abs(delta))


def mz_mean(m, region=None, *, cell=None, origin=None) -> float:
    """Average m_z over the magnetic cells in region."""
    unit, magnetic, cell, origin = _unpack(m, cell, origin)
    use = magnetic & _region_mask(region, magnetic.shape, cell, origin)
    if not use.any():
        raise ValueError("region holds no magnetic cells")
    return float(unit[..., 2][use].mean())
