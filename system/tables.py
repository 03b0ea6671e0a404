"""Device lookup tables, the only input that ``system/`` takes from the device simulations.

Each table is ``<name>.parquet`` (read here), ``<name>.csv`` and a ``<name>.json`` sidecar
with ``units``, ``fitted`` and ``provenance`` (see DESIGN.md section 6).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

SIDECAR_KEYS = ("units", "fitted", "provenance")
COLUMNS = {
    "synapse_levels": ("level", "conductance_S"),
    "synapse_update": ("direction", "from_level", "to_level", "energy_J"),
    "activation_transfer": ("device", "curvature_ratio", "current_density_A_m2", "output"),
    "activation_energy": ("device", "curvature_ratio", "total_J"),
}
UPDATE_DIRECTIONS = ("potentiation", "depression")


@dataclass(frozen=True)
class DeviceTables:
    """What the network and the energy model need from the device tables.

    levels_S: conductance levels of the synapse, sorted ascending (S).
    relu_x, relu_y / lrelu_x, lrelu_y: transfer curves; x is the input current density
        divided by the largest |current density| of the sweep (in [-1, 1], 0 = no current),
        y the normalised output (1 at the largest positive input).
    lrelu_curvature_ratio: a_minus / a_plus of the Leaky ReLU curve in use.
    activation_energy_J: {"relu": J, "lrelu": J}, total energy per activation.
    update_energy_J: {"potentiation": J, "depression": J}, mean energy of one level step.
    sidecars: the JSON sidecar of each table, keyed by table name (provenance).
    relu_threshold: input current (normalised like relu_x) where the line fitted to the ReLU's
        working range crosses zero output: the bias current that puts the knee at zero input.
    relu_bias_energy_J: extra Joule energy per ReLU activation of that bias current (J): the
        table's drive energy times (theta^2 + 2 theta <u>) / <u^2> over the positive sweep points u.
    """

    levels_S: np.ndarray
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


def _read_table(tables_dir: Path, name: str) -> tuple[pd.DataFrame, dict]:
    """Read ``name``.parquet and its sidecar; raise naming the file if either is unusable."""
    parquet, sidecar = tables_dir / f"{name}.parquet", tables_dir / f"{name}.json"
    for path in (parquet, sidecar):
        if not path.is_file():
            raise FileNotFoundError(f"device table file missing: {path}")
    frame = pd.read_parquet(parquet)
    missing = [c for c in COLUMNS[name] if c not in frame.columns]
    if missing:
        raise ValueError(f"{parquet} lacks column(s) {missing}; has {list(frame.columns)}")
    if frame.empty:
        raise ValueError(f"{parquet} has no rows")
    meta = json.loads(sidecar.read_text())
    absent = [k for k in SIDECAR_KEYS if k not in meta]
    if absent:
        raise ValueError(f"{sidecar} lacks key(s) {absent}")
    return frame, meta


def _select_ratio(frame: pd.DataFrame, device: str, ratio: float | None, path: Path) -> pd.DataFrame:
    """Rows of one device at one curvature ratio (the only one present when ratio is None)."""
    rows = frame[frame["device"] == device]
    ratios = np.unique(rows["curvature_ratio"].to_numpy(float))
    if ratio is None:
        if len(ratios) != 1:
            raise ValueError(f"{path}: expected one {device} curvature ratio, found {ratios.tolist()}")
        ratio = ratios[0]
    chosen = rows[np.isclose(rows["curvature_ratio"].to_numpy(float), ratio)]
    if chosen.empty:
        raise ValueError(
            f"{path}: no {device} rows at curvature ratio {ratio}; available {ratios.tolist()}"
        )
    return chosen


def _transfer_curve(rows: pd.DataFrame, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Sorted (x, y) with x = j / max|j|; repeated currents are averaged."""
    curve = rows.groupby("current_density_A_m2", sort=True)["output"].mean()
    j, y = curve.index.to_numpy(float), curve.to_numpy(float)
    if len(j) < 2 or not np.all(np.isfinite(y)):
        raise ValueError(f"{path}: transfer curve needs >= 2 finite points, got {len(j)}")
    return j / np.abs(j).max(), y


