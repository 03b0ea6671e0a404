"""The headline table: per dataset and variant, image quality and energy per image beside the reference work;
and the energy breakdown of the hardware runs by component, with each component's share of its total.

Reference numbers (hybrid CMOS-spintronic DCGAN, DESIGN.md section 1): FID 27.5 on Fashion-MNIST and 45.4
on Anime Face; testing (training) energy 4.9 nJ (14.97 nJ) per image on Fashion-MNIST and 24.72 nJ
(74.7 nJ) per image on Anime Face.
"""

import json
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

REFERENCE = {  # dataset -> (FID, test energy J/image, training energy J/image)
    "fashion_mnist": (27.5, 4.9e-9, 14.97e-9),
    "anime_faces": (45.4, 24.72e-9, 74.7e-9),
}
COLUMNS = ["dataset", "variant", "n_samples", "fid", "reference_fid", "classifier_fd", "kid",
           "test_energy_nJ_per_image", "reference_test_energy_nJ", "train_energy_nJ_per_image",
           "reference_train_energy_nJ", "train_images_per_s", "generation_images_per_s"]


def build_summary(metrics_files: list[Path]) -> pd.DataFrame:
    """One row per metrics.json (written by the evaluate rule), with the reference numbers beside it."""
    rows = []
    for path in metrics_files:
        m = json.loads(Path(path).read_text())
        fid, test_ref, train_ref = REFERENCE[m["dataset"]]
        rows.append({
            "dataset": m["dataset"], "variant": m["variant"], "n_samples": m["n_samples"],
            "fid": m.get("fid"), "reference_fid": fid,
            "classifier_fd": m.get("classifier_fd"), "kid": m.get("classifier_kid"),
            "test_energy_nJ_per_image": _nano(m.get("test_energy_J_per_image")),
            "reference_test_energy_nJ": test_ref * 1e9,
            "train_energy_nJ_per_image": _nano(m.get("train_energy_J_per_image")),
            "reference_train_energy_nJ": train_ref * 1e9,
            "train_images_per_s": m.get("train_images_per_s"),
            "generation_images_per_s": m.get("generation_images_per_s"),
        })
    return pd.DataFrame(rows, columns=COLUMNS)


def _nano(joules):
    return None if joules is None else joules * 1e9


