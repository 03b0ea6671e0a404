"""DDPM runs on Fashion-MNIST with software noise or the noise of the VCMA MTJ source: training (resumable),
sampling, evaluation.

A run's noise is every Gaussian of the diffusion: eps of the forward process in training, x_T and the z of every
ancestral step in sampling. `software` draws them with JAX's generator; `mtj` from the devices' bits with von
Neumann's correction, `mtj_uncorrected` from the raw bits (system/mtj_noise.py). The training timesteps t are
drawn by software in every run (they are the sampler of the loss, not noise of the diffusion).

Files of a run directory results/ddpm/<noise>/ (all written atomically): config.json; checkpoint.pkl (params, Adam
state, EMA params, step, history; a killed run resumes from it); history.csv (step, loss, noise_energy_J, wall_s);
samples.png (8 x 8 samples of the EMA params at the end); model.pkl (the EMA params).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import pickle
import time
from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pandas as pd
from tqdm import tqdm

from pipeline.io import write_csv, write_json, write_pickle
from system import ddpm, mtj_noise
from system.metrics import evaluate_samples
from system.train import GRID, load_checkpoint, to_numpy, write_sample_grid

NOISES = ("software", "mtj", "mtj_uncorrected")
IMAGE_SHAPE = (28, 28, 1)


@dataclass(frozen=True)
class DDPMConfig:
    """Config section `ddpm` and the run's noise."""
    channels: int
    batch_size: int
    train_steps: int
    learning_rate: float
    ema_decay: float
    diffusion_steps: int
    beta_start: float
    beta_end: float
    sample_steps: int
    noise: str = "software"
    seed: int = 0

    @classmethod
    def from_config(cls, section: dict, noise: str, seed: int) -> DDPMConfig:
        if noise not in NOISES:
            raise ValueError(f"ddpm.runs: unknown noise {noise!r}; one of {list(NOISES)}")
        return cls(channels=int(section["channels"]), batch_size=int(section["batch_size"]),
                   train_steps=int(section["train_steps"]), learning_rate=float(section["learning_rate"]),
                   ema_decay=float(section["ema_decay"]), diffusion_steps=int(section["diffusion_steps"]),
                   beta_start=float(section["beta_start"]), beta_end=float(section["beta_end"]),
                   sample_steps=int(section["sample_steps"]), noise=noise, seed=int(seed))

    @property
    def schedule(self) -> ddpm.Schedule:
        return ddpm.Schedule.linear(self.diffusion_steps, self.beta_start, self.beta_end)


class Noise:
    """Gaussian arrays for a run: JAX's generator, or the MTJ bank's corrected or raw bits; energy per value (J)."""

    def __init__(self, kind: str, p_sw: np.ndarray | None = None, energy_per_bit_J: float = 0.0):
        self.kind = kind
        self.bank = None if kind == "software" else mtj_noise.BitBank(np.asarray(p_sw, dtype=float), energy_per_bit_J)
        self.raw_bits_spent = 0

    def draw(self, key, shape) -> jax.Array:
        """Gaussian values of `shape` (float32). The MTJ bits are drawn from a generator seeded by `key`, so a
        resumed run draws what an uninterrupted one would."""
        if self.bank is None:
            return jax.random.normal(key, shape)
        rng = np.random.default_rng(np.asarray(jax.random.key_data(key)).tolist())
        n_bits = int(np.prod(shape)) * mtj_noise.BITS_PER_SAMPLE
        if self.kind == "mtj":
            bits, spent = self.bank.corrected_bits(rng, n_bits)
        else:
            bits, spent = self.bank.interleaved_raw_bits(rng, n_bits), n_bits
        self.raw_bits_spent += spent
        return jnp.asarray(mtj_noise.gaussians(bits).reshape(shape), dtype=jnp.float32)

    def energy_J(self) -> float:
        """Energy (J) of every raw bit spent so far (0 for software noise: no model of a digital generator)."""
        return 0.0 if self.bank is None else self.raw_bits_spent * self.bank.energy_per_bit_J


def _fingerprint(config: dict) -> str:
    """Hash of what a training step depends on: the run's config without its length and sampling steps (the
    learning rate is constant, so a longer run continues a shorter one)."""
    run = {k: v for k, v in config["run"].items() if k not in ("train_steps", "sample_steps")}
    return hashlib.sha256(json.dumps({**config, "run": run}, sort_keys=True, default=str).encode()).hexdigest()


