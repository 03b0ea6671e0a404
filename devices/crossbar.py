"""The crossbar design rules: the worst-case IR drop along a line of a tile stays within a bound, and a read is long
enough to resolve one level of one device on a full column.

A line (word or bit line) of N cells is fed from one end; each cell is a synapse at G_max read at the
full-scale V_read and draws I = V_read G_max (first order: the drop's effect on the cell currents is
neglected, valid while the drop is small). Segment n carries the currents of cells n..N, so the far cell
sees a drop

    dV = r I (N + (N - 1) + ... + 1) = r V_read G_max N (N + 1) / 2,

r the wire resistance of one cell's length of line: r = rho p / (w * AR w), p the cell pitch along the
line (the synapse's longer side), w the wire width, AR its aspect ratio. The rule: dV / V_read <=
crossbar.max_ir_drop_fraction for N = max(tile_rows, tile_columns). It is evaluated before any job from
the parallel-state conductance of the readout (an upper bound of every level: workflow/config_check.py)
and in the tables stage from the measured G_max (devices/tables.py), whose figures go into the sidecar.

The read-time rule (`read_time_rule`): a read must resolve one level of one device on a full column. A device
column of N = tile_rows cells, every cell at the levels' mean conductance G and every row at V_read, carries the
tunnel-junction noise of N cells, variance N S_I(G, V_read) / (2 t_read) (devices.mtj); the read is long enough
when its standard deviation is no larger than the current of the smallest level gap, dG_min V_read:

    t_read >= N S_I(G, V_read) / (2 (dG_min V_read)^2).

It is evaluated in the tables stage from the measured levels and recorded beside crossbar.read_time_s (not
enforced: a shorter read is a choice whose noise the network then feels, system/crossbar.py).

The tile's IR drop itself (`solve_tile`): rows driven at one end, columns summed into a virtual ground at
the other, a wire segment r between neighbouring cells and between a line's end and its first cell;
Kirchhoff's current law at every node of both line networks, solved exactly. `attenuation` gives the
voltage each cell keeps, as a fraction of its row's, with every cell at one conductance and every row at
full scale: the design rule's worst case (G_max), which the network applies as a static gain per cell.
"""
from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse import linalg

from devices import mtj
from devices.mtj import UM2
from devices.params import CrossbarParams


class DesignRuleError(ValueError):
    """The synapse breaks the crossbar design rule; the message is one line naming the keys."""


def wire_resistance_per_cell_ohm(crossbar: CrossbarParams, cell_pitch_m: float) -> float:
    """rho p / (w AR w) (ohm): one cell pitch of line."""
    wire = crossbar.wire
    return wire.resistivity_ohm_m * cell_pitch_m / (wire.width_m * wire.aspect_ratio * wire.width_m)


def line_cells(crossbar: CrossbarParams) -> int:
    """Cells on the longest line of the tile."""
    return max(crossbar.tile_rows, crossbar.tile_columns)


def max_conductance_S(crossbar: CrossbarParams, cell_pitch_m: float) -> float:
    """The largest G_max (S) the rule allows."""
    n = line_cells(crossbar)
    return crossbar.max_ir_drop_fraction / (wire_resistance_per_cell_ohm(crossbar, cell_pitch_m) * n * (n + 1) / 2)


def design_rule(crossbar: CrossbarParams, G_max_S: float, cell_pitch_m: float) -> dict:
    """The rule's figures for a synapse of largest conductance G_max_S (S) and cell pitch cell_pitch_m (m)."""
    n = line_cells(crossbar)
    r = wire_resistance_per_cell_ohm(crossbar, cell_pitch_m)
    drop = r * G_max_S * n * (n + 1) / 2
    return {"line_cells": n, "cell_pitch_m": cell_pitch_m, "wire_resistance_per_cell_ohm": r,
            "G_max_S": G_max_S, "ir_drop_fraction": drop, "max_ir_drop_fraction": crossbar.max_ir_drop_fraction,
            "max_conductance_S": max_conductance_S(crossbar, cell_pitch_m),
            "line_current_A": n * crossbar.read_voltage_V * G_max_S, "holds": bool(drop <= crossbar.max_ir_drop_fraction)}


