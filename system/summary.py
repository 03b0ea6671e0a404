"""The headline table: per system (the skyrmion/DW DCGAN, the RRAM FC-GAN, the VCMA MTJ DDPM), dataset and variant,
image quality and
energy per image (two totals: array and devices, the reference's scope, and with the DAC and ADC periphery) beside
the reference work;
its RST form for the front page of the report; and the energy breakdown of the hardware runs by component,
with each component's share of its total.

Reference numbers (the published hybrid CMOS-spintronic DCGAN): FID 27.5 on Fashion-MNIST and 45.4 on Anime
Face; testing (training) energy 4.9 nJ (14.97 nJ) per image on Fashion-MNIST and 24.72 nJ (74.7 nJ) per
image on Anime Face.
"""

import json
import math
import re
import textwrap
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
TOTALS = ("array_and_devices", "with_periphery")  # the two energy totals (system.energy.totals)
COLUMNS = ["system", "dataset", "variant", "n_samples", "fid", "reference_fid", "fid_missing_reason", "classifier_fd",
           "classifier_kid", "classifier_kid_std",
           "test_energy_array_and_devices_nJ_per_image", "test_energy_with_periphery_nJ_per_image",
           "reference_test_energy_nJ_per_image",
           "train_energy_array_and_devices_nJ_per_image", "train_energy_with_periphery_nJ_per_image",
           "reference_train_energy_nJ_per_image", "test_array_cycles_per_image", "train_images_per_s",
           "generation_images_per_s", "noise_energy_nJ_per_image"]
TITLES = {  # the report table of a system without reference numbers
    "rram_fcgan": "RRAM FC-GAN, {dataset} (3 significant figures; energies with the DAC and ADC conversions, "
                  "results/fcgan/summary.csv splits them by component)",
    "vcma_ddpm": "VCMA MTJ DDPM, {dataset} (3 significant figures; energy: the MTJ noise per generated image only, "
                 "the network is not on hardware; results/ddpm/summary.csv)",
}


def non_idealities_by_run(metrics_files: list[Path]) -> dict:
    """{"<dataset>/<variant>": the crossbar's non-idealities with their sources} of each DCGAN run on the crossbar
    (metrics.json key non_idealities, written by the evaluate rule)."""
    out = {}
    for path in metrics_files:
        m = json.loads(Path(path).read_text())
        if m.get("non_idealities"):
            out[f"{m['dataset']}/{m['variant']}"] = m["non_idealities"]
    return {"non_idealities": out}


