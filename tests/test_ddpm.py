"""The DDPM (system/ddpm.py, system/ddpm_run.py): the forward process and the sampler against Gaussian data, where
the optimal denoiser is known in closed form, and a tiny training run with software and MTJ noise that resumes."""
import math

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

from system import ddpm, ddpm_run

SECTION = {"channels": 8, "batch_size": 16, "train_steps": 6, "learning_rate": 2e-4, "ema_decay": 0.9,
           "diffusion_steps": 1000, "beta_start": 1e-4, "beta_end": 0.02, "sample_steps": 5}


def test_forward_process_variance_and_respacing():
    sched = ddpm.Schedule.linear(1000, 1e-4, 0.02)
    # abar_T of Ho et al.'s schedule: prod (1 - beta) ~ 4e-5
    assert sched.alpha_bar[-1] == pytest.approx(np.prod(1 - np.linspace(1e-4, 0.02, 1000)), rel=1e-12)
    kept, sub = sched.respaced(100)
    assert len(kept) == 100 and kept[0] == 0 and kept[-1] == 999
    assert np.allclose(sub.alpha_bar, sched.alpha_bar[kept], rtol=1e-12)   # same marginals at the kept steps
    x0 = jnp.zeros((20000, 28, 28, 1))[:, :1, :1]
    t = jnp.full((20000,), 300)
    eps = jax.random.normal(jax.random.PRNGKey(0), x0.shape)
    xt = ddpm.q_sample(x0 + 1.0, t, eps, sched.alpha_bar)
    assert float(xt.mean()) == pytest.approx(math.sqrt(sched.alpha_bar[300]), abs=0.02)
    assert float(xt.var()) == pytest.approx(1 - sched.alpha_bar[300], rel=0.03)


def test_ancestral_sampler_recovers_gaussian_data_with_the_exact_denoiser():
    """Data N(0, s^2) per pixel: x_t ~ N(0, abar s^2 + 1 - abar) and the optimal eps is sqrt(1 - abar) x_t /
    (abar s^2 + 1 - abar). With that denoiser the sampler on all T steps brings N(0, 1) back to std s; on 100
    respaced steps the posterior variance (the variance given x_0) under-disperses it, by 6 % here."""
    s = 0.5
    sched = ddpm.Schedule.linear(1000, 1e-4, 0.02)
    rng = np.random.default_rng(0)
    stds = {}
    for steps in (1000, 100):
        coef = ddpm.sampling_coefficients(sched, steps)
        x = rng.standard_normal(200_000)
        for i, t in enumerate(coef["t"]):
            a = sched.alpha_bar[t]
            eps_hat = math.sqrt(1 - a) * x / (a * s * s + 1 - a)
            x = coef["c_x"][i] * x - coef["c_eps"][i] * eps_hat + coef["sigma"][i] * rng.standard_normal(x.shape)
        stds[steps] = x.std()
        assert abs(x.mean()) < 0.01
    assert stds[1000] == pytest.approx(s, rel=0.015)
    assert 0.9 * s < stds[100] < stds[1000]


def test_network_shapes_and_identity_start():
    params = ddpm.init(jax.random.PRNGKey(0), 8)
    x = jax.random.normal(jax.random.PRNGKey(1), (3, 28, 28, 1))
    out = ddpm.eps_model(params, x, jnp.array([0, 500, 999]))
    assert out.shape == x.shape and bool(jnp.all(jnp.isfinite(out)))


@pytest.mark.parametrize("noise", ["software", "mtj"])
def test_tiny_training_resumes_and_counts_the_noise_energy(tmp_path, noise):
    images = np.random.default_rng(0).integers(0, 256, (64, 28, 28), dtype=np.uint8)
    cfg = ddpm_run.DDPMConfig.from_config(SECTION, noise, 0)
    source = dict(p_sw=np.linspace(0.3, 0.7, 8), energy_per_bit_J=5e-15) if noise != "software" else {}
    ddpm_run.train(cfg, images, ddpm_run.Noise(noise, **source), tmp_path, checkpoint_every=3)
    history = pd.read_csv(tmp_path / "history.csv")
    assert list(history["step"]) == list(range(1, 7)) and np.isfinite(history["loss"]).all()
    if noise == "software":
        assert (history["noise_energy_J"] == 0).all()
    else:  # 16 x 784 values of 24 corrected bits, 1 / mean(p (1 - p)) raw bits each
        per_step = 16 * 784 * 24 * 5e-15 / np.mean(source["p_sw"] * (1 - source["p_sw"]))
        assert history["noise_energy_J"].mean() == pytest.approx(per_step, rel=0.02)
    longer = ddpm_run.DDPMConfig.from_config({**SECTION, "train_steps": 8}, noise, 0)
    ddpm_run.train(longer, images, ddpm_run.Noise(noise, **source), tmp_path, checkpoint_every=3)
    resumed = pd.read_csv(tmp_path / "history.csv")
    assert list(resumed["step"]) == list(range(1, 9))
    assert np.allclose(resumed["loss"][:6], history["loss"])
    assert np.array_equal(resumed["wall_s"][:6], history["wall_s"])   # the first six steps kept, not retrained
    assert (tmp_path / "samples.png").stat().st_size > 1000 and (tmp_path / "model.pkl").is_file()