def check(crossbar: CrossbarParams, G_max_S: float, cell_pitch_m: float, mtj_area_m2: float,
          what: str = "G_max") -> dict:
    """design_rule's figures; DesignRuleError (one line naming the keys and the RA that would hold) if it fails."""
    figures = design_rule(crossbar, G_max_S, cell_pitch_m)
    if not figures["holds"]:
        min_ra = mtj_area_m2 / figures["max_conductance_S"] / UM2
        raise DesignRuleError(
            f"synapse.mtj.RA_ohm_um2: the synapse breaks the crossbar design rule: {what} = {G_max_S * 1e6:.4g} uS "
            f"drops {figures['ir_drop_fraction']:.3g} of V_read along a {figures['line_cells']}-cell line "
            f"(crossbar.max_ir_drop_fraction {crossbar.max_ir_drop_fraction:g}, wire "
            f"{figures['wire_resistance_per_cell_ohm']:.3g} ohm per cell); RA must be >= {min_ra:.3g} ohm um^2 "
            f"or crossbar.tile_rows / tile_columns smaller")
    return figures


def level_resolving_read_time_s(rows: int, g_mean_S: float, gap_S: float, read_voltage_V: float,
                                temperature_K: float) -> float:
    """Shortest read (s) whose current noise std on a column of `rows` cells at g_mean_S (S), every row at
    read_voltage_V (V), is no larger than gap_S read_voltage_V (module docstring)."""
    noise_density = mtj.current_noise_density_A2_per_Hz(g_mean_S, read_voltage_V, temperature_K)
    return float(rows * noise_density / (2 * (gap_S * read_voltage_V) ** 2))


def read_time_rule(crossbar: CrossbarParams, levels_S) -> dict:
    """The read-time rule's figures for a synapse of conductance levels levels_S (S), beside crossbar.read_time_s."""
    g = np.sort(np.asarray(levels_S, float))
    g_mean, gap = float(g.mean()), float(np.diff(g).min())
    needed = level_resolving_read_time_s(crossbar.tile_rows, g_mean, gap, crossbar.read_voltage_V,
                                         crossbar.temperature_K)
    return {"column_cells": crossbar.tile_rows, "g_mean_S": g_mean, "smallest_gap_S": gap,
            "level_resolving_read_time_s": needed, "read_time_s": crossbar.read_time_s,
            "holds": bool(crossbar.read_time_s >= needed)}


def solve_tile(conductance_S: np.ndarray, row_voltages_V: np.ndarray, wire_ohm: float) -> tuple[np.ndarray, np.ndarray]:
    """(column currents (M,) (A), voltage across each cell (N, M) (V)) of a tile of cells G (N rows x M columns)
    whose row i is driven at V_i at the end before column 0 and whose columns flow into a virtual ground past row
    N - 1; wire_ohm > 0 is the line resistance between neighbouring cells and between a line's end and its first
    cell. Unknowns: the row-line node u_ij and the column-line node v_ij at each cell."""
    g = np.asarray(conductance_S, np.float64)
    n, m = g.shape
    v_in = np.asarray(row_voltages_V, np.float64)
    if v_in.shape != (n,) or not wire_ohm > 0:
        raise ValueError(f"need {n} row voltages and wire_ohm > 0, got shape {v_in.shape} and {wire_ohm}")
    y = 1.0 / wire_ohm
    u = np.arange(n * m).reshape(n, m)     # index of u_ij
    v = u + n * m                          # index of v_ij
    rows, cols, vals = [], [], []

    def add(i, j, value):
        rows.append(i.ravel()), cols.append(j.ravel()), vals.append(np.broadcast_to(value, i.shape).ravel())

    # row nodes: segment to the left (to the driver for j = 0), to the right (none after the last), cell to v
    add(u, u, y + np.where(np.arange(m) < m - 1, y, 0.0)[None, :] + g)
    add(u[:, 1:], u[:, :-1], -y)
    add(u[:, :-1], u[:, 1:], -y)
    add(u, v, -g)
    # column nodes: segment up (none above row 0), down (to ground past the last row), cell to u
    add(v, v, y + np.where(np.arange(n) > 0, y, 0.0)[:, None] + g)
    add(v[1:, :], v[:-1, :], -y)
    add(v[:-1, :], v[1:, :], -y)
    add(v, u, -g)
    matrix = sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                               shape=(2 * n * m, 2 * n * m))
    rhs = np.zeros(2 * n * m)
    rhs[u[:, 0]] = y * v_in
    nodes = linalg.spsolve(matrix.tocsc(), rhs)
    row_nodes, column_nodes = nodes[u], nodes[v]
    return column_nodes[-1, :] * y, row_nodes - column_nodes


def attenuation(tile_rows: int, tile_columns: int, conductance_S: float, wire_ohm: float) -> np.ndarray:
    """Voltage across each cell over its row's voltage (tile_rows, tile_columns), every cell at conductance_S (S)
    and every row at the same voltage (the circuit is linear: any voltage gives the same fractions)."""
    g = np.full((tile_rows, tile_columns), float(conductance_S))
    return solve_tile(g, np.ones(tile_rows), wire_ohm)[1]
