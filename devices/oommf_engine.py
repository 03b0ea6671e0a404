"""OOMMF engine through oommfc: MinDriver for relax, TimeDriver for evolve, each run under a timeout.

OOMMF is found through OOMMFTCL (path of oommf.tcl, run with tclsh), an `oommf` executable on PATH,
or conda-forge's `oommf` package in $CONDA_PREFIX. oommfc only writes the MIF here; OOMMF (boxsi)
runs as a child process in its own session that is killed when timeout_s passes, so a hang (OOMMF
refuses to run as root; its exit clean-up can wait for a display) becomes a plain EngineError.

Spin-orbit torque is not an OOMMF built-in. It is emulated with the Slonczewski term, whose field
is H = beta [eps (m x mp) + eps' mp], beta = hbar J / (mu0 e t Ms), eps = P Lambda^2 / ((Lambda^2 + 1)
+ (Lambda^2 - 1) m.mp). With Lambda = 1 (eps = P/2 for every m), eps' = 0, P = |theta_SH|,
J = J_HM and mp = -sign(theta_SH) p this is H = -theta_SH hbar J_HM / (2 e mu0 Ms t) (m x p), the
SOT damping-like field of devices.engine.SOT and magnum.np's SpinOrbitTorque, with t the free-layer
thickness (OOMMF takes it from the mesh along z; the devices are one cell thick).
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import discretisedfield as df
import micromagneticmodel as mm
import numpy as np
import pandas as pd

from devices.engine import TABLE_COLUMNS, EngineError

_VERSION: str | None = None
_HOSTPORT: str | None = None


def command() -> list[str] | None:
    """Command prefix that runs OOMMF (["tclsh", oommf.tcl] or [oommf]), or None when absent."""
    tcl = os.environ.get("OOMMFTCL")
    if tcl and Path(tcl).is_file() and shutil.which("tclsh"):
        return [shutil.which("tclsh"), tcl]
    exe = shutil.which("oommf")
    if exe:
        return [exe]
    conda = os.environ.get("CONDA_PREFIX")
    if conda and os.access(Path(conda) / "bin" / "oommf", os.X_OK):
        return [str(Path(conda) / "bin" / "oommf")]
    return None


def _require() -> list[str]:
    cmd = command()
    if cmd is None:
        raise EngineError("OOMMF is not installed: set OOMMFTCL, put `oommf` on PATH or install conda-forge's oommf")
    return cmd


def _call(args: list[str], cwd, timeout_s: float, env=None, stderr=subprocess.PIPE) -> subprocess.CompletedProcess:
    """Run OOMMF with args in its own session; kill the whole session and raise EngineError on timeout."""
    proc = subprocess.Popen([*_require(), *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=stderr, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise EngineError(f"OOMMF `{' '.join(args[:3])}` timed out after {timeout_s} s and was stopped (OOMMF "
                          f"refuses to run as root and can hang at exit without a display): {(err or '')[-500:]}") from None
    if proc.returncode != 0:
        raise EngineError(f"OOMMF `{' '.join(args[:3])}` failed with exit code {proc.returncode}: {(err or '')[-1000:]}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def version() -> str:
    """OOMMF version string, e.g. "OOMMF 2.1a0" (asked once per process)."""
    global _VERSION
    if _VERSION is None:
        with tempfile.TemporaryDirectory() as d:
            res = _call(["boxsi", "+fg", "+version", "-exitondone", "1"], d, 120)
        text = (res.stderr + res.stdout).split("OOMMF")[-1].strip()  # as oommfc reads it
        _VERSION = "OOMMF " + (text.splitlines()[0].strip() if text else "(version not reported)")
    return _VERSION


def _env() -> dict:
    """Environment with an OOMMF host server of our own (as oommfc does), so runs never share one."""
    global _HOSTPORT
    if "OOMMF_HOSTPORT" in os.environ:
        return dict(os.environ)
    if _HOSTPORT is None:
        with tempfile.TemporaryDirectory() as d:
            # the host server it starts lives on; with our stderr pipe inherited it would never close
            _HOSTPORT = _call(["launchhost", "0"], d, 60, stderr=subprocess.DEVNULL).stdout.strip()
    return {**os.environ, "OOMMF_HOSTPORT": _HOSTPORT}


def sot_as_slonczewski(sot) -> mm.Slonczewski | None:
    """The Slonczewski term whose torque equals the SOT damping-like torque (see the module docstring)."""
    if sot.spin_hall_angle == 0 or sot.current_density_A_per_m2 == 0:
        return None
    p = np.asarray(sot.polarisation, dtype=float)
    mp = -np.sign(sot.spin_hall_angle) * p / np.linalg.norm(p)
    return mm.Slonczewski(J=sot.current_density_A_per_m2, mp=tuple(float(c) + 0.0 for c in mp),
                          P=abs(sot.spin_hall_angle), Lambda=1.0, eps_prime=0.0)


def with_sot(system: mm.System, sot) -> mm.System:
    """A new System equal to system (same terms and m) whose dynamics also carries the emulated SOT."""
    term = None if sot is None else sot_as_slonczewski(sot)
    if term is None:
        return system
    if any(isinstance(t, mm.Slonczewski) for t in system.dynamics):
        raise EngineError("the OOMMF engine cannot add SOT to a system whose dynamics already has a Slonczewski term")
    out = mm.System(name=system.name, energy=system.energy, m=system.m, T=system.T)
    out.dynamics = system.dynamics + term
    return out


def write_mif(system: mm.System, dirname, *, driver: str, tol: float = 0.1, t_s: float | None = None,
              n_steps: int | None = None, m=None, stopping_dm_dt: float | None = None) -> Path:
    """Write <name>.mif and its field files into dirname for "relax" or "evolve"; returns the MIF path.

    m, when given, replaces the initial magnetisation (unit vectors; Ms is kept); stopping_dm_dt
    (deg/ns) ends each evolve stage early once max |dm/dt| falls below it.
    """
    import oommfc as oc
    Path(dirname).mkdir(parents=True, exist_ok=True)
    if m is not None:
        system = mm.System(name=system.name, energy=system.energy, dynamics=system.dynamics, T=system.T,
                           m=df.Field(system.m.mesh, nvdim=3, value=m, norm=system.m.norm))
    try:
        if driver == "relax":
            oc.MinDriver(stopping_mxHxm=tol).write_mif(system, dirname=str(dirname))
        else:
            options = {} if stopping_dm_dt is None else {"stopping_dm_dt": stopping_dm_dt}
            oc.TimeDriver(**options).write_mif(system, dirname=str(dirname), t=t_s, n=n_steps)
    except (AttributeError, TypeError, ValueError, KeyError, NotImplementedError) as e:
        raise EngineError(f"oommfc cannot describe this system for OOMMF: {e}") from e
    return Path(dirname) / f"{system.name}.mif"


def _read(dirname: Path, name: str):
    """All saved unit magnetisations (in stage order) and the data table of one OOMMF run."""
    import ubermagtable as ut
    fields = []
    for path in sorted(dirname.glob(f"{name}-*.omf")):
        M = df.Field.from_file(str(path)).array
        norm = np.linalg.norm(M, axis=-1, keepdims=True)
        fields.append(np.divide(M, norm, out=np.zeros_like(M), where=norm > 0))
    if not fields or not (dirname / f"{name}.odt").is_file():
        raise EngineError(f"OOMMF finished without writing {name}-*.omf and {name}.odt in {dirname}")
    return fields, ut.Table.fromfile(str(dirname / f"{name}.odt")).data


def _run(system, timeout_s, **mif) -> tuple[list, pd.DataFrame]:
    with tempfile.TemporaryDirectory(prefix="oommf-") as d:
        mif_path = write_mif(system, d, **mif)
        _call(["boxsi", "+fg", mif_path.name, "-exitondone", "1", "-kill", "all"], d, timeout_s, env=_env())
        return _read(Path(d), system.name)


def _last_row(data: pd.DataFrame, t_column: str) -> pd.DataFrame:
    """The last row of an OOMMF data table as an engine table (t_s taken from t_column)."""
    table = pd.DataFrame({"t_s": data[t_column], "mx": data["mx"], "my": data["my"], "mz": data["mz"], "E_J": data["E"]})
    return table[TABLE_COLUMNS].tail(1).reset_index(drop=True)


def relax(system: mm.System, *, tol: float, timeout_s: float = 3600.0):
    """engine.relax on OOMMF (MinDriver, stopping_mxHxm = tol): (unit m array, one-row table)."""
    fields, data = _run(system, timeout_s, driver="relax", tol=tol)
    return fields[-1], _last_row(data, "iteration")


def steady_state(system: mm.System, *, sot, tol: float, max_time_s: float, timeout_s: float = 3600.0):
    """engine.steady_state on OOMMF: one TimeDriver stage of max_time_s with the emulated SOT that
    ends when max |dm/dt| < gamma0 tol / sqrt(1 + alpha^2) (the torque tol in A/m; largest alpha)."""
    (precession,) = system.dynamics.get(type=mm.Precession) or [None]
    (damping,) = system.dynamics.get(type=mm.Damping) or [None]
    if precession is None or damping is None:
        raise EngineError("steady_state on OOMMF needs mm.Precession and mm.Damping in system.dynamics")
    alpha = float(np.max(damping.alpha.array if isinstance(damping.alpha, df.Field) else damping.alpha))
    dm_dt = float(precession.gamma0) * tol / np.sqrt(1 + alpha ** 2) * 180 / np.pi * 1e-9  # deg/ns
    fields, data = _run(with_sot(system, sot), timeout_s, driver="evolve", t_s=max_time_s, n_steps=1,
                        stopping_dm_dt=dm_dt)
    return fields[-1], _last_row(data, "t")


def evolve(system: mm.System, *, t_s: float, n_steps: int, sot=None, settled=None, timeout_s: float = 3600.0):
    """engine.evolve on OOMMF (TimeDriver, RK evolver or SpinXferEvolve with the emulated SOT).

    With settled, the run goes in chunks of about a tenth of the steps, each restarted from the
    last state, and stops at the first saved step where settled(m_prev, m, dt) holds.
    """
    system = with_sot(system, sot)
    dt = t_s / n_steps
    chunk = n_steps if settled is None else max(1, n_steps // 10)
    m, rows, done = None, [], 0
    M = np.asarray(system.m.array)
    norm = np.linalg.norm(M, axis=-1, keepdims=True)
    m_prev = np.divide(M, norm, out=np.zeros_like(M), where=norm > 0)
    while done < n_steps:
        k = min(chunk, n_steps - done)
        fields, data = _run(system, timeout_s, driver="evolve", t_s=k * dt, n_steps=k, m=m)
        for i, m_i in enumerate(fields):
            rows.append([(done + i + 1) * dt, data["mx"].iloc[i], data["my"].iloc[i], data["mz"].iloc[i],
                         data["E"].iloc[i]])
            m, stop = m_i, settled is not None and settled(m_prev, m_i, dt)
            m_prev = m_i
            if stop:
                return m, pd.DataFrame(rows, columns=TABLE_COLUMNS)
        done += k
    return m, pd.DataFrame(rows, columns=TABLE_COLUMNS)
