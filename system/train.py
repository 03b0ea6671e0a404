"""DCGAN training (Adam, non-saturating GAN loss), resumable checkpoints, and sampling.

Files written to ``outdir`` (all atomically: temporary name, then ``os.replace``):

- ``config.json``: the run (dataset, variant, seed, system config, layers, and for the
  hardware variant the device data the network used);
- ``checkpoint.pkl``: resumable state (numpy pytrees of G/D params, state (BN running stats and,
  with the weights on the crossbar, the DAC / ADC full scales) and Adam state,
  step, PRNG key, history, update counts, wall time) every ``checkpoint_every_steps`` and at
  the end. Rerunning a killed run resumes from it and gives the same result as an
  uninterrupted run with the same seed; a checkpoint of a different run setup is ignored;
- ``history.csv``: step, epoch, d_loss, g_loss, wall_s (cumulative seconds), for the hardware
  variant the level steps per step (g_/d_potentiation, g_/d_depression), and at each checkpoint,
  given a classifier, classifier_fd: the Frechet distance of ``checkpoint_metric_samples``
  generated images to as many training images in its features (a trend to watch; the reported
  metrics are the evaluate rule's);
- ``update_counts.csv``: per crossbar layer, cumulative potentiation / depression level steps,
  steps and training images seen (input of ``system.energy``; zeros where the weights are not on
  the crossbar, as in the float variant);
- ``samples_step<step>.png`` at each checkpoint and ``samples.png`` at the end (8x8 grid, fixed
  latents, at least ``GRID_MIN_PX`` wide, titled with dataset, variant and step);
- ``generator.pkl`` at the end: the trained generator (params, state, config) for
  ``load_generator`` / ``generate``;
- ``discriminator.pkl`` at the end: the trained discriminator (params, state), which the energy
  model replays on training batches.

Every file a later rule reads is among these; ``checkpoint.pkl`` and ``samples_step*.png`` belong
to the training run alone.

A non-finite loss stops training with ``FloatingPointError``; the last good checkpoint stays.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import time
from functools import lru_cache, partial
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pandas as pd
from PIL import Image, ImageDraw, ImageFont
from tqdm import tqdm

from pipeline.io import atomic_path, write_csv, write_json, write_pickle
from system import parallel
from system.crossbar import CrossbarConfig, level_transitions
from system.dcgan import Architecture, Hardware, architecture, describe_layers, hardware_parts
from system.dcgan import discriminator, generator, init
from system.metrics import FeatureFn, feature_stats, frechet_distance
from system.tables import DeviceTables

GRID = 8  # sample grid is GRID x GRID
GRID_MIN_PX = 640  # sample grids are scaled up (nearest pixel) to at least this width
SAMPLE_KEY = 2**31 - 1  # read-noise key of the sample grids (steps use keys 0, 1, ...)


# ---------------------------------------------------------------- files


def write_sample_grid(path: Path, images: np.ndarray, title: str) -> None:
    """Save a batch in [-1, 1] (N, H, W, C), N = GRID^2, as one grid image scaled up by a whole factor to at
    least GRID_MIN_PX wide, with ``title`` in a white band above it."""
    n, h, w, c = images.shape
    grid = images.reshape(GRID, GRID, h, w, c).transpose(0, 2, 1, 3, 4).reshape(GRID * h, GRID * w, c)
    scale = -(-GRID_MIN_PX // (GRID * w))
    grid = grid.repeat(scale, axis=0).repeat(scale, axis=1)
    pixels = np.clip(np.round((grid + 1.0) * 127.5), 0, 255).astype(np.uint8)
    band = 40
    image = Image.new("RGB", (grid.shape[1], grid.shape[0] + band), "white")
    image.paste(Image.fromarray(pixels[..., 0] if c == 1 else pixels).convert("RGB"), (0, band))
    ImageDraw.Draw(image).text((8, band // 2), title, fill="black", anchor="lm", font=ImageFont.load_default(size=24))
    with atomic_path(path) as tmp:
        image.save(tmp)


def to_numpy(tree):
    return jax.tree.map(np.asarray, jax.device_get(tree))


# ---------------------------------------------------------------- training step


def bce(logits, target: float):
    """Binary cross-entropy of logits against a constant target (the GAN loss)."""
    return optax.sigmoid_binary_cross_entropy(logits, jnp.full_like(logits, target)).mean()


def adam(learning_rate: float, beta1: float) -> optax.GradientTransformation:
    """The optimiser of G and of D (beta2 0.999)."""
    return optax.adam(learning_rate, b1=beta1, b2=0.999)


@lru_cache(maxsize=8)
def make_train_step(arch: Architecture, hw: Hardware | None, learning_rate: float, beta1: float):
    """One jitted GAN step: (carry, real images, key) -> (carry, metrics); cached, so runs
    with the same setup in one process share the compiled step.

    carry: dict of params_g, state_g, opt_g, params_d, state_d, opt_d (``init_carry``).
    metrics: d_loss, g_loss and, for the hardware variant, counts {layer: [pot, dep]}.
    """
    opt = adam(learning_rate, beta1)
    G = partial(generator, arch, hw=hw, train=True)
    D = partial(discriminator, arch, hw=hw, train=True)

    def d_loss_fn(params_d, state_d, real, fake, key):
        real_logits, state_d = D(params_d, state_d, real, key=jax.random.fold_in(key, 0))
        fake_logits, state_d = D(params_d, state_d, fake, key=jax.random.fold_in(key, 1))
        return bce(real_logits, 1.0) + bce(fake_logits, 0.0), state_d

    def g_loss_fn(fake, params_d, state_d, key):
        logits, _ = D(params_d, state_d, fake, key=key)
        return bce(logits, 1.0)  # non-saturating generator loss

    def adam_update(params, grads, opt_state):
        updates, opt_state = opt.update(grads, opt_state, params)
        new = optax.apply_updates(params, updates)
        counts = {}
        if hw is not None and hw.synapses:  # shadow weights stay within the device range; count level steps
            s = hw.crossbar.weight_scale
            for name in new:
                new[name] = {**new[name], "w": jnp.clip(new[name]["w"], -s, s)}
                counts[name] = level_transitions(params[name]["w"], new[name]["w"], hw.levels, s)
        return new, opt_state, counts

    @jax.jit
    def train_step(carry, real, key):
        k_z, k_g, k_d, k_gd = jax.random.split(key, 4)
        z = jax.random.normal(k_z, (real.shape[0], arch.latent_dim))

        # 1. a batch of fakes; keep the pullback for the generator's gradient
        fake, g_pullback, state_g = jax.vjp(
            lambda p: G(p, carry["state_g"], z, key=k_g), carry["params_g"], has_aux=True
        )

        # 2. discriminator: real -> 1, fake -> 0
        (d_loss, state_d), d_grads = jax.value_and_grad(d_loss_fn, has_aux=True)(
            carry["params_d"], carry["state_d"], real, jax.lax.stop_gradient(fake), k_d
        )
        params_d, opt_d_state, d_counts = adam_update(carry["params_d"], d_grads, carry["opt_d"])

        # 3. generator: fool the updated discriminator
        g_loss, fake_grad = jax.value_and_grad(g_loss_fn)(fake, params_d, state_d, k_gd)
        (g_grads,) = g_pullback(fake_grad)
        params_g, opt_g_state, g_counts = adam_update(carry["params_g"], g_grads, carry["opt_g"])

        carry = {"params_g": params_g, "state_g": state_g, "opt_g": opt_g_state,
                 "params_d": params_d, "state_d": state_d, "opt_d": opt_d_state}
        return carry, {"d_loss": d_loss, "g_loss": g_loss, "counts": {**g_counts, **d_counts}}

    return train_step


def init_carry(arch: Architecture, learning_rate: float, beta1: float, key: jax.Array,
               hw: Hardware | None = None) -> dict:
    """Fresh parameters, state (BN running stats, converter full scales) and Adam state for G and D."""
    k_g, k_d = jax.random.split(key)
    params_g, state_g = init(arch.generator, k_g, hw)
    params_d, state_d = init(arch.discriminator, k_d, hw)
    opt = adam(learning_rate, beta1)
    return {"params_g": params_g, "state_g": state_g, "opt_g": opt.init(params_g),
            "params_d": params_d, "state_d": state_d, "opt_d": opt.init(params_d)}


# ---------------------------------------------------------------- train


def _prepare_images(images: np.ndarray, arch: Architecture, max_images: int) -> np.ndarray:
    """uint8 (N, H, W[, C]) -> uint8 (N, H, W, C) checked against the architecture."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.dtype != np.uint8 or images.shape[1:] != arch.image_shape:
        raise ValueError(
            f"{arch.dataset} expects uint8 images of shape (N, {', '.join(map(str, arch.image_shape))}),"
            f" got {images.dtype} {images.shape}"
        )
    return images[:max_images] if max_images else images


