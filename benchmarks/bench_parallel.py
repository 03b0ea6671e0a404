"""Throughput of the DCGAN training step on one device and data-parallel over N (system/parallel.py).

On a CPU the N devices are virtual (XLA_FLAGS=--xla_force_host_platform_device_count=N, set here before JAX
starts): they share the same cores, so this measures the overhead of the partitioned step, not a speed-up; on N
GPUs it measures the speed-up. Float and hardware variant (the full profile's non-idealities), batch 128,
Fashion-MNIST; the two setups take turns (bench_ops.median_times).

Run: ``.venv/bin/python benchmarks/bench_parallel.py [--devices 4] [--repeats 10]``.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

if __name__ == "__main__":
    devices = int(sys.argv[sys.argv.index("--devices") + 1]) if "--devices" in sys.argv else 4
    os.environ["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks.bench_ops import BATCH, every_non_ideality, median_times, synthetic_tables  # noqa: E402
from system import parallel  # noqa: E402
from system.dcgan import Hardware, architecture  # noqa: E402
from system.train import init_carry, make_train_step  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    mesh = parallel.data_mesh(args.devices)
    arch = architecture("fashion_mnist")
    real = jnp.asarray(np.random.default_rng(0).uniform(-1, 1, (BATCH,) + arch.image_shape), jnp.float32)
    print(f"{jax.devices()[0].platform}: {len(jax.devices())} devices, batch {BATCH}, median of {args.repeats}")
    print(f"{'variant':<12}{'devices':>8}{'median ms':>12}{'images/s':>10}{'ratio':>8}")
    for variant, hw in (("float", None), ("hardware", Hardware.from_tables(synthetic_tables(), every_non_ideality()))):
        step = make_train_step(arch, hw, 2e-4, 0.5)
        carry = init_carry(arch, 2e-4, 0.5, jax.random.PRNGKey(0), hw)
        one = jax.device_put(carry, jax.devices()[0])
        spread = (parallel.replicate(carry, mesh), parallel.split_batch(real, mesh))
        times = median_times({"1": lambda: step(one, real, jax.random.PRNGKey(1)),
                              str(args.devices): lambda: step(*spread, jax.random.PRNGKey(1))},
                             repeats=args.repeats)
        for n, t in times.items():
            print(f"{variant:<12}{n:>8}{1e3 * t:>12.1f}{BATCH / t:>10.1f}{t / times['1']:>8.2f}")


if __name__ == "__main__":
    main()