def plot_summary(summary: pd.DataFrame, path: Path) -> None:
    """Bar charts: classifier Frechet distance per variant, and energy per image beside the reference."""
    fig, (quality, energy) = plt.subplots(1, 2, figsize=(10, 4))
    labels = summary["dataset"] + "\n" + summary["variant"]
    quality.bar(labels, summary["classifier_fd"].astype(float), color="tab:blue")
    quality.set_ylabel("classifier Frechet distance (lower is better)")
    quality.set_title("image quality")
    x = range(len(summary))
    energy.bar([i - 0.2 for i in x], summary["test_energy_nJ_per_image"].astype(float), 0.4, label="test (this run)")
    energy.bar([i + 0.2 for i in x], summary["train_energy_nJ_per_image"].astype(float), 0.4, label="training (this run)")
    energy.scatter([i - 0.2 for i in x], summary["reference_test_energy_nJ"], marker="_", s=400, c="k", label="reference")
    energy.scatter([i + 0.2 for i in x], summary["reference_train_energy_nJ"], marker="_", s=400, c="k")
    energy.set_xticks(list(x), labels)
    energy.set_yscale("log")
    energy.set_ylabel("energy per image (nJ)")
    energy.set_title("energy (hardware variant)")
    energy.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_training_curves(history_files: list[Path], path: Path, smooth_steps: int = 50):
    """Per dataset (a row each): discriminator and generator loss against the step (running mean over
    ``smooth_steps``, raw values faint) and the classifier FD of the checkpoints, one line per variant.
    history_files: results/system/{dataset}/{variant}/history.csv of the train rule; returns the figure."""
    runs = {}
    for file in map(Path, history_files):
        runs.setdefault(file.parent.parent.name, {})[file.parent.name] = pd.read_csv(file)
    fig, axes = plt.subplots(len(runs), 3, figsize=(14, 3.6 * len(runs)), squeeze=False)
    for row, (dataset, variants) in zip(axes, runs.items()):
        for i, (variant, history) in enumerate(variants.items()):
            colour = f"C{i}"
            for ax, loss in zip(row[:2], ("d_loss", "g_loss")):
                ax.plot(history["step"], history[loss], color=colour, alpha=0.15, lw=0.5)
                ax.plot(history["step"], history[loss].rolling(smooth_steps, min_periods=1).mean(), color=colour,
                        label=variant)
            if "classifier_fd" in history:
                scored = history.dropna(subset=["classifier_fd"])
                row[2].plot(scored["step"], scored["classifier_fd"], "o-", color=colour, label=variant)
        for ax, title in zip(row, ("discriminator loss", "generator loss", "classifier FD at checkpoints")):
            ax.set(xlabel="step", title=f"{dataset}: {title}")
            ax.legend(fontsize=8)
        row[2].set_ylabel("Frechet distance (lower is better)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return fig


BREAKDOWN_COLUMNS = ["dataset", "phase", "component", "count", "energy_nJ_per_image", "share", "sources"]


def energy_by_component(energy_files: dict[str, Path]) -> pd.DataFrame:
    """Per dataset (hardware run) and phase: energy per image of each component summed over layers and
    passes (nJ), its share of the phase total, and the table or config keys its per-op energies came from.
    Rows sorted by energy within each phase, largest first; datasets without device energy are skipped."""
    frames = []
    for dataset, path in energy_files.items():
        rows = pd.read_csv(path)
        if rows.empty:
            continue
        grouped = rows.groupby(["phase", "component"])
        table = pd.DataFrame({"count": grouped["count"].sum(),
                              "energy_nJ_per_image": grouped["energy_J"].sum() * 1e9,
                              "sources": grouped["source"].agg(lambda s: "; ".join(sorted(set(s))))}).reset_index()
        table["share"] = table["energy_nJ_per_image"] / table.groupby("phase")["energy_nJ_per_image"].transform("sum")
        frames.append(table.assign(dataset=dataset))
    if not frames:
        return pd.DataFrame(columns=BREAKDOWN_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["dataset", "phase", "energy_nJ_per_image"], ascending=[True, True, False])[
        BREAKDOWN_COLUMNS].reset_index(drop=True)


def plot_energy_breakdown(energy_files: dict[str, Path], path: Path):
    """Stacked bars per layer (nJ per image) by component, one panel per dataset and phase; returns the figure."""
    panels = [(dataset, phase, frame) for dataset, file in energy_files.items()
              for phase, frame in pd.read_csv(file).groupby("phase")]
    fig, axes = plt.subplots(1, max(1, len(panels)), figsize=(6 * max(1, len(panels)), 4.5), squeeze=False)
    for ax, (dataset, phase, frame) in zip(axes[0], panels):
        frame = frame.assign(where=frame["network"].str[0].str.upper() + ":" + frame["layer"])
        table = frame.pivot_table(index="where", columns="component", values="energy_J", aggfunc="sum",
                                  sort=False).fillna(0.0)  # a layer without a component: no energy from it
        table = table.loc[:, (table > 0).any()] * 1e9
        left = np.zeros(len(table))
        for component in table.columns:
            ax.barh(table.index, table[component], left=left, label=component)
            left += table[component].to_numpy()
        ax.invert_yaxis()
        ax.set(xlabel="energy per image (nJ)", title=f"{dataset}, {phase}: {left.sum():.3g} nJ/image")
        ax.legend(fontsize=7)
    if not panels:
        axes[0][0].text(0.5, 0.5, "no hardware run", ha="center")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return fig
