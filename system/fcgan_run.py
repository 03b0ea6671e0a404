"""FC-GAN runs on RRAM crossbars: training (resumable), evaluation (metrics, energy), noise-source statistics.

Files of a run directory results/fcgan/<variant>/<noise>/ (all written atomically):

- config.json: the run's FCGANConfig, its device (for in-situ variants) and the number of training images;
- checkpoint.pkl: carry, step, key and history every fcgan.checkpoint_every_steps and at the end; a killed run
  resumes from it (a checkpoint of another setup is ignored);
- history.csv: per step d_loss, g_loss, pulses (count), program_energy_J, read_energy_J (crossbar reads and
  conversions of the step), noise_energy_J (the crossbar noise source's reads and conversions), wall_s;
- samples.png: 8 x 8 generated images at the end; generator.pkl: params and converter states.

Energies in J. The training energy of a run is the sum over its steps of the history's three energies.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import pickle
import time
from pathlib import Path

import jax
import numpy as np
import pandas as pd
from tqdm import tqdm

from pipeline.io import write_csv, write_json, write_pickle
from pipeline.table_contract import read_table
from system import fcgan
from system.energy import conversion_energy_J
from system.metrics import evaluate_samples
from system.rram_noise import NoiseSource
from system.train import GRID, load_checkpoint, to_numpy, write_sample_grid

ENERGY_COLUMNS = ("program_energy_J", "read_energy_J", "noise_energy_J")
DEVICE_KEYS = ("pulse_V", "pulse_s", "read_voltage_V", "read_time_s", "temperature_C", "g_low_S", "g_high_S",
               "window_S")  # the device figures config.json records (the tables' provenance has the rest)


def load_device(tables_dir: Path) -> fcgan.RRAMDevice:
    """The RRAM device of the tables rram_read and rram_update in tables_dir."""
    read, read_sidecar = read_table(tables_dir, "rram_read")
    update, update_sidecar = read_table(tables_dir, "rram_update")
    return fcgan.RRAMDevice.from_tables(read, read_sidecar["fitted"], update, update_sidecar["fitted"])


def run_config(section: dict, energy: dict, variant: str, noise: str, seed: int) -> fcgan.FCGANConfig:
    """FCGANConfig of a run: config fcgan section, converter energies from the system.energy FOMs."""
    return fcgan.FCGANConfig.from_config(
        section, variant, noise, seed,
        dac_energy_J=conversion_energy_J(float(energy["dac_fom_J_per_conversion_step"]), int(section["dac_bits"])),
        adc_energy_J=conversion_energy_J(float(energy["adc_fom_J_per_conversion_step"]), int(section["adc_bits"])))


def noise_source(section: dict, energy: dict, dev: fcgan.RRAMDevice, seed: int) -> NoiseSource:
    """The crossbar noise source of config fcgan.noise_source (its own devices, drawn from seed)."""
    src = section["noise_source"]
    adc = conversion_energy_J(float(energy["adc_fom_J_per_conversion_step"]), int(src["adc_bits"]))
    return NoiseSource.build(dev, int(section["latent_dim"]), int(src["reads_per_sample"]),
                             int(src["calibration_reads"]), int(src["adc_bits"]), adc, seed)


def latents(cfg: fcgan.FCGANConfig, source: NoiseSource | None, key, n: int):
    """(n, latent_dim) generator inputs of the run's noise: N(0, 1), U(-1, 1) or the crossbar source."""
    if cfg.noise == "gaussian":
        return jax.random.normal(key, (n, cfg.latent_dim))
    if cfg.noise == "uniform":
        return jax.random.uniform(key, (n, cfg.latent_dim), minval=-1.0, maxval=1.0)
    return source.sample(key, n)


def _noise_energy_J(cfg: fcgan.FCGANConfig, source: NoiseSource | None, n: int) -> float:
    return n * cfg.latent_dim * source.energy_per_value_J() if cfg.noise == "crossbar" else 0.0