def build_summary(metrics_files: list[Path], fcgan: pd.DataFrame | None = None,
                  ddpm: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per metrics.json (written by the evaluate rule), with the reference numbers beside it (system
    dcgan), then the rows of the RRAM FC-GAN runs (fcgan_rows) and of the DDPM runs (ddpm_rows) where their
    tables are given."""
    rows = []
    for path in metrics_files:
        m = json.loads(Path(path).read_text())
        fid, test_ref, train_ref = REFERENCE[m["dataset"]]
        rows.append({
            "system": "dcgan", "dataset": m["dataset"], "variant": m["variant"], "n_samples": m["n_samples"],
            "fid": m.get("fid"), "reference_fid": fid, "fid_missing_reason": m.get("fid_skipped_because"),
            "classifier_fd": m.get("classifier_fd"), "classifier_kid": m.get("classifier_kid"),
            "classifier_kid_std": m.get("classifier_kid_std"),
            **{f"{phase}_energy_{total}_nJ_per_image": _nano(m.get(f"{phase}_energy_{total}_J_per_image"))
               for phase in ("test", "train") for total in TOTALS},
            "reference_test_energy_nJ_per_image": test_ref * 1e9,
            "reference_train_energy_nJ_per_image": train_ref * 1e9,
            "test_array_cycles_per_image": m.get("test_array_cycles_per_image"),
            "train_images_per_s": m.get("train_images_per_s"),
            "generation_images_per_s": m.get("generation_images_per_s"),
        })
    if fcgan is not None:
        rows += fcgan_rows(fcgan)
    if ddpm is not None:
        rows += ddpm_rows(ddpm)
    return pd.DataFrame(rows, columns=COLUMNS)


def fcgan_rows(fcgan: pd.DataFrame) -> list[dict]:
    """Rows (system rram_fcgan, Fashion-MNIST, variant "variant/noise") from results/fcgan/summary.csv
    (system.fcgan_run.build_summary). Their energies include the DAC and ADC conversions (no array-only split);
    the float run has no device energy; no published numbers are set beside them (their columns stay empty)."""
    rows = []
    for _, run in fcgan.iterrows():
        device = run["variant"] != "float"
        rows.append({
            "system": "rram_fcgan", "dataset": "fashion_mnist", "variant": f"{run['variant']}/{run['noise']}",
            "n_samples": run["n_samples"], "classifier_fd": run["classifier_fd"], "classifier_kid": run["kid"],
            "classifier_kid_std": run["kid_std"],
            "test_energy_with_periphery_nJ_per_image": _nano(run["generation_energy_J_per_image"]) if device else None,
            "train_energy_with_periphery_nJ_per_image": _nano(run["training_energy_J_per_image"]) if device else None,
            "train_images_per_s": run["train_images_seen"] / run["train_wall_s"],
        })
    return rows


def ddpm_rows(ddpm: pd.DataFrame) -> list[dict]:
    """Rows (system vcma_ddpm, Fashion-MNIST, variant = the noise) from results/ddpm/summary.csv
    (system.ddpm_run.build_summary): quality and the MTJ noise's energy per generated image (0 for software noise);
    the network itself has no energy model here."""
    return [{"system": "vcma_ddpm", "dataset": "fashion_mnist", "variant": run["noise"], "n_samples": run["n_samples"],
             "classifier_fd": run["classifier_fd"], "classifier_kid": run["kid"], "classifier_kid_std": run["kid_std"],
             "noise_energy_nJ_per_image": _nano(run["noise_energy_J_per_image"]),
             "train_images_per_s": run["train_images_seen"] / run["train_wall_s"],
             "generation_images_per_s": run["n_samples"] / run["sample_wall_s"]} for _, run in ddpm.iterrows()]


def _nano(joules):
    return None if joules is None else joules * 1e9


def sig3(value) -> str:
    """A number with 3 significant figures, positional from 0.001 to 99 999 (697, 1790, 0.0460), else
    scientific (1.00e-06); empty for a missing value."""
    if value is None or not np.isfinite(value):
        return ""
    if value == 0:
        return "0"
    rounded = float(f"{value:.2e}")
    exponent = math.floor(math.log10(abs(rounded)))
    if -3 <= exponent <= 4:
        return f"{rounded:.{max(0, 2 - exponent)}f}"
    return f"{value:.2e}"


def fid_missing(summary: pd.DataFrame) -> list[str]:
    """The distinct reasons why FID is missing, in row order (none when every run has its FID)."""
    reasons = summary.loc[summary["fid"].isna(), "fid_missing_reason"].dropna()
    return list(dict.fromkeys(reasons))


def _rst_text(text: str) -> str:
    """Plain text with the RST markup characters escaped."""
    return re.sub(r"([\\`*_|\[\]<>])", r"\\\1", text)


def summary_rst(summary: pd.DataFrame) -> str:
    """The summary as RST, one table per system and dataset (a column per variant beside the reference where
    there is one, units in the first column), and why FID is missing where it is: the front page of the report
    (workflow.rst includes it)."""
    quantities = [("FID", "fid", "reference_fid"), ("classifier FD", "classifier_fd", None),
                  ("classifier KID (mean +/- std)", "classifier_kid", None),
                  ("test energy, array and devices (nJ/image)", "test_energy_array_and_devices_nJ_per_image",
                   "reference_test_energy_nJ_per_image"),
                  ("test energy with DAC and ADC (nJ/image)", "test_energy_with_periphery_nJ_per_image", None),
                  ("training energy, array and devices (nJ/image)", "train_energy_array_and_devices_nJ_per_image",
                   "reference_train_energy_nJ_per_image"),
                  ("training energy with DAC and ADC (nJ/image)", "train_energy_with_periphery_nJ_per_image", None),
                  ("array cycles per generated image", "test_array_cycles_per_image", None),
                  ("training throughput (images/s)", "train_images_per_s", None),
                  ("noise energy (nJ/image)", "noise_energy_nJ_per_image", None)]
    lines = []
    for (system, dataset), runs in summary.groupby(["system", "dataset"], sort=False):
        referenced = runs["reference_fid"].notna().any()
        title = (f"{_rst_text(dataset)}: this run (3 significant figures) beside the reference (as published)"
                 if referenced else TITLES[system].format(dataset=_rst_text(dataset)))
        lines += [f".. list-table:: {title}; n/a: not measured", "   :header-rows: 1", "",
                  "   * - quantity", *(f"     - {_rst_text(v)}" for v in runs["variant"]),
                  *(["     - reference"] if referenced else [])]
        for name, column, reference in quantities:
            cells = [sig3(v) or "n/a" for v in runs[column].astype(float)]
            if column == "classifier_kid":
                cells = [f"{c} +/- {sig3(std)}" if c != "n/a" else c for c, std in zip(cells, runs["classifier_kid_std"])]
            if referenced:
                cells.append(f"{runs[reference].iloc[0]:g}" if reference else "")
            lines += [f"   * - {name}", *(f"     - {c}" for c in cells)]
        lines.append("")
    for reason in fid_missing(summary):
        lines += [f"FID is empty: {_rst_text(reason)}", ""]
    no_energy = summary.loc[summary["test_energy_with_periphery_nJ_per_image"].isna(), "variant"]
    if len(no_energy):
        lines += [f"No energy for {', '.join(dict.fromkeys(no_energy))}: the device energy model is computed for "
                  "the device variants only.", ""]
    return "\n".join(lines)


def plot_summary(summary: pd.DataFrame, path: Path):
    """Bar charts of the DCGAN runs (the RRAM FC-GAN has its own, results/fcgan/quality_energy.png): classifier
    Frechet distance per run (FID beside its reference where computed, else why not), and energy per image
    with the reference marked on each bar; returns the figure."""
    summary = summary[summary["system"] == "dcgan"].reset_index(drop=True)
    fig, (quality, energy) = plt.subplots(1, 2, figsize=(12, 5))
    labels = summary["dataset"] + "\n" + summary["variant"]
    x = np.arange(len(summary))
    fid = summary["fid"].astype(float).to_numpy()
    has_fid = np.isfinite(fid)
    quality.bar(x - 0.2 * has_fid.any(), summary["classifier_fd"].astype(float), 0.4, color="tab:blue",
                label="classifier FD")
    if has_fid.any():
        quality.bar(x[has_fid] + 0.2, fid[has_fid], 0.4, color="tab:orange", label="FID (this run)")
        quality.scatter(x[has_fid] + 0.2, summary["reference_fid"][has_fid], marker="_", s=400, c="k",
                        label="reference FID")
    reasons = fid_missing(summary)
    if reasons:  # above the bars, in headroom made for it
        quality.set_ylim(top=1.6 * np.nanmax([*summary["classifier_fd"].astype(float), *fid[has_fid], 1e-9]))
        quality.text(0.02, 0.98, textwrap.fill("FID missing: " + " / ".join(reasons), 70), transform=quality.transAxes,
                     va="top", fontsize=7, bbox={"facecolor": "white", "alpha": 0.85})
    quality.set_xticks(x, labels)
    quality.set_ylabel("Frechet distance (lower is better)")
    quality.set_title("image quality")
    quality.legend(fontsize=8, loc="lower right")
    bars = [(-0.3, "test", "array_and_devices", "test, array and devices"), (-0.1, "test", "with_periphery",
             "test, with DAC and ADC"), (0.1, "train", "array_and_devices", "training, array and devices"),
            (0.3, "train", "with_periphery", "training, with DAC and ADC")]
    for offset, phase, total, label in bars:
        ours = summary[f"{phase}_energy_{total}_nJ_per_image"].astype(float).to_numpy()
        bar = np.isfinite(ours)
        energy.bar(x[bar] + offset, ours[bar], 0.2, label=label)
        if total == "array_and_devices":  # the reference's scope
            energy.scatter(x[bar] + offset, summary[f"reference_{phase}_energy_nJ_per_image"][bar], marker="_", s=200,
                           c="k", label="reference" if phase == "test" else None)
    no_energy = summary["variant"][~np.isfinite(summary["test_energy_with_periphery_nJ_per_image"].astype(float))]
    if len(no_energy):
        energy.text(0.02, 0.98, f"no energy model: {', '.join(dict.fromkeys(no_energy))}", transform=energy.transAxes,
                    va="top", fontsize=8)
    energy.set_xticks(x, labels)
    energy.set_yscale("log")
    energy.set_ylabel("energy per image (nJ)")
    energy.set_title("energy per image")
    energy.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return fig


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


BREAKDOWN_COLUMNS = ["dataset", "phase", "group", "component", "count", "energy_nJ_per_image", "share", "sources"]


def energy_by_component(energy_files: dict[str, Path]) -> pd.DataFrame:
    """Per dataset (hardware run) and phase: energy per image of each component summed over layers and
    passes (nJ), its group (array_and_devices, periphery, cmos_unmodelled), its share of the phase total
    with periphery, and the table or config keys its per-op energies came from.
    Rows sorted by energy within each phase, largest first; datasets without device energy are skipped."""
    frames = []
    for dataset, path in energy_files.items():
        rows = pd.read_csv(path)
        if rows.empty:
            continue
        grouped = rows.groupby(["phase", "group", "component"])
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
    """Bars per layer (nJ per image, log axis) side by side by component, one panel per dataset and phase,
    titled with the phase's two totals (array and devices; with DAC and ADC); returns the figure."""
    panels = [(dataset, phase, frame) for dataset, file in energy_files.items()
              for phase, frame in pd.read_csv(file).groupby("phase")]
    fig, axes = plt.subplots(1, max(1, len(panels)), figsize=(7 * max(1, len(panels)), 6), squeeze=False)
    for ax, (dataset, phase, frame) in zip(axes[0], panels):
        frame = frame.assign(where=frame["network"].str[0].str.upper() + ":" + frame["layer"])
        table = frame.pivot_table(index="where", columns="component", values="energy_J", aggfunc="sum",
                                  sort=False).fillna(0.0)  # a layer without a component: no energy from it
        table = table.loc[:, (table > 0).any()] * 1e9
        height = 0.8 / max(1, len(table.columns))
        y = np.arange(len(table))
        for i, component in enumerate(table.columns):
            ax.barh(y + (i - (len(table.columns) - 1) / 2) * height, table[component].where(table[component] > 0),
                    height, label=component)
        ax.set_yticks(y, table.index)
        ax.invert_yaxis()
        ax.set_xscale("log")
        array = frame.loc[frame["group"] == "array_and_devices", "energy_J"].sum() * 1e9
        ax.set(xlabel="energy per image (nJ, log scale)", ylabel="layer (G: generator, D: discriminator)",
               title=f"{dataset}, {phase}: {sig3(array)} nJ/image array and devices,\n"
                     f"{sig3(table.to_numpy().sum())} with DAC and ADC")
    legend = {h.get_label(): h for ax in axes[0] for h in ax.get_legend_handles_labels()[0]}
    if legend:
        fig.legend(legend.values(), legend.keys(), loc="lower center", ncol=len(legend), fontsize=8)
    if not panels:
        axes[0][0].text(0.5, 0.5, "no hardware run", ha="center")
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return fig
