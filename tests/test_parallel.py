"""Data parallelism: one training step on 4 virtual CPU devices against the single-device step (a subprocess,
since JAX fixes its device count when it starts)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from system import parallel

REPO = Path(__file__).resolve().parents[1]

SCRIPT = """
import jax, jax.numpy as jnp, numpy as np
from system import parallel
from system.crossbar import CrossbarConfig
from system.dcgan import Hardware
from system.train import init_carry, make_train_step
from tests.test_dcgan import TINY
from tests.test_train import TABLES
assert len(jax.devices()) == 4
hw = {"float": None, "hardware": Hardware.from_tables(TABLES, CrossbarConfig(weight_scale=0.05, dac_bits=8,
                                                                               adc_bits=8))}[VARIANT]
step = make_train_step(TINY, hw, 2e-4, 0.5)
carry = init_carry(TINY, 2e-4, 0.5, jax.random.PRNGKey(0), hw)
real = jnp.asarray(np.random.default_rng(0).uniform(-1, 1, (16, 8, 8, 1)), jnp.float32)
one, m1 = step(carry, real, jax.random.PRNGKey(1))
mesh = parallel.data_mesh(4)
four, m4 = step(parallel.replicate(carry, mesh), parallel.split_batch(real, mesh), jax.random.PRNGKey(1))
assert four["params_g"]["g1"]["w"].sharding.is_fully_replicated
np.testing.assert_allclose(float(m4["d_loss"]), float(m1["d_loss"]), rtol=1e-6)
np.testing.assert_allclose(float(m4["g_loss"]), float(m1["g_loss"]), rtol=1e-6)
for net in ("opt_g", "opt_d"):  # Adam's first moment after one step: (1 - beta1) x the gradient
    for a, b in zip(jax.tree.leaves(one[net]), jax.tree.leaves(four[net])):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=1e-4, atol=1e-9)
for net in ("params_g", "params_d", "state_g", "state_d"):
    for a, b in zip(jax.tree.leaves(one[net]), jax.tree.leaves(four[net])):
        # Adam's first step is lr g / (|g| + eps): where |g| ~ eps, rounding moves it by up to lr
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), atol=2 * 2e-4)
        assert np.mean(np.abs(np.asarray(b) - np.asarray(a)) > 1e-6) < 1e-2
print("ok")
"""


@pytest.mark.parametrize("variant", ["float", "hardware"])
def test_step_on_four_devices_equals_the_single_device_step(variant):
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4",
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", f"VARIANT = {variant!r}\n" + SCRIPT], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-3000:]


TRAIN = """
import tempfile
import numpy as np, pandas as pd
import system.train as train_module
from tests.test_dcgan import TINY
from tests.test_train import IMAGES, config
train_module.architecture = lambda dataset, latent_dim=100: TINY
losses = []
for devices in (1, 4):
    with tempfile.TemporaryDirectory() as out:
        section = {**config(epochs=1, every=3), "checkpoint_metric_samples": 0}
        train_module.train(section, "fashion_mnist", "float", IMAGES, None, out, seed=0, devices=devices)
        losses.append(pd.read_csv(f"{out}/history.csv")[["d_loss", "g_loss"]].to_numpy())
np.testing.assert_allclose(losses[1], losses[0], rtol=1e-3)
print("ok")
"""


def test_training_run_on_four_devices_follows_the_single_device_run():
    """train(devices=4) as the train rule runs it with system.data_parallel_devices 4: the same losses, step by
    step (3 steps of 8 images), within 1e-3."""
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4",
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", TRAIN], env=env, cwd=REPO, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-3000:]


def test_more_devices_than_there_are_is_an_error_naming_the_key():
    with pytest.raises(ValueError, match="system.data_parallel_devices: 64 devices asked for"):
        parallel.data_mesh(64)
