"""Micromagnetic engines behind one API: relax and evolve a micromagneticmodel.System.

Engines: "oommf" (OOMMF through oommfc, the reference, where installed) and "magnumnp" (magnum.np,
the embedded default); "auto" picks OOMMF when it is available. Each run returns a Result; runs
with a cache_dir are stored on disk under a content hash of the engine, its version and every input
(mesh, magnetisation, energy and dynamics terms, driver settings), so identical inputs are never
simulated twice. The system passed in is never modified: continue from a Result with
``system.m = df.Field(mesh, nvdim=3, value=result.m.array, norm=system.m.norm)``.
"""
from __future__ import annotations

import hashlib
import json
import numbers
import pickle
import time
from dataclasses import dataclass
from pathlib import Path

import discretisedfield as df
import micromagneticmodel as mm
import numpy as np
import pandas as pd
import ubermagutil.typesystem as ts

from pipeline import io

ENGINES = ("oommf", "magnumnp")
TABLE_COLUMNS = ["t_s", "mx", "my", "mz", "E_J"]
CACHE_SCHEMA = 3  # bump when a solver changes what identical inputs produce


class EngineError(Exception):
    """A description no engine can run (the message names the term or value), or a failed run."""


@dataclass(frozen=True)
class SOT:
    """Spin-orbit torque from a heavy metal under the free layer, charge current along +x.

    Damping-like torque only, as the field H = -theta_SH hbar J / (2 e mu0 Ms d) (m x p) in A/m,
    with d the free-layer thickness (the mesh's extent along z) and p the spin polarisation (unit
    vector, y for a current along x).
    """
    current_density_A_per_m2: float
    spin_hall_angle: float
    polarisation: tuple = (0.0, 1.0, 0.0)


@dataclass
class Result:
    """Outcome of one run.

    m: final unit magnetisation (zero where Ms = 0); table: columns t_s (time in s, or the iteration
    index for relax), mx, my, mz (averages over magnetic cells), E_J (total energy in J, up to a
    state-independent constant); engine and version; wall_s: wall time of the simulation in s (of
    the original run when cached is True); mz_samples: m_z of every cell at each sample of a thermal
    run, (n_samples, nx, ny, nz) float32.
    """
    m: df.Field
    table: pd.DataFrame
    engine: str
    version: str
    wall_s: float
    cached: bool = False
    mz_samples: np.ndarray | None = None


def available_engines() -> list[str]:
    """Engines that can run here, the preferred first: ["oommf", "magnumnp"] or ["magnumnp"]."""
    from devices import oommf_engine
    return (["oommf"] if oommf_engine.command() is not None else []) + ["magnumnp"]


def resolve_engine(name: str) -> str:
    """"auto" -> "oommf" if available else "magnumnp"; an unknown or unavailable name -> EngineError."""
    if name == "auto":
        return available_engines()[0]
    if name not in ENGINES:
        raise EngineError(f"unknown engine {name!r}: choose 'auto', 'oommf' or 'magnumnp'")
    if name not in available_engines():
        raise EngineError("engine 'oommf' is not available: OOMMF was not found (set OOMMFTCL to oommf.tcl, "
                          "put an `oommf` executable on PATH, or install conda-forge's `oommf`)")
    return name


def relax(system: mm.System, *, engine: str = "auto", tol: float = 0.1, cache_dir: Path | None = None,
          timeout_s: float = 3600.0) -> Result:
    """Minimise the energy of system.m under system.energy until max |m x H| < tol (A/m).

    tol has the meaning of OOMMF's stopping_mxHxm. timeout_s bounds an OOMMF run (s).
    """
    name = resolve_engine(engine)
    check_system(system)
    settings = {"op": "relax", "tol": float(tol)}
    return _run(name, system, settings, cache_dir,
                lambda backend: backend.relax(system, tol=tol, timeout_s=timeout_s))


def steady_state(system: mm.System, *, sot: SOT, tol: float = 1.0, max_time_s: float = 20e-9,
                 engine: str = "auto", cache_dir: Path | None = None, timeout_s: float = 3600.0) -> Result:
    """The state a constant current holds the magnetisation in, reached from system.m.

    Under a constant SOT the fixed points of the LLG equation satisfy m x (H + H_sot) = 0, with
    H_sot the damping-like field of SOT, whatever the damping. magnum.np finds the one nearest
    system.m by the descent of relax with H_sot added, until max |m x (H + H_sot)| < tol (A/m);
    OOMMF integrates the LLG equation with the emulated SOT until max |dm/dt| falls below
    gamma0 tol / sqrt(1 + alpha^2), the same torque, or max_time_s (s) passes. Start from a nearby
    state (the steady state of a neighbouring current) for the fewest iterations. system.dynamics
    must hold mm.Precession and mm.Damping.
    """
    name = resolve_engine(engine)
    check_system(system)
    if not tol > 0 or not max_time_s > 0:
        raise EngineError(f"steady_state needs tol > 0 and max_time_s > 0, got tol={tol}, max_time_s={max_time_s}")
    settings = {"op": "steady_state", "tol": float(tol), "max_time_s": float(max_time_s),
                "sot": _sot_key(sot)}
    return _run(name, system, settings, cache_dir,
                lambda backend: backend.steady_state(system, sot=sot, tol=tol, max_time_s=max_time_s,
                                                     timeout_s=timeout_s))