def make_train_step(cfg: DDPMConfig):
    """Jitted (params, opt_state, ema, x0, t, eps) -> (params, opt_state, ema, loss): one Adam step on the simple
    loss and the EMA update."""
    opt = optax.adam(cfg.learning_rate)
    alpha_bar = cfg.schedule.alpha_bar

    @jax.jit
    def step(params, opt_state, ema, x0, t, eps):
        loss, grads = jax.value_and_grad(ddpm.loss)(params, x0, t, eps, alpha_bar)
        updates, opt_state = opt.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        ema = jax.tree_util.tree_map(lambda e, p: cfg.ema_decay * e + (1 - cfg.ema_decay) * p, ema, params)
        return params, opt_state, ema, loss

    return step, opt


def train(cfg: DDPMConfig, images: np.ndarray, noise: Noise, outdir: Path, checkpoint_every: int,
          source: dict | None = None) -> None:
    """Train one run on uint8 images (N, 28, 28) and write the run directory (module docstring); `source` (the
    MTJ bank's figures) goes into config.json and the fingerprint."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    x_all = np.asarray(images).reshape(len(images), *IMAGE_SHAPE).astype(np.float32) / 127.5 - 1.0
    if len(x_all) < cfg.batch_size:
        raise ValueError(f"{len(x_all)} training images are fewer than one batch of {cfg.batch_size}")
    config = {"run": dataclasses.asdict(cfg), "n_images": len(x_all), "source": source}
    fingerprint = _fingerprint(config)
    write_json(outdir / "config.json", config)
    ckpt_path = outdir / "checkpoint.pkl"
    ckpt = load_checkpoint(ckpt_path, fingerprint, cfg.train_steps)
    step_fn, opt = make_train_step(cfg)
    if ckpt is None:
        params = ddpm.init(jax.random.PRNGKey(cfg.seed), cfg.channels)
        ckpt = {"step": 0, "history": [], "params": to_numpy(params), "opt_state": to_numpy(opt.init(params)),
                "ema": to_numpy(params), "noise_energy_J": 0.0}
    params, opt_state, ema, history = ckpt["params"], ckpt["opt_state"], ckpt["ema"], ckpt["history"]
    start, offset = time.perf_counter(), (history[-1]["wall_s"] if history else 0.0)
    energy_offset = ckpt["noise_energy_J"]
    key = jax.random.PRNGKey(cfg.seed + 1)
    steps_per_epoch = len(x_all) // cfg.batch_size

    def save(step: int) -> None:
        write_pickle(ckpt_path, {"fingerprint": fingerprint, "step": step, "history": history,
                                 "params": to_numpy(params), "opt_state": to_numpy(opt_state), "ema": to_numpy(ema),
                                 "noise_energy_J": energy_offset + noise.energy_J()})
        write_csv(outdir / "history.csv", pd.DataFrame(history))

    order = None
    for step in tqdm(range(ckpt["step"], cfg.train_steps), initial=ckpt["step"], total=cfg.train_steps,
                     desc=f"ddpm {cfg.noise}", unit="step", mininterval=5.0):
        epoch, index = divmod(step, steps_per_epoch)
        if order is None or index == 0:
            order = np.random.default_rng([cfg.seed, epoch]).permutation(len(x_all))
        x0 = x_all[order[index * cfg.batch_size:(index + 1) * cfg.batch_size]]
        t = np.random.default_rng([cfg.seed, 1, step]).integers(0, cfg.diffusion_steps, cfg.batch_size)
        before = noise.energy_J()
        eps = noise.draw(jax.random.fold_in(key, step), x0.shape)
        params, opt_state, ema, loss = step_fn(params, opt_state, ema, x0, t, eps)
        loss = float(loss)
        if not np.isfinite(loss):
            raise FloatingPointError(f"loss not finite at step {step + 1}; last good checkpoint kept in {ckpt_path}")
        history.append({"step": step + 1, "loss": loss, "noise_energy_J": noise.energy_J() - before,
                        "wall_s": offset + time.perf_counter() - start})
        if (step + 1) % checkpoint_every == 0:
            save(step + 1)
    save(cfg.train_steps)
    grid, _ = sample(cfg, ema, noise, GRID * GRID, cfg.seed + 2)
    write_sample_grid(outdir / "samples.png", grid, f"ddpm {cfg.noise}, step {cfg.train_steps}")
    write_pickle(outdir / "model.pkl", {"params": to_numpy(ema)})


def sample(cfg: DDPMConfig, params, noise: Noise, n: int, seed: int, batch: int = 500) -> tuple[np.ndarray, float]:
    """(n images (n, 28, 28, 1) in [-1, 1], energy (J) of the noise they used) by ancestral sampling on the
    respaced schedule of cfg.sample_steps steps."""
    coef = ddpm.sampling_coefficients(cfg.schedule, cfg.sample_steps)
    step = jax.jit(ddpm.sample_step)
    key = jax.random.PRNGKey(seed)
    before = noise.energy_J()
    out = []
    for b in range(-(-n // batch)):
        size = min(batch, n - b * batch)
        kb = jax.random.fold_in(key, b)
        x = noise.draw(jax.random.fold_in(kb, 1_000_000), (size, *IMAGE_SHAPE))  # x_T
        for i in range(len(coef["t"])):
            last = i == len(coef["t"]) - 1
            z = jnp.zeros_like(x) if last else noise.draw(jax.random.fold_in(kb, i), x.shape)
            x = step(params, x, coef["t"][i], coef["c_x"][i], coef["c_eps"][i], coef["sigma"][i], z)
        out.append(np.clip(np.asarray(x), -1.0, 1.0))
    return np.concatenate(out), noise.energy_J() - before


def evaluate(cfg: DDPMConfig, noise: Noise, outdir: Path, real_images: np.ndarray, feature_fn, n_samples: int) -> dict:
    """Classifier FD and KID of n_samples generated images against as many test images; the noise's energy per
    generated image and per training image; the wall times."""
    with open(Path(outdir) / "model.pkl", "rb") as f:
        params = pickle.load(f)["params"]
    start = time.perf_counter()
    fake, energy = sample(cfg, params, noise, n_samples, cfg.seed + 3)
    sample_wall = time.perf_counter() - start
    real = np.asarray(real_images[:n_samples]).astype(np.float32) / 127.5 - 1.0
    scores = evaluate_samples(real.reshape(-1, *IMAGE_SHAPE), fake, {"classifier": feature_fn},
                              seed=cfg.seed)["classifier"]
    history = pd.read_csv(Path(outdir) / "history.csv")
    seen = len(history) * cfg.batch_size
    return {"noise": cfg.noise, "n_samples": n_samples, "classifier_fd": scores["frechet_distance"],
            "kid": scores["kid_mean"], "kid_std": scores["kid_std"],
            "noise_energy_J_per_image": energy / n_samples,
            "training_noise_energy_J_per_image": float(history["noise_energy_J"].sum()) / seen,
            "steps": len(history), "train_images_seen": seen, "train_wall_s": float(history["wall_s"].iloc[-1]),
            "sample_wall_s": sample_wall, "sample_steps": cfg.sample_steps,
            "final_loss": float(history["loss"].iloc[-1])}


def noise_of(cfg: DDPMConfig, tables_dir: Path) -> tuple[Noise, dict | None]:
    """The run's Noise and, for the MTJ noises, the bank's figures (devices, mean P_sw, energy per raw bit)."""
    if cfg.noise == "software":
        return Noise("software"), None
    from devices.vcma_tables import read_devices
    p_sw, energy = read_devices(tables_dir)
    source = {"devices": int(len(p_sw)), "p_sw_mean": float(p_sw.mean()), "p_sw_std": float(p_sw.std(ddof=1)),
              "energy_per_raw_bit_J": energy, "p_sw_sha256": hashlib.sha256(p_sw.tobytes()).hexdigest()}
    return Noise(cfg.noise, p_sw, energy), source


SUMMARY_COLUMNS = ["noise", "n_samples", "classifier_fd", "fd_ratio_to_software", "kid", "kid_std",
                   "kid_ratio_to_software", "noise_energy_J_per_image", "training_noise_energy_J_per_image", "steps",
                   "train_images_seen", "train_wall_s", "sample_wall_s", "sample_steps", "final_loss"]


def build_summary(metrics_files: list[Path]) -> pd.DataFrame:
    """One row per run; FD and KID over the software run's (NaN without one)."""
    frame = pd.DataFrame([json.loads(Path(p).read_text()) for p in metrics_files])
    software = frame[frame["noise"] == "software"]
    for metric, ratio in (("classifier_fd", "fd_ratio_to_software"), ("kid", "kid_ratio_to_software")):
        frame[ratio] = frame[metric] / software[metric].iloc[0] if len(software) else np.nan
    return frame[SUMMARY_COLUMNS]
