"""A denoising diffusion probabilistic model (Ho, Jain, Abbeel, NeurIPS 2020) for 28 x 28 x 1 images, as pure JAX
functions over a parameter pytree. Every Gaussian it uses comes from outside (`eps`, `z` arguments), so that the
same model trains and samples with software noise or with the noise of the MTJ source (system/mtj_noise.py).

- Forward process: x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps, linear betas from beta_1 to beta_T over T steps
  (Ho et al.: 1e-4, 0.02, T = 1000).
- Network eps_theta(x_t, t): a small U-Net. Stem conv 3x3 to C channels; at 28, 14 and 7 pixels one residual block
  each (channels C, 2C, 2C) with the time embedding (sinusoidal, MLP) added; stride-2 3x3 convolutions down;
  a middle residual block at 7; up: nearest-neighbour upsampling and a 3x3 convolution, concatenation with the
  skip of the same size, one residual block; GroupNorm (8 groups) and SiLU; output conv 3x3 to one channel.
- Loss: mean squared error between eps and eps_theta (the "simple" objective).
- Sampling: ancestral steps on a respaced schedule of S of the T steps (Nichol and Dhariwal, ICML 2021: the
  betas of the subsequence are 1 - abar_i / abar_(i-1)), with the posterior variance; S = T is Ho et al.'s sampler.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

GROUPS = 8


@dataclass(frozen=True)
class Schedule:
    """Betas of T steps (numpy) and the cumulative products abar_t = prod_(s <= t) (1 - beta_s)."""
    betas: np.ndarray

    @classmethod
    def linear(cls, steps: int, beta_start: float, beta_end: float) -> Schedule:
        return cls(np.linspace(beta_start, beta_end, steps, dtype=np.float64))

    @property
    def alpha_bar(self) -> np.ndarray:
        return np.cumprod(1.0 - self.betas)

    def respaced(self, steps: int) -> tuple[np.ndarray, Schedule]:
        """(the kept timesteps, evenly spaced from 0 to T - 1, and the schedule of their betas)."""
        kept = np.unique(np.round(np.linspace(0, len(self.betas) - 1, steps)).astype(int))
        abar = self.alpha_bar[kept]
        return kept, Schedule(1.0 - abar / np.concatenate([[1.0], abar[:-1]]))


def q_sample(x0, t, eps, alpha_bar):
    """x_t of the forward process for images x0 (B, 28, 28, 1), integer steps t (B,), noise eps like x0."""
    a = jnp.asarray(alpha_bar, dtype=x0.dtype)[t][:, None, None, None]
    return jnp.sqrt(a) * x0 + jnp.sqrt(1.0 - a) * eps


# ---------------------------------------------------------------- the network


def _conv_init(key, k: int, c_in: int, c_out: int):
    scale = math.sqrt(1.0 / (k * k * c_in))
    return {"w": jax.random.uniform(key, (k, k, c_in, c_out), minval=-scale, maxval=scale), "b": jnp.zeros(c_out)}


def _dense_init(key, n_in: int, n_out: int):
    scale = math.sqrt(1.0 / n_in)
    return {"w": jax.random.uniform(key, (n_in, n_out), minval=-scale, maxval=scale), "b": jnp.zeros(n_out)}


def _norm_init(c: int):
    return {"g": jnp.ones(c), "b": jnp.zeros(c)}


def _res_init(key, c_in: int, c_out: int, t_dim: int):
    k = jax.random.split(key, 4)
    block = {"n1": _norm_init(c_in), "c1": _conv_init(k[0], 3, c_in, c_out), "t": _dense_init(k[1], t_dim, c_out),
             "n2": _norm_init(c_out), "c2": _conv_init(k[2], 3, c_out, c_out)}
    block["c2"]["w"] = block["c2"]["w"] * 0.0  # each block starts as the identity (a common DDPM choice)
    if c_in != c_out:
        block["skip"] = _conv_init(k[3], 1, c_in, c_out)
    return block


def init(key, channels: int) -> dict:
    """Parameters of the U-Net with base width `channels` (C)."""
    c1, c2 = channels, 2 * channels
    t_dim = 4 * channels
    k = iter(jax.random.split(key, 16))
    return {
        "t1": _dense_init(next(k), channels, t_dim), "t2": _dense_init(next(k), t_dim, t_dim),
        "stem": _conv_init(next(k), 3, 1, c1),
        "d28": _res_init(next(k), c1, c1, t_dim), "down1": _conv_init(next(k), 3, c1, c2),
        "d14": _res_init(next(k), c2, c2, t_dim), "down2": _conv_init(next(k), 3, c2, c2),
        "d7": _res_init(next(k), c2, c2, t_dim), "mid": _res_init(next(k), c2, c2, t_dim),
        "u7": _res_init(next(k), 2 * c2, c2, t_dim), "up1": _conv_init(next(k), 3, c2, c2),
        "u14": _res_init(next(k), 2 * c2, c2, t_dim), "up2": _conv_init(next(k), 3, c2, c1),
        "u28": _res_init(next(k), 2 * c1, c1, t_dim),
        "out_norm": _norm_init(c1), "out": _conv_init(next(k), 3, c1, 1),
    }


def _conv(p, x, stride: int = 1):
    y = jax.lax.conv_general_dilated(x, p["w"], (stride, stride), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
    return y + p["b"]


def _group_norm(p, x):
    b, h, w, c = x.shape
    g = x.reshape(b, h, w, GROUPS, c // GROUPS)
    mean = g.mean(axis=(1, 2, 4), keepdims=True)
    var = g.var(axis=(1, 2, 4), keepdims=True)
    return ((g - mean) / jnp.sqrt(var + 1e-5)).reshape(b, h, w, c) * p["g"] + p["b"]


def _res(p, x, temb):
    h = _conv(p["c1"], jax.nn.silu(_group_norm(p["n1"], x)))
    h = h + (temb @ p["t"]["w"] + p["t"]["b"])[:, None, None, :]
    h = _conv(p["c2"], jax.nn.silu(_group_norm(p["n2"], h)))
    return h + (_conv(p["skip"], x) if "skip" in p else x)


def _time_embedding(t, dim: int):
    """Sinusoidal embedding (B, dim) of integer steps t (Vaswani et al. 2017, as in Ho et al.)."""
    half = dim // 2
    freqs = jnp.exp(-math.log(10000.0) * jnp.arange(half) / half)
    angles = t.astype(jnp.float32)[:, None] * freqs[None, :]
    return jnp.concatenate([jnp.sin(angles), jnp.cos(angles)], axis=1)


def _upsample(x):
    return jnp.repeat(jnp.repeat(x, 2, axis=1), 2, axis=2)


def eps_model(params, x, t):
    """eps_theta(x_t, t) for images x (B, 28, 28, 1) and integer steps t (B,)."""
    temb = _time_embedding(t, params["t1"]["w"].shape[0])
    temb = jax.nn.silu(temb @ params["t1"]["w"] + params["t1"]["b"]) @ params["t2"]["w"] + params["t2"]["b"]
    h28 = _res(params["d28"], _conv(params["stem"], x), temb)
    h14 = _res(params["d14"], _conv(params["down1"], h28, 2), temb)
    h7 = _res(params["d7"], _conv(params["down2"], h14, 2), temb)
    h = _res(params["mid"], h7, temb)
    h = _res(params["u7"], jnp.concatenate([h, h7], axis=-1), temb)
    h = _res(params["u14"], jnp.concatenate([_conv(params["up1"], _upsample(h)), h14], axis=-1), temb)
    h = _res(params["u28"], jnp.concatenate([_conv(params["up2"], _upsample(h)), h28], axis=-1), temb)
    return _conv(params["out"], jax.nn.silu(_group_norm(params["out_norm"], h)))


def loss(params, x0, t, eps, alpha_bar):
    """The simple objective: mean of (eps - eps_theta(x_t, t))^2."""
    return jnp.mean((eps - eps_model(params, q_sample(x0, t, eps, alpha_bar), t)) ** 2)


def sampling_coefficients(schedule: Schedule, sample_steps: int) -> dict:
    """Per ancestral step i = S-1 .. 0 of the respaced schedule (arrays in that order): the network's step t_i and
    x_(i-1) = c_x x_i - c_eps eps_theta(x_i, t_i) + sigma z, sigma^2 the posterior variance (0 at the last step)."""
    kept, sub = schedule.respaced(sample_steps)
    beta, abar = sub.betas, sub.alpha_bar
    abar_prev = np.concatenate([[1.0], abar[:-1]])
    sigma = np.sqrt(beta * (1.0 - abar_prev) / (1.0 - abar))
    sigma[0] = 0.0
    order = slice(None, None, -1)
    return {"t": kept[order].astype(np.int32), "c_x": (1.0 / np.sqrt(1.0 - beta))[order],
            "c_eps": (beta / np.sqrt((1.0 - abar) * (1.0 - beta)))[order], "sigma": sigma[order]}


def sample_step(params, x, t, c_x, c_eps, sigma, z):
    """One ancestral step: c_x x - c_eps eps_theta(x, t) + sigma z (scalars of sampling_coefficients; z like x)."""
    eps = eps_model(params, x, jnp.full((x.shape[0],), t, dtype=jnp.int32))
    return c_x * x - c_eps * eps + sigma * z
