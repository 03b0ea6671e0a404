"""Device lookup tables, the only input that ``system/`` takes from the device simulations.

The tables and their sidecars are defined, written and checked by ``pipeline.table_contract``;
this module reads them and picks what the network and the energy model use.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.table_contract import TableError, read_table

UPDATE_DIRECTIONS = ("potentiation", "depression")


@dataclass(frozen=True)
class DeviceTables:
    """What the network and the energy model need from the device tables.

    levels_S: conductance levels of the synapse, sorted ascending (S).
    levels_std_S: each level's spread over the ensemble of relaxed states, the same order (S).
    relu_x, relu_y / lrelu_x, lrelu_y: transfer curves; x is the input current density
        divided by the largest |current density| of the sweep (in [-1, 1], 0 = no current),
        y the normalised output (1 at the largest positive input).
    lrelu_curvature_ratio: a_minus / a_plus of the Leaky ReLU curve in use.
    activation_energy_J: {"relu": J, "lrelu": J}, total energy per activation.
    update_energy_J: {"potentiation": J, "depression": J}, mean energy of one level step.
    sidecars: the JSON sidecar of each table, keyed by table name (provenance).
    relu_threshold: the ReLU's bias input (normalised like relu_x) that puts its knee at zero input
        (activation_energy column threshold).
    relu_bias_energy_J: extra Joule energy per ReLU activation of that bias input (J)
        (activation_energy column bias_energy_J).
    levels_thermal_std_S: each level's conductance std over a read at room temperature, the same order (S; the
        synapse_thermal table, loaded on request; None otherwise).
    wire_ohm_per_cell: line resistance of one cell pitch of the synapse's tile (ohm; the levels' sidecar,
        fitted.crossbar_design_rule.wire_resistance_per_cell_ohm).
    """

    levels_S: np.ndarray
    levels_std_S: np.ndarray
    relu_x: np.ndarray
    relu_y: np.ndarray
    lrelu_x: np.ndarray
    lrelu_y: np.ndarray
    lrelu_curvature_ratio: float
    activation_energy_J: dict
    update_energy_J: dict
    sidecars: dict
    relu_threshold: float = 0.0
    relu_bias_energy_J: float = 0.0
    wire_ohm_per_cell: float = 0.0
    levels_thermal_std_S: np.ndarray | None = None


def _select_ratio(frame: pd.DataFrame, device: str, ratio: float | None, path: Path) -> pd.DataFrame:
    """Rows of one device at one curvature ratio (the only one present when ratio is None)."""
    rows = frame[frame["device"] == device]
    ratios = np.unique(rows["curvature_ratio"].to_numpy(float))
    if ratio is None:
        if len(ratios) != 1:
            raise TableError(f"{path}: expected one {device} curvature ratio, found {ratios.tolist()}")
        ratio = ratios[0]
    chosen = rows[np.isclose(rows["curvature_ratio"].to_numpy(float), ratio)]
    if chosen.empty:
        raise TableError(
            f"{path}: no {device} rows at curvature ratio {ratio}; available {ratios.tolist()}"
        )
    return chosen


def _transfer_curve(rows: pd.DataFrame, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Sorted (x, y) with x = j / max|j|; repeated currents are averaged."""
    curve = rows.groupby("current_density_A_m2", sort=True)["output"].mean()
    j, y = curve.index.to_numpy(float), curve.to_numpy(float)
    if len(j) < 2 or not np.all(np.isfinite(y)):
        raise TableError(f"{path}: transfer curve needs >= 2 finite points, got {len(j)}")
    return j / np.abs(j).max(), y