def _epoch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    return np.random.default_rng([seed, epoch]).permutation(n)


def _batch(images: np.ndarray, order: np.ndarray, index: int, batch: int) -> np.ndarray:
    """Batch ``index`` of an epoch's ``order``: float32 NHWC in [-1, 1]."""
    return images[order[index * batch:(index + 1) * batch]].astype(np.float32) / 127.5 - 1.0


def training_batches(images: np.ndarray, arch: Architecture, seed: int, batch: int, count: int) -> list[np.ndarray]:
    """The real images of the first ``count`` training steps (at most one epoch), as ``train`` draws them."""
    images = _prepare_images(images, arch, 0)
    order = _epoch_order(seed, 0, len(images))
    return [_batch(images, order, index, batch) for index in range(min(count, len(images) // batch))]


def _sample_latents(seed: int, latent_dim: int) -> np.ndarray:
    return np.random.default_rng([seed, 1]).standard_normal((GRID * GRID, latent_dim)).astype(np.float32)


def train(sys_cfg: dict, dataset: str, variant: str, images: np.ndarray,
          tables: DeviceTables | None, outdir: Path, seed: int,
          classifier_features: FeatureFn | None = None, devices: int = 1) -> None:
    """Train the DCGAN of ``dataset`` in ``variant`` on ``images``; write to ``outdir``.

    sys_cfg: the config's ``system`` mapping; tables: needed for the hardware variant;
    classifier_features: float images (N, H, W, C) in [-1, 1] -> features (N, F), for the
    classifier_fd of each checkpoint (none without it or with ``checkpoint_metric_samples`` 0).
    devices: data-parallel devices (system/parallel.py); 1: one device. Not part of the run's setup: a run
    resumes on another number of devices.
    """
    on_devices = any(hardware_parts(variant))
    if on_devices and tables is None:
        raise ValueError(f"the {variant} variant needs the device tables")
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)

    arch = architecture(dataset, int(sys_cfg["latent_dim"]))
    hw = None
    if on_devices:
        hw = Hardware.from_tables(tables, CrossbarConfig.from_config(sys_cfg["crossbar"], seed), variant)
    images = _prepare_images(images, arch, int(sys_cfg["max_train_images"]))
    batch = int(sys_cfg["batch_size"])
    steps_per_epoch = len(images) // batch
    if steps_per_epoch == 0:
        raise ValueError(f"{len(images)} training images are fewer than one batch of {batch}")
    total_steps = int(sys_cfg["epochs"][dataset]) * steps_per_epoch
    every = int(sys_cfg["checkpoint_every_steps"])

    config = {
        "dataset": dataset, "variant": variant, "seed": seed, "n_images": len(images),
        "system": sys_cfg, "layers": describe_layers(arch, variant),
        "hardware": hw.to_dict() if hw else None,
        "tables_provenance": {k: v.get("provenance") for k, v in tables.sidecars.items()} if tables else None,
    }
    setup = {k: config[k] for k in ("dataset", "variant", "seed", "n_images", "hardware")}
    setup["system"] = {k: sys_cfg.get(k) for k in ("latent_dim", "batch_size", "learning_rate", "beta1", "crossbar")}
    fingerprint = hashlib.sha256(json.dumps(setup, sort_keys=True, default=str).encode()).hexdigest()
    write_json(outdir / "config.json", config)

    lr, beta1 = float(sys_cfg["learning_rate"]), float(sys_cfg["beta1"])
    train_step = make_train_step(arch, hw, lr, beta1)
    key = jax.random.PRNGKey(seed)
    ckpt_path = outdir / "checkpoint.pkl"
    ckpt = load_checkpoint(ckpt_path, fingerprint, total_steps)
    if ckpt is None:
        ckpt = {"fingerprint": fingerprint, "step": 0, "key": np.asarray(key), "wall_s": 0.0,
                "history": [], "counts": {}, "carry": to_numpy(init_carry(arch, lr, beta1, key, hw))}
    carry, step, history = ckpt["carry"], ckpt["step"], ckpt["history"]
    mesh = parallel.data_mesh(devices) if devices > 1 else None  # data parallel: system/parallel.py
    if mesh is not None:
        carry = parallel.replicate(carry, mesh)
    counts = {k: np.asarray(v, np.int64) for k, v in ckpt["counts"].items()}
    key = jnp.asarray(ckpt["key"])
    latents = _sample_latents(seed, arch.latent_dim)

    on_crossbar = hw is not None and hw.synapses  # weight updates are counted
    n_monitor = int(sys_cfg["checkpoint_metric_samples"]) if classifier_features is not None else 0
    if n_monitor:
        chosen = np.random.default_rng([seed, 2]).choice(len(images), min(n_monitor, len(images)), replace=False)
        real_stats = feature_stats(classifier_features(images[np.sort(chosen)].astype(np.float32) / 127.5 - 1.0))

    def write_logs(step: int) -> None:
        write_csv(outdir / "history.csv", pd.DataFrame(history))
        write_csv(outdir / "update_counts.csv", _counts_frame(arch, counts, step, batch))

    def save(step: int, wall_s: float) -> None:
        if n_monitor:
            fake = generate((carry["params_g"], carry["state_g"], config), n_monitor, seed=seed + 2)
            history[-1]["classifier_fd"] = frechet_distance(*real_stats, *feature_stats(classifier_features(fake)))
            bar.set_postfix(classifier_fd=f"{history[-1]['classifier_fd']:.2f}")
        state = {"fingerprint": fingerprint, "step": step, "key": np.asarray(key), "wall_s": wall_s,
                 "history": history, "counts": counts, "carry": to_numpy(carry)}
        _save_checkpoint(ckpt_path, state)
        write_logs(step)
        write_sample_grid(outdir / f"samples_step{step:06d}.png", _sample(arch, hw, carry, latents, key),
                   f"{dataset}, {variant}, step {step}")

    start_wall, wall_offset = time.perf_counter(), ckpt["wall_s"]
    order = None
    bar = tqdm(range(step, total_steps), initial=step, total=total_steps,
               desc=f"{dataset}/{variant}", unit="step", mininterval=5.0)
    for step in bar:
        epoch, index = divmod(step, steps_per_epoch)
        if order is None or index == 0:
            order = _epoch_order(seed, epoch, len(images))
        real = _batch(images, order, index, batch)
        if mesh is not None:
            real = parallel.split_batch(real, mesh)
        carry, metrics = train_step(carry, real, jax.random.fold_in(key, step))
        d_loss, g_loss = float(metrics["d_loss"]), float(metrics["g_loss"])
        if not (np.isfinite(d_loss) and np.isfinite(g_loss)):
            raise FloatingPointError(
                f"loss not finite at step {step + 1} (d_loss={d_loss}, g_loss={g_loss}); "
                f"training stopped, last good checkpoint kept in {ckpt_path}"
            )
        row = {"step": step + 1, "epoch": epoch, "d_loss": d_loss, "g_loss": g_loss,
               "wall_s": wall_offset + time.perf_counter() - start_wall}
        if on_crossbar:
            step_counts = jax.device_get(metrics["counts"])
            for name, c in step_counts.items():
                counts[name] = counts.get(name, np.zeros(2, np.int64)) + c
            for net, layers in (("g", arch.generator), ("d", arch.discriminator)):
                pot_dep = sum(step_counts[spec.name] for spec in layers)
                row[f"{net}_potentiation"], row[f"{net}_depression"] = int(pot_dep[0]), int(pot_dep[1])
        history.append(row)
        if (step + 1) % every == 0 or step + 1 == total_steps:
            save(step + 1, row["wall_s"])

    # a finished run rerun (its outputs removed by Snakemake after an input change that leaves the
    # setup as it was, e.g. a device energy): nothing to train, every output written again
    write_logs(total_steps)
    write_sample_grid(outdir / "samples.png", _sample(arch, hw, carry, latents, key),
               f"{dataset}, {variant}, step {total_steps}")
    generator_file = {"params": to_numpy(carry["params_g"]), "state": to_numpy(carry["state_g"]),
                      "config": config}
    write_pickle(outdir / "generator.pkl", generator_file)
    write_pickle(outdir / "discriminator.pkl", {"params": to_numpy(carry["params_d"]), "state": to_numpy(carry["state_d"])})


def _save_checkpoint(path: Path, state: dict) -> None:
    write_pickle(path, state)


def load_checkpoint(path: Path, fingerprint: str, total_steps: int) -> dict | None:
    """The checkpoint at ``path`` if it belongs to this run setup and lies within its ``total_steps``
    (a longer run continues from a shorter one; a shorter one starts afresh), else None."""
    if not path.exists():
        return None
    with open(path, "rb") as f:
        ckpt = pickle.load(f)
    if ckpt.get("fingerprint") != fingerprint:
        print(f"{path}: checkpoint from a different run setup, starting afresh")
        return None
    if ckpt["step"] > total_steps:
        print(f"{path}: checkpoint at step {ckpt['step']}, past this run's {total_steps} steps, starting afresh")
        return None
    return ckpt


def _counts_frame(arch: Architecture, counts: dict, steps: int, batch: int) -> pd.DataFrame:
    rows = []
    for network, layers in (("generator", arch.generator), ("discriminator", arch.discriminator)):
        for spec in layers:
            pot, dep = counts.get(spec.name, np.zeros(2, np.int64))
            rows.append({"network": network, "layer": spec.name, "potentiation": int(pot),
                         "depression": int(dep), "steps": steps, "images": steps * batch})
    return pd.DataFrame(rows)


@lru_cache(maxsize=8)
def _inference(arch: Architecture, hw: Hardware | None):
    """Jitted generator in inference mode: (params, state, z, key) -> images."""

    @jax.jit
    def run(params, state, z, key):
        return generator(arch, params, state, z, hw=hw, train=False, key=key)[0]

    return run


def _sample(arch, hw, carry, latents, key) -> np.ndarray:
    run = _inference(arch, hw)
    return np.asarray(run(carry["params_g"], carry["state_g"], latents, jax.random.fold_in(key, SAMPLE_KEY)))


# ---------------------------------------------------------------- evaluation


def load_generator(outdir: Path) -> tuple[dict, dict, dict]:
    """(params, BN state, run config) of the trained generator in ``outdir``."""
    path = Path(outdir) / "generator.pkl"
    if not path.exists():
        raise FileNotFoundError(f"{path} missing: training in {outdir} has not finished")
    with open(path, "rb") as f:
        saved = pickle.load(f)
    return saved["params"], saved["state"], saved["config"]


def training_throughput(history_csv: Path, batch_size: int) -> float:
    """Training images per second of a finished run: steps x batch over the cumulative wall time of
    its history.csv (checkpoints and sample grids included)."""
    history = pd.read_csv(history_csv)
    return float(history["step"].iloc[-1] * batch_size / history["wall_s"].iloc[-1])


def generate(source, n: int, seed: int, batch_size: int = 250) -> np.ndarray:
    """``n`` images (n, H, W, C), float32 in [-1, 1], from a run directory or the tuple
    returned by ``load_generator``; batch norm in inference mode (running statistics)."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    params, state, config = load_generator(source) if isinstance(source, (str, Path)) else source
    arch = architecture(config["dataset"], int(config["system"]["latent_dim"]))
    hw = Hardware.from_dict(config["hardware"]) if config["hardware"] else None

    run = _inference(arch, hw)
    key = jax.random.PRNGKey(seed)
    batches = []
    for i in range(-(-n // batch_size)):
        k = jax.random.fold_in(key, i)
        z = jax.random.normal(jax.random.fold_in(k, 0), (batch_size, arch.latent_dim))
        batches.append(np.asarray(run(params, state, z, jax.random.fold_in(k, 1))))
    return np.concatenate(batches)[:n]
