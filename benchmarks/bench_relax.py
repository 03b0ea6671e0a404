"""Cost of one magnum.np relaxation iteration on a full-profile synapse level, against one field evaluation.

The full config's synapse (340 x 180 cells of 2 nm, demag) at level 60, float32 as relax uses it at
the configured tolerance, one torch thread (one synapse worker). Prints ms per L-BFGS iteration
(field evaluation, preconditioner, two-loop recursion, rotation) and ms per field evaluation.

Usage: .venv/bin/python benchmarks/bench_relax.py [--level 60] [--iterations 150]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devices import magnumnp_engine, synapse  # noqa: E402
from devices.params import SynapseParams  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--level", type=int, default=60)
    parser.add_argument("--iterations", type=int, default=150)
    args = parser.parse_args()
    torch.set_num_threads(1)
    params = SynapseParams.from_config(yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["synapse"])
    geom = synapse.geometry(params)
    centres = synapse.level_centres(geom, args.level, params.n_sites)
    m0 = synapse.skyrmion_texture(geom, centres, synapse._initial_radius_m(params),
                                  synapse.wall_width_m(params), params.material.D_J_per_m2)
    model = magnumnp_engine.Model(synapse.build_system(geom, params, m0, "bench")).single()
    start = time.perf_counter()
    try:  # a tolerance of 0 is never reached: exactly `iterations` steps
        magnumnp_engine.minimise(model, tol=0.0, max_iter=args.iterations)
    except magnumnp_engine.EngineError:
        pass
    per_iteration = (time.perf_counter() - start) / (args.iterations + 1)
    start = time.perf_counter()
    for _ in range(50):
        model.field(model.m0)
    per_field = (time.perf_counter() - start) / 50
    print(f"synapse level {args.level}, {geom.nx_region * 2} x {geom.ny} cells, float32, 1 thread")
    print(f"L-BFGS iteration: {per_iteration * 1e3:.1f} ms   field evaluation: {per_field * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
