"""Time the engines on the two device workloads and print a table.

1. Relaxation of the reference skyrmion: 100 nm disk, 1 nm thick, 2x2x1 nm cells, Ms 5.8e5 A/m,
   A 1.5e-11 J/m, D 3e-3 J/m^2 (Cnv_z), Ku 8e5 J/m^3, demag; reversed core of 10 nm radius.
2. A 1 ns SOT-driven DW run in the DW-activation track: 256 x 32 x 1 nm, 2 nm cells, D 0.5e-3 J/m^2,
   Ku(x) = K0 + a (x - x0)^2 (a_plus 4e19 J/m^5, a_minus 5 a_plus), alpha 0.3, J 1e11 A/m^2 in Pt
   (theta_SH 0.1), starting from the relaxed wall at x0; and the steady state under that current
   (the operation the DW sweep uses).
The last column is the ratio to OOMMF measured in the same run, where OOMMF is installed.

Usage: .venv/bin/python benchmarks/bench_engines.py [--engines magnumnp oommf] [--dw-time-s 1e-9]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import discretisedfield as df  # noqa: E402
import micromagneticmodel as mm  # noqa: E402

from devices import engine, measure  # noqa: E402

OOMMF_SKYRMION_S = 0.9  # OOMMF 2.1a0 MinDriver (mxHxm 0.01) on a 2-core machine, docs/engines.md
MS, A = 5.8e5, 1.5e-11


def skyrmion_system() -> mm.System:
    R = 50e-9
    mesh = df.Mesh(p1=(-R, -R, 0), p2=(R, R, 1e-9), cell=(2e-9, 2e-9, 1e-9))
    system = mm.System(name="skyrmion")
    system.energy = (mm.Exchange(A=A) + mm.DMI(D=3e-3, crystalclass="Cnv_z")
                     + mm.UniaxialAnisotropy(K=8e5, u=(0, 0, 1)) + mm.Demag())
    system.m = df.Field(mesh, nvdim=3, value=lambda p: (0, 0, -1) if p[0] ** 2 + p[1] ** 2 < 1e-16 else (0, 0, 1),
                        norm=lambda p: MS if p[0] ** 2 + p[1] ** 2 <= R ** 2 else 0)
    return system


def warm_up_system() -> mm.System:
    """A small film on another mesh: pays the one-off costs (imports) without caching the others' kernels."""
    mesh = df.Mesh(p1=(0, 0, 0), p2=(20e-9, 20e-9, 1e-9), cell=(2e-9, 2e-9, 1e-9))
    system = mm.System(name="warm_up")
    system.energy = mm.Exchange(A=A) + mm.UniaxialAnisotropy(K=8e5, u=(0, 0, 1)) + mm.Demag()
    system.m = df.Field(mesh, nvdim=3, value=(0.1, 0, 1), norm=MS)
    return system


def track_system() -> mm.System:
    L, W, x0, a_plus = 256e-9, 32e-9, 128e-9, 4e19
    mesh = df.Mesh(p1=(0, 0, 0), p2=(L, W, 1e-9), cell=(2e-9, 2e-9, 1e-9))
    K = df.Field(mesh, nvdim=1, value=lambda p: 8e5 + (a_plus if p[0] >= x0 else 5 * a_plus) * (p[0] - x0) ** 2)
    system = mm.System(name="track")
    system.energy = (mm.Exchange(A=A) + mm.DMI(D=0.5e-3, crystalclass="Cnv_z")
                     + mm.UniaxialAnisotropy(K=K, u=(0, 0, 1)) + mm.Demag())
    system.dynamics = mm.Precession(gamma0=mm.consts.gamma0) + mm.Damping(alpha=0.3)
    system.m = df.Field(mesh, nvdim=3, value=lambda p: (0.1, 0.1, 1) if p[0] < x0 else (0.1, 0.1, -1), norm=MS)
    return system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", nargs="*", default=engine.available_engines())
    parser.add_argument("--dw-time-s", type=float, default=1e-9)
    args = parser.parse_args()

    rows = {}  # (engine, workload) -> (wall_s, detail, result)
    for name in args.engines:
        start = time.perf_counter()
        engine.relax(warm_up_system(), engine=name)  # imports and start-up, not counted below
        warm_s = time.perf_counter() - start
        sk = engine.relax(skyrmion_system(), engine=name, tol=0.01)
        rows[name, "skyrmion relax (mxHxm 0.01)"] = (sk.wall_s, f"{len(sk.table)} it",
                                                     f"R = {measure.skyrmion_radius(sk.m) * 1e9:.4f} nm")
        track = track_system()
        relaxed = engine.relax(track, engine=name)
        rows[name, "DW track relax"] = (relaxed.wall_s, f"{len(relaxed.table)} it",
                                        f"x_DW = {measure.dw_position(relaxed.m) * 1e9:.2f} nm")
        track = mm.System(name="track", energy=track.energy, dynamics=track.dynamics,
                          m=df.Field(track.m.mesh, nvdim=3, value=relaxed.m.array, norm=track.m.norm))
        run = engine.evolve(track, t_s=args.dw_time_s, n_steps=50, engine=name, sot=engine.SOT(1e11, 0.1))
        moved = measure.dw_position(run.m) - measure.dw_position(relaxed.m)
        rows[name, f"SOT DW run {args.dw_time_s * 1e9:g} ns"] = (run.wall_s, "", f"dx_DW = {moved * 1e9:.2f} nm")
        steady = engine.steady_state(track, sot=engine.SOT(1e11, 0.1), tol=1.0, engine=name)
        moved = measure.dw_position(steady.m) - measure.dw_position(relaxed.m)
        rows[name, "SOT DW steady state (tol 1)"] = (steady.wall_s, "", f"dx_DW = {moved * 1e9:.2f} nm")
        print(f"# {name}: {sk.version}; start-up (imports, first small run) {warm_s:.1f} s", flush=True)

    print(f"{'engine':10} {'workload':28} {'wall_s':>8} {'':>8}  {'result':22} {'/ OOMMF':>8}")
    for (name, what), (wall, detail, result) in rows.items():
        if ("oommf", what) in rows:
            ratio = f"{wall / rows['oommf', what][0]:8.2f}"
        elif what.startswith("skyrmion"):
            ratio = f"{wall / OOMMF_SKYRMION_S:8.2f}*"
        else:
            ratio = ""
        print(f"{name:10} {what:28} {wall:8.2f} {detail:>8}  {result:22} {ratio}")
    if "oommf" not in args.engines:
        print(f"* against OOMMF's {OOMMF_SKYRMION_S} s in docs/engines.md (OOMMF is not installed here)")


if __name__ == "__main__":
    main()