def load_device_tables(tables_dir: Path, lrelu_curvature_ratio: float, thermal: bool = False) -> DeviceTables:
    """Load the four device tables from ``tables_dir`` (the ``tables`` stage output), and with ``thermal`` the
    synapse_thermal table (stage synapse_thermal)."""
    tables_dir = Path(tables_dir)
    levels, levels_meta = read_table(tables_dir, "synapse_levels")
    update, update_meta = read_table(tables_dir, "synapse_update")
    transfer, transfer_meta = read_table(tables_dir, "activation_transfer")
    act_energy, act_energy_meta = read_table(tables_dir, "activation_energy")

    levels = levels.sort_values("conductance_S")
    levels_S = levels["conductance_S"].to_numpy(float)
    if len(levels_S) < 2 or levels_S[0] == levels_S[-1]:
        raise TableError(f"{tables_dir / 'synapse_levels.parquet'}: need >= 2 distinct levels")

    transfer_path = tables_dir / "activation_transfer.parquet"
    relu_x, relu_y = _transfer_curve(_select_ratio(transfer, "relu", None, transfer_path), transfer_path)
    lrelu_x, lrelu_y = _transfer_curve(
        _select_ratio(transfer, "lrelu", lrelu_curvature_ratio, transfer_path), transfer_path
    )

    energy_path = tables_dir / "activation_energy.parquet"
    relu_energy = _select_ratio(act_energy, "relu", None, energy_path).iloc[0]
    if not 0.0 <= relu_energy["threshold"] < 1.0:
        raise TableError(f"{energy_path}: relu threshold {relu_energy['threshold']:g} is not in [0, 1)")
    activation_energy_J = {
        "relu": float(relu_energy["total_J"]),
        "lrelu": float(
            _select_ratio(act_energy, "lrelu", lrelu_curvature_ratio, energy_path)["total_J"].mean()
        ),
    }

    update_energy_J = {}
    for direction in UPDATE_DIRECTIONS:
        rows = update[update["direction"] == direction]
        if rows.empty:
            raise TableError(f"{tables_dir / 'synapse_update.parquet'} has no {direction} rows")
        update_energy_J[direction] = float(rows["energy_J"].mean())

    return DeviceTables(
        levels_S=levels_S,
        levels_std_S=levels["conductance_std_S"].to_numpy(float),
        relu_x=relu_x,
        relu_y=relu_y,
        lrelu_x=lrelu_x,
        lrelu_y=lrelu_y,
        lrelu_curvature_ratio=float(lrelu_curvature_ratio),
        activation_energy_J=activation_energy_J,
        update_energy_J=update_energy_J,
        sidecars={
            "synapse_levels": levels_meta,
            "synapse_update": update_meta,
            "activation_transfer": transfer_meta,
            "activation_energy": act_energy_meta,
        },
        relu_threshold=float(relu_energy["threshold"]),
        relu_bias_energy_J=float(relu_energy["bias_energy_J"]),
        wire_ohm_per_cell=_wire_ohm(levels_meta, tables_dir),
        levels_thermal_std_S=_thermal_std(tables_dir, levels) if thermal else None,
    )


def _thermal_std(tables_dir: Path, levels: pd.DataFrame) -> np.ndarray:
    """synapse_thermal's read std per level, in the order of ``levels`` (the synapse_levels rows)."""
    thermal, _ = read_table(tables_dir, "synapse_thermal")
    std = thermal.set_index("level")["thermal_std_read_S"]
    missing = sorted(set(levels["level"]) - set(std.index))
    if missing:
        raise TableError(f"{tables_dir / 'synapse_thermal.parquet'}: no row for level(s) {missing[:5]} of "
                         "synapse_levels (rerun the synapse_thermal rule)")
    return std.loc[levels["level"]].to_numpy(float)


def _wire_ohm(levels_meta: dict, tables_dir: Path) -> float:
    """The levels sidecar's line resistance per cell (ohm), written with the crossbar design rule."""
    try:
        return float(levels_meta["fitted"]["crossbar_design_rule"]["wire_resistance_per_cell_ohm"])
    except (KeyError, TypeError) as err:
        raise TableError(f"{tables_dir / 'synapse_levels.json'}: fitted.crossbar_design_rule."
                         f"wire_resistance_per_cell_ohm missing ({err})") from None
