"""Median wall time of the hardware-aware ops against their float counterparts (CPU or GPU).

1. one training step of the DCGAN at batch 128 (Fashion-MNIST, and with ``--datasets`` Anime Face),
   float vs hardware variant, in ms and images per second (synthetic 64-level synapse and DW transfer
   curves), the hardware twice: the ideal crossbar with 8-bit converters (target: <= 1.3x float) and with
   every non-ideality of the full profile (table variation, read noise, thermal noise, IR drop);
2. the generator's deconvolutions: explicit zero-padded convolution vs ``lax.conv_transpose``
   (and the ``lhs_dilation`` path the network uses).

Run: ``.venv/bin/python benchmarks/bench_ops.py [--repeats N] [--datasets fashion_mnist anime_faces]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from system.crossbar import CrossbarConfig  # noqa: E402
from system.dcgan import Hardware, architecture  # noqa: E402
from system.deconv import deconv_padding, fast_deconv, zero_padded_deconv  # noqa: E402
from system.tables import DeviceTables  # noqa: E402
from system.train import init_carry, make_train_step  # noqa: E402

BATCH = 128


def median_times(fns: dict, *args, repeats: int) -> dict:
    """Median seconds of each ``fn(*args)``, after one warm-up (compilation) call each; the
    functions take turns, so that load from other processes affects them alike."""
    for fn in fns.values():
        jax.block_until_ready(fn(*args))
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            jax.block_until_ready(fn(*args))
            times[name].append(time.perf_counter() - start)
    return {name: float(np.median(t)) for name, t in times.items()}


IDEAL = CrossbarConfig(weight_scale=0.2, dac_bits=8, adc_bits=8)


def every_non_ideality() -> CrossbarConfig:
    """The full profile's crossbar: variation at the table's spread, read noise, thermal noise, IR drop."""
    return dataclasses.replace(IDEAL, variation_scale=1.0, read_noise=True, thermal_noise=True, ir_drop=True,
                               read_voltage_V=0.1, read_time_s=7.1e-7, temperature_K=300.0, tile_rows=128,
                               tile_columns=128)


def synthetic_tables() -> DeviceTables:
    """64 slightly non-uniform levels with spreads and thermal read stds of a tenth of their gaps, a 1 ohm wire per
    cell; DW ReLU / Leaky ReLU (leak 0.2) curves of 41 points."""
    levels = 1e-4 * (1.0 + np.linspace(0.0, 1.0, 64) ** 1.2)
    tenth_gap = 0.1 * np.diff(levels, append=2 * levels[-1] - levels[-2])
    x = np.linspace(-1.0, 1.0, 41)
    return DeviceTables(levels, tenth_gap, x, np.maximum(x, 0.0), x, np.where(x > 0, x, 0.2 * x), 5.0,
                        {"relu": 1e-13, "lrelu": 1e-13}, {"potentiation": 1e-15, "depression": 1e-15}, {},
                        wire_ohm_per_cell=1.0, levels_thermal_std_S=tenth_gap)


def bench_step(dataset: str, repeats: int) -> dict:
    arch = architecture(dataset)
    real = jnp.asarray(np.random.default_rng(0).uniform(-1, 1, (BATCH,) + arch.image_shape), jnp.float32)
    tables = synthetic_tables()
    steps = {}
    for variant, hw in (("float", None), ("hardware", Hardware.from_tables(tables, IDEAL)),
                        ("hardware_all", Hardware.from_tables(tables, every_non_ideality()))):
        step, carry = make_train_step(arch, hw, 2e-4, 0.5), init_carry(arch, 2e-4, 0.5, jax.random.PRNGKey(0), hw)
        steps[variant] = lambda real, key, step=step, carry=carry: step(carry, real, key)
    return median_times(steps, real, jax.random.PRNGKey(1), repeats=repeats)


def bench_deconv(repeats: int) -> list[tuple]:
    rows = []
    rng = np.random.default_rng(0)
    for (h, c_in, c_out) in ((7, 128, 64), (14, 64, 1)):
        x = jnp.asarray(rng.normal(size=(BATCH, h, h, c_in)), jnp.float32)
        w = jnp.asarray(0.02 * rng.normal(size=(4, 4, c_out, c_in)), jnp.float32)
        pad = deconv_padding(4, 1)
        ops = {
            "lax.conv_transpose": jax.jit(lambda x, w: jax.lax.conv_transpose(
                x, w, (2, 2), (pad, pad), dimension_numbers=("NHWC", "HWIO", "NHWC"), transpose_kernel=True)),
            "zero-padded (explicit)": jax.jit(lambda x, w: zero_padded_deconv(x, w, 2, 1)),
            "zero-padded (lhs_dilation)": jax.jit(lambda x, w: fast_deconv(x, w, 2, 1)),
        }
        layer = f"{h}x{h}x{c_in} -> {2 * h}x{2 * h}x{c_out}"
        rows += [(layer, name, t) for name, t in median_times(ops, x, w, repeats=repeats).items()]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--datasets", nargs="+", default=["fashion_mnist"], choices=["fashion_mnist", "anime_faces"])
    args = parser.parse_args()
    print(f"device: {jax.devices()[0]}, batch {BATCH}, median of {args.repeats}")

    for dataset in args.datasets:
        times = bench_step(dataset, args.repeats)
        print(f"\n{dataset} DCGAN training step")
        print(f"{'variant':<12}{'median ms':>12}{'images/s':>10}{'ratio':>8}")
        for variant, t in times.items():
            print(f"{variant:<12}{1e3 * t:>12.1f}{BATCH / t:>10.1f}{t / times['float']:>8.2f}")
        ratio = times["hardware"] / times["float"]
        print(f"hardware / float = {ratio:.2f} (target <= 1.3: {'met' if ratio <= 1.3 else 'NOT met'})")

    print("\nGenerator deconvolutions (stride 2, kernel 4, padding 1)")
    print(f"{'layer':<26}{'implementation':<28}{'median ms':>10}")
    for layer, name, t in bench_deconv(args.repeats):
        print(f"{layer:<26}{name:<28}{1e3 * t:>10.2f}")


if __name__ == "__main__":
    main()