def evolve(system: mm.System, *, t_s: float, n_steps: int, engine: str = "auto", sot: SOT | None = None,
           stop_velocity_m_per_s: float | None = None, cache_dir: Path | None = None,
           timeout_s: float = 3600.0) -> Result:
    """Integrate the LLG equation for t_s seconds, saving n_steps equally spaced states to the table.

    Damping and gyromagnetic ratio come from system.dynamics (mm.Precession + mm.Damping; an
    mm.Slonczewski term is honoured too); sot adds a spin-orbit torque. With stop_velocity_m_per_s
    the run ends at the first saved step where the magnetisation has settled: the equivalent wall
    speed sum|dm_z| dx dy / (2 w nz dt) < stop_velocity_m_per_s, i.e. the speed of a straight wall
    across the track width w (y extent of the magnetic cells) that changes m_z as much as the last
    save interval dt did. timeout_s bounds an OOMMF run (s).
    """
    name = resolve_engine(engine)
    check_system(system)
    if not t_s > 0 or int(n_steps) != n_steps or n_steps < 1:
        raise EngineError(f"evolve needs t_s > 0 and an integer n_steps >= 1, got t_s={t_s}, n_steps={n_steps}")
    settings = {"op": "evolve", "t_s": float(t_s), "n_steps": int(n_steps),
                "sot": None if sot is None else _sot_key(sot),
                "stop_velocity_m_per_s": None if stop_velocity_m_per_s is None else float(stop_velocity_m_per_s)}
    settled = None if stop_velocity_m_per_s is None else settled_criterion(system, stop_velocity_m_per_s)
    return _run(name, system, settings, cache_dir,
                lambda backend: backend.evolve(system, t_s=t_s, n_steps=int(n_steps), sot=sot,
                                               settled=settled, timeout_s=timeout_s))


def thermal(system: mm.System, *, t_s: float, dt_s: float, n_samples: int, seed: int = 0, engine: str = "auto",
            cache_dir: Path | None = None) -> Result:
    """Stochastic LLG at the temperature system.T (K) for t_s seconds at the fixed step dt_s (s), n_samples equally
    spaced samples: the table's rows and m_z of every cell (Result.mz_samples). The thermal field is Brown's
    (fluctuation-dissipation: variance 2 alpha k_B T / (gamma0 mu0 Ms V_cell dt)); magnumnp only (OOMMF has no
    thermal driver in oommfc). system.dynamics must hold mm.Precession and mm.Damping; seed fixes the noise."""
    name = resolve_engine(engine)
    check_system(system, thermal=True)
    if name != "magnumnp":
        raise EngineError(f"thermal runs need the magnumnp engine, got {name!r} (engine='magnumnp')")
    if not (t_s > 0 and dt_s > 0 and t_s >= n_samples * dt_s) or int(n_samples) != n_samples or n_samples < 1:
        raise EngineError(f"thermal needs t_s >= n_samples dt_s > 0 and an integer n_samples >= 1, got t_s={t_s}, "
                          f"dt_s={dt_s}, n_samples={n_samples}")
    settings = {"op": "thermal", "t_s": float(t_s), "dt_s": float(dt_s), "n_samples": int(n_samples),
                "seed": int(seed)}
    return _run(name, system, settings, cache_dir,
                lambda backend: backend.thermal_evolve(system, t_s=t_s, dt_s=dt_s, n_samples=int(n_samples),
                                                       seed=int(seed)))