def _relu_threshold(rows: pd.DataFrame, meta: dict, path: Path) -> float:
    """The fitted ReLU threshold (sidecar ``fitted.relu_<ratio>.threshold_A_m2``) over max|j|; 0
    where the fitted line crosses zero output at a negative current (no threshold to bias away)."""
    key = f"relu_{float(rows['curvature_ratio'].iloc[0]):g}"
    try:
        threshold = float(meta["fitted"][key]["threshold_A_m2"])
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"{path.with_suffix('.json')}: fitted.{key}.threshold_A_m2 missing ({err!r})") from None
    theta = threshold / np.abs(rows["current_density_A_m2"].to_numpy(float)).max()
    if not theta < 1.0:
        raise ValueError(f"{path.with_suffix('.json')}: fitted.{key}.threshold_A_m2 = {threshold:g} A/m^2 is "
                         f"{theta:g} of the sweep; a ReLU threshold must lie below its top")
    return float(max(theta, 0.0))


def _bias_energy_J(drive_J: float, theta: float, x: np.ndarray) -> float:
    """Extra drive energy (J) of a bias current theta (normalised): the Joule energy rho j^2 V t
    averaged over the positive sweep points u, with u -> u + theta, minus the unbiased one."""
    u = x[x > 0]
    return float(drive_J * (theta**2 + 2 * theta * u.mean()) / np.mean(u**2))


def load_device_tables(tables_dir: Path, lrelu_curvature_ratio: float) -> DeviceTables:
    """Load the four device tables from ``tables_dir`` (the ``tables`` stage output)."""
    tables_dir = Path(tables_dir)
    levels, levels_meta = _read_table(tables_dir, "synapse_levels")
    update, update_meta = _read_table(tables_dir, "synapse_update")
    transfer, transfer_meta = _read_table(tables_dir, "activation_transfer")
    act_energy, act_energy_meta = _read_table(tables_dir, "activation_energy")

    levels_S = np.sort(levels["conductance_S"].to_numpy(float))
    if len(levels_S) < 2 or levels_S[0] == levels_S[-1]:
        raise ValueError(f"{tables_dir / 'synapse_levels.parquet'}: need >= 2 distinct levels")

    transfer_path = tables_dir / "activation_transfer.parquet"
    relu_rows = _select_ratio(transfer, "relu", None, transfer_path)
    relu_x, relu_y = _transfer_curve(relu_rows, transfer_path)
    relu_threshold = _relu_threshold(relu_rows, transfer_meta, transfer_path)
    lrelu_x, lrelu_y = _transfer_curve(
        _select_ratio(transfer, "lrelu", lrelu_curvature_ratio, transfer_path), transfer_path
    )

    energy_path = tables_dir / "activation_energy.parquet"
    relu_energy = _select_ratio(act_energy, "relu", None, energy_path)
    if "drive_energy_J" not in relu_energy.columns:
        raise ValueError(f"{energy_path} lacks column drive_energy_J (the ReLU bias energy needs it)")
    relu_bias_energy_J = _bias_energy_J(float(relu_energy["drive_energy_J"].mean()), relu_threshold, relu_x)
    activation_energy_J = {
        "relu": float(relu_energy["total_J"].mean()),
        "lrelu": float(
            _select_ratio(act_energy, "lrelu", lrelu_curvature_ratio, energy_path)["total_J"].mean()
        ),
    }

    update_energy_J = {}
    for direction in UPDATE_DIRECTIONS:
        rows = update[update["direction"] == direction]
        if rows.empty:
            raise ValueError(f"{tables_dir / 'synapse_update.parquet'} has no {direction} rows")
        update_energy_J[direction] = float(rows["energy_J"].mean())

    return DeviceTables(
        levels_S=levels_S,
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
        relu_threshold=relu_threshold,
        relu_bias_energy_J=relu_bias_energy_J,
    )