def train(cfg: fcgan.FCGANConfig, images: np.ndarray, dev: fcgan.RRAMDevice | None, source: NoiseSource | None,
          outdir: Path, checkpoint_every: int) -> None:
    """Train one run on uint8 images (N, 28, 28) and write the run directory (module docstring)."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    images = np.asarray(images).reshape(len(images), -1).astype(np.float32) / 127.5 - 1.0
    steps_per_epoch = len(images) // cfg.batch_size
    if steps_per_epoch == 0:
        raise ValueError(f"{len(images)} training images are fewer than one batch of {cfg.batch_size}")
    total = cfg.epochs * steps_per_epoch
    config = {"run": dataclasses.asdict(cfg), "n_images": len(images),
              "device": _device_dict(dev) if cfg.in_situ else None}
    fingerprint = hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()
    write_json(outdir / "config.json", config)
    key = jax.random.PRNGKey(cfg.seed)
    ckpt_path = outdir / "checkpoint.pkl"
    ckpt = load_checkpoint(ckpt_path, fingerprint, total)
    if ckpt is None:
        ckpt = {"fingerprint": fingerprint, "step": 0, "history": [], "wall_s": 0.0,
                "carry": to_numpy(fcgan.init(cfg, key, dev if cfg.in_situ else None))}
    carry, history = ckpt["carry"], ckpt["history"]
    step_fn = fcgan.make_train_step(cfg, dev if cfg.in_situ else None)
    noise_per_step = _noise_energy_J(cfg, source, cfg.batch_size)
    start, offset = time.perf_counter(), ckpt["wall_s"]

    def save(step: int) -> None:
        write_pickle(ckpt_path, {"fingerprint": fingerprint, "step": step, "history": history,
                                 "wall_s": history[-1]["wall_s"] if history else 0.0, "carry": to_numpy(carry)})
        write_csv(outdir / "history.csv", pd.DataFrame(history))

    order = None
    bar = tqdm(range(ckpt["step"], total), initial=ckpt["step"], total=total, desc=f"{cfg.variant}/{cfg.noise}",
               unit="step", mininterval=5.0)
    for step in bar:
        epoch, index = divmod(step, steps_per_epoch)
        if order is None or index == 0:
            order = np.random.default_rng([cfg.seed, epoch]).permutation(len(images))
        real = images[order[index * cfg.batch_size:(index + 1) * cfg.batch_size]]
        k = jax.random.fold_in(key, step)
        z = latents(cfg, source, jax.random.fold_in(k, 1), cfg.batch_size)
        carry, metrics = step_fn(carry, real, z, jax.random.fold_in(k, 2))
        m = {name: float(value) for name, value in jax.device_get(metrics).items()}
        if not (np.isfinite(m["d_loss"]) and np.isfinite(m["g_loss"])):
            raise FloatingPointError(f"loss not finite at step {step + 1} ({m}); last good checkpoint kept in "
                                     f"{ckpt_path}")
        history.append({"step": step + 1, "epoch": epoch, "d_loss": m["d_loss"], "g_loss": m["g_loss"],
                        "pulses": int(m["pulses"]), "program_energy_J": m["program_energy_J"],
                        "read_energy_J": m["read_energy_J"], "noise_energy_J": noise_per_step,
                        "wall_s": offset + time.perf_counter() - start})
        if (step + 1) % checkpoint_every == 0:
            save(step + 1)
    save(total)  # also when a finished run is rerun: every output written again
    fake, _ = generate(cfg, dev, source, carry["params_g"], carry["state_g"], GRID * GRID, cfg.seed + 1)
    write_sample_grid(outdir / "samples.png", fake.reshape(-1, 28, 28, 1),
                      f"fcgan {cfg.variant}/{cfg.noise}, step {total}")
    write_pickle(outdir / "generator.pkl", {"params": to_numpy(carry["params_g"]),
                                            "state": to_numpy(carry["state_g"])})


def _device_dict(dev: fcgan.RRAMDevice) -> dict:
    return {name: getattr(dev, name) for name in DEVICE_KEYS}


def generate(cfg, dev, source, params, states, n: int, seed: int, batch: int = 500):
    """(images (n, 784) in [-1, 1] as numpy, energy (J) of their crossbar reads and conversions)."""
    run = fcgan.make_generate(cfg, dev if cfg.in_situ else None)
    key = jax.random.PRNGKey(seed)
    out, energy = [], 0.0
    for i in range(-(-n // batch)):
        k = jax.random.fold_in(key, i)
        images, e = run(params, states, latents(cfg, source, jax.random.fold_in(k, 0), batch),
                        jax.random.fold_in(k, 1))
        out.append(np.asarray(images))
        energy += float(e)
    return np.concatenate(out)[:n], energy * n / (batch * len(out))


def evaluate(cfg, dev, source, outdir: Path, real_images: np.ndarray, feature_fn, n_samples: int) -> dict:
    """Classifier FD and KID of n_samples generated images against as many test images; energy per generated
    image (reads, conversions and the crossbar noise) and training energy per training image and in total."""
    with open(Path(outdir) / "generator.pkl", "rb") as f:
        saved = pickle.load(f)
    fake, read_energy = generate(cfg, dev, source, saved["params"], saved["state"], n_samples, cfg.seed + 3)
    real = np.asarray(real_images[:n_samples]).astype(np.float32) / 127.5 - 1.0
    scores = evaluate_samples(real.reshape(-1, 28, 28, 1), fake.reshape(-1, 28, 28, 1), {"classifier": feature_fn},
                              seed=cfg.seed)["classifier"]
    history = pd.read_csv(Path(outdir) / "history.csv")
    config = json.loads((Path(outdir) / "config.json").read_text())
    train_images = len(history) * cfg.batch_size
    totals = {c: float(history[c].sum()) for c in ENERGY_COLUMNS}
    return {
        "variant": cfg.variant, "noise": cfg.noise, "n_samples": n_samples,
        "classifier_fd": scores["frechet_distance"], "kid": scores["kid_mean"], "kid_std": scores["kid_std"],
        "generation_energy_J_per_image": (read_energy + _noise_energy_J(cfg, source, n_samples)) / n_samples,
        "training_energy_J": sum(totals.values()), **{f"training_{c}": v for c, v in totals.items()},
        "training_energy_J_per_image": sum(totals.values()) / train_images,
        "pulses": int(history["pulses"].sum()), "steps": len(history), "train_images_seen": train_images,
        "n_train_images": config["n_images"], "train_wall_s": float(history["wall_s"].iloc[-1]),
    }


# ---------------------------------------------------------------- summary

SUMMARY_COLUMNS = ["variant", "noise", "n_samples", "classifier_fd", "fd_ratio_to_float", "kid", "kid_std",
                   "generation_energy_J_per_image", "training_energy_J_per_image", "training_program_energy_J",
                   "training_read_energy_J", "training_noise_energy_J", "training_energy_J", "pulses", "steps",
                   "train_images_seen", "train_wall_s"]


def build_summary(metrics_files: list[Path]) -> pd.DataFrame:
    """One row per run; fd_ratio_to_float is the run's classifier FD over the float run's (NaN without one)."""
    frame = pd.DataFrame([json.loads(Path(p).read_text()) for p in metrics_files])
    float_fd = frame.loc[frame["variant"] == "float", "classifier_fd"]
    frame["fd_ratio_to_float"] = frame["classifier_fd"] / float_fd.iloc[0] if len(float_fd) else np.nan
    return frame[SUMMARY_COLUMNS]


def plot_quality_energy(summary: pd.DataFrame, path: Path) -> None:
    """Classifier FD against training energy per training image, one marker per run; the float run's FD as a
    line with its +-20 % band."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pipeline.io import save_figure

    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    markers = {"gaussian": "o", "uniform": "s", "crossbar": "^"}
    for _, row in summary[summary["variant"] != "float"].iterrows():
        ax.scatter(row["training_energy_J_per_image"], row["classifier_fd"], marker=markers[row["noise"]], s=60,
                   label=f"{row['variant']}/{row['noise']}")
    for _, row in summary[summary["variant"] == "float"].iterrows():
        ax.axhline(row["classifier_fd"], color="k", ls="--", label=f"float/{row['noise']} (no device energy)")
        ax.axhspan(0.8 * row["classifier_fd"], 1.2 * row["classifier_fd"], color="k", alpha=0.08, label="float +-20 %")
    ax.set_xscale("log")
    ax.set_xlabel("training energy per training image (J)")
    ax.set_ylabel("classifier Frechet distance (lower is better)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(path, fig)


def plot_training_curves(history_files: list[Path], path: Path, smooth: int = 50) -> None:
    """d_loss and g_loss against step, a running mean over `smooth` steps, one line per run."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pipeline.io import save_figure

    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharex=True)
    for p in history_files:
        history = pd.read_csv(p)
        label = f"{Path(p).parent.parent.name}/{Path(p).parent.name}"
        for ax, column in zip(axes, ("d_loss", "g_loss")):
            ax.plot(history["step"], history[column].rolling(smooth, min_periods=1).mean(), label=label)
    for ax, column in zip(axes, ("discriminator loss", "generator loss")):
        ax.set_xlabel("step")
        ax.set_ylabel(column)
        ax.set_yscale("log")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    save_figure(path, fig)