def check_system(system: mm.System, thermal: bool = False) -> None:
    """Raise EngineError for descriptions no engine can run; the message names the value."""
    m = system.m
    if not isinstance(m, df.Field) or m.nvdim != 3 or len(m.mesh.n) != 3:
        raise EngineError("system.m must be a 3-component discretisedfield Field on a 3D mesh")
    cell = np.asarray(m.mesh.cell, dtype=float)
    if not np.all(np.isfinite(cell) & (cell > 0)):
        raise EngineError(f"cell size {tuple(float(c) for c in cell)} m: every cell edge must be positive")
    if not np.any(np.linalg.norm(m.array, axis=-1) > 0):
        raise EngineError("mesh without magnetic cells: Ms = 0 everywhere in system.m")
    if len(system.energy) == 0:
        raise EngineError("system.energy has no terms")
    if thermal and not system.T > 0:
        raise EngineError(f"temperature T={system.T} K: a thermal run needs system.T > 0")
    if not thermal and system.T != 0:
        raise EngineError(f"temperature T={system.T} K: relax, steady_state and evolve are at T = 0 (engine.thermal "
                          "runs at T > 0)")


def settled_criterion(system: mm.System, v_stop: float):
    """f(m_previous, m, dt) -> True when the equivalent wall speed (see evolve) is below v_stop (m/s)."""
    dx, dy, _ = (float(c) for c in system.m.mesh.cell)
    magnetic = np.linalg.norm(system.m.array, axis=-1) > 0
    width = np.any(magnetic, axis=(0, 2)).sum() * dy
    nz = system.m.mesh.n[2]

    def settled(m_prev, m, dt):
        swept = float(abs(m[..., 2] - m_prev[..., 2]).sum()) * dx * dy / (2 * nz)
        return swept / (width * dt) < v_stop
    return settled


def _sot_key(sot: SOT) -> list:
    return [float(sot.current_density_A_per_m2), float(sot.spin_hall_angle), list(map(float, sot.polarisation))]


def _backend(name: str):
    if name == "oommf":
        from devices import oommf_engine
        return oommf_engine
    from devices import magnumnp_engine
    return magnumnp_engine


def _run(name: str, system: mm.System, settings: dict, cache_dir, run) -> Result:
    """Run (or fetch from the cache) and wrap the engine's (m array, table) in a Result."""
    backend = _backend(name)
    version = backend.version()
    path = None
    if cache_dir is not None:
        path = Path(cache_dir) / f"{cache_key(name, version, system, settings)}.pkl"
        if path.is_file():
            with open(path, "rb") as f:
                stored = pickle.load(f)
            return Result(m=df.Field(system.m.mesh, nvdim=3, value=stored["m"]), table=stored["table"],
                          engine=name, version=version, wall_s=stored["wall_s"], cached=True,
                          mz_samples=stored.get("mz_samples"))
    start = time.perf_counter()
    m, table, *samples = run(backend)
    wall = time.perf_counter() - start
    result = Result(m=df.Field(system.m.mesh, nvdim=3, value=m), table=table[TABLE_COLUMNS],
                    engine=name, version=version, wall_s=wall, mz_samples=samples[0] if samples else None)
    if path is not None:
        io.write_pickle(path, {"m": m, "table": result.table, "wall_s": wall, "mz_samples": result.mz_samples})
    return result


def cache_key(engine: str, version: str, system: mm.System, settings: dict) -> str:
    """SHA-256 over the engine, its version, the mesh, m (values and Ms), all terms and the settings."""
    description = {
        "schema": CACHE_SCHEMA, "engine": engine, "version": version, "settings": settings,
        "mesh": _mesh_key(system.m.mesh), "m": _array_hash(system.m.array), "T": float(system.T),
        "energy": [_term_key(t) for t in system.energy], "dynamics": [_term_key(t) for t in system.dynamics],
    }
    return hashlib.sha256(json.dumps(description, sort_keys=True).encode()).hexdigest()


def _mesh_key(mesh) -> dict:
    return {"pmin": np.asarray(mesh.region.pmin, float).tolist(), "pmax": np.asarray(mesh.region.pmax, float).tolist(),
            "n": np.asarray(mesh.n).tolist(), "bc": mesh.bc}


def _array_hash(array) -> str:
    return hashlib.sha256(np.ascontiguousarray(array, dtype=np.float64).tobytes()).hexdigest()


def _term_key(term) -> dict:
    values = {k: _value_key(v) for k, v in dict(term).items() if not isinstance(v, ts.descriptors.Descriptor)}
    return {"type": type(term).__name__, **values}


def _value_key(value):
    if isinstance(value, df.Field):
        return {"field": _mesh_key(value.mesh), "nvdim": value.nvdim, "values": _array_hash(value.array)}
    if isinstance(value, dict):
        return {str(k): _value_key(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_value_key(v) for v in value]
    if isinstance(value, numbers.Number):
        return float(value)
    if callable(value):
        code = getattr(value, "__code__", None)
        return {"callable": getattr(value, "__qualname__", repr(value)),
                "code": hashlib.sha256(code.co_code + repr(code.co_consts).encode()).hexdigest() if code else None}
    return str(value)
