"""The headline table: per dataset and variant, image quality and energy per image beside the reference work.

Reference numbers (hybrid CMOS-spintronic DCGAN, DESIGN.md section 1): FID 27.5 on Fashion-MNIST and 45.4
on Anime Face; testing (training) energy 4.9 nJ (14.97 nJ) per image on Fashion-MNIST and 24.72 nJ
(74.7 nJ) per image on Anime Face.
"""

import json
from pathlib import Path

import matplotlib
import pandas as pd

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

REFERENCE = {  # dataset -> (FID, test energy J/image, training energy J/image)
    "fashion_mnist": (27.5, 4.9e-9, 14.97e-9),
    "anime_faces": (45.4, 24.72e-9, 74.7e-9),
}
COLUMNS = ["dataset", "variant", "n_samples", "fid", "reference_fid", "classifier_fd", "kid",
           "test_energy_nJ_per_image", "reference_test_energy_nJ", "train_energy_nJ_per_image",
           "reference_train_energy_nJ"]


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
