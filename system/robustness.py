"""How much of each non-ideality the trained hardware generator tolerates (the robustness study).

A point scales one non-ideality of the trained hardware DCGAN at generation time, the others as trained:
`variation_xS` sets the device-to-device variation to S times the synapse table's spread
(system.crossbar.variation_scale = S), `adc_B` sets the
column ADC to B bits, `thermal_on` / `thermal_off` switches the states' thermal noise, `read_time_xF` reads for F
times crossbar.read_time_s (the read noise's variance scales with 1 / F), and `noiseless` turns off every
non-ideality but the IR drop the weights were trained under (no variation, read or thermal noise, ideal DAC and
ADC): what the trained weights give without them, the floor the other points rise from. Each point generates
`n_samples` images and scores them with the classifier's Frechet distance and KID against as many test images;
the summary divides each FD by the float baseline's and names, per kind, the first point (in the order of growing
harm: larger variation, fewer bits, shorter reads) where the FD is more than 10 % above the float run's.

The sample spread pairs the trained hardware and float generators over several sample seeds (the same latents and
KID subsets for both at each seed): one evaluation's KID moves with the seed by more than the 10 % margin (its
subset choice alone by 6-11 % on the full profile), the per-seed ratio much less. The training spread scores more
trainings of both (other training seeds) the same way: two float trainings of the same code differ by more in KID
than the margin (13 % on the full profile), so the KID of one training per variant cannot decide it.
"""
from __future__ import annotations

import copy
import re

import numpy as np
import pandas as pd

from system import train
from system.metrics import evaluate_samples

POINT = re.compile(r"^(variation_x(?P<scale>\d+(\.\d+)?)|adc_(?P<bits>\d+)|thermal_(?P<thermal>on|off)"
                   r"|read_time_x(?P<read>\d+(\.\d+)?(e-?\d+)?)|(?P<noiseless>noiseless))$")
WILDCARD = re.sub(r"\?P<\w+>", "", POINT.pattern)[1:-1]  # the point names without anchors or group names (the
# robustness_point rule's wildcard constraint)
QUALITY_MARGIN = 0.10  # "falls 10 % behind float": FD above 1.1 x the float run's


def points(section: dict) -> list[str]:
    """The study's points from the config section `robustness`: variation scales, ADC bits, thermal on/off, read
    time scales, noiseless."""
    return ([f"variation_x{s:g}" for s in section["variation_scales"]] + [f"adc_{b}" for b in section["adc_bits"]]
            + ["thermal_on", "thermal_off"] * bool(section["thermal"])
            + [f"read_time_x{f:g}" for f in section["read_time_scales"]] + ["noiseless"] * bool(section["noiseless"]))


def parse(point: str) -> tuple[str, float]:
    """(kind, value) of a point name: ("variation", S), ("adc", B), ("thermal", 1 / 0), ("read", F) or
    ("noiseless", 0)."""
    match = POINT.match(point)
    if not match:
        raise ValueError(f"robustness point {point!r}: expected variation_x<scale>, adc_<bits>, thermal_on|off, "
                         "read_time_x<scale> or noiseless")
    if match["noiseless"] is not None:
        return "noiseless", 0.0
    if match["read"] is not None:
        return "read", float(match["read"])
    if match["scale"] is not None:
        return "variation", float(match["scale"])
    if match["bits"] is not None:
        return "adc", float(match["bits"])
    return "thermal", float(match["thermal"] == "on")


def apply(hardware: dict, point: str) -> dict:
    """The trained run's hardware (Hardware.to_dict) with the point's non-ideality changed."""
    kind, value = parse(point)
    out = copy.deepcopy(hardware)
    crossbar = out["crossbar"]
    if kind == "variation":
        if value and len(crossbar.get("level_spread", ())) == 0:
            raise ValueError(f"{point}: the trained run has no level spreads (synapse_levels.conductance_std_S)")
        crossbar["variation_scale"] = value
    elif kind == "adc":
        crossbar["adc_bits"] = int(value)
    elif kind == "noiseless":
        crossbar.update(variation_scale=0.0, read_noise=False, thermal_noise=False, dac_bits=0, adc_bits=0)
    elif kind == "read":
        if not (crossbar["read_noise"] and value > 0):
            raise ValueError(f"{point}: needs a positive scale and a run trained with system.crossbar.read_noise true")
        crossbar["read_time_s"] = crossbar["read_time_s"] * value
    else:
        if value and len(crossbar.get("level_thermal_std", ())) == 0:
            raise ValueError(f"{point}: the trained run has no thermal table (train with system.crossbar."
                             "thermal_noise true)")
        crossbar["thermal_noise"] = bool(value)
    return out


def evaluate_run(run_dir, real: np.ndarray, feature_fn, n_samples: int, seed: int, point: str | None = None) -> dict:
    """Classifier FD and KID of n_samples images of the trained generator in run_dir (a hardware run at the
    robustness point, if given) against as many of the real images; generation and KID subsets from `seed`."""
    params, state, config = train.load_generator(run_dir)
    if point is not None:
        if not config["hardware"]:
            raise ValueError(f"{run_dir}: the robustness study needs a hardware run")
        config = {**config, "hardware": apply(config["hardware"], point)}
    fake = train.generate((params, state, config), n_samples, seed=seed)
    scores = evaluate_samples(real[:n_samples], fake, {"classifier": feature_fn},
                              subset_size=min(1000, n_samples // 2), seed=seed)["classifier"]
    return {"n_samples": n_samples, "classifier_fd": scores["frechet_distance"], "kid": scores["kid_mean"],
            "kid_std": scores["kid_std"]}


def evaluate_point(run_dir, point: str, real: np.ndarray, feature_fn, n_samples: int, seed: int) -> dict:
    """Classifier FD and KID of n_samples images of the trained hardware generator in run_dir at the point."""
    kind, value = parse(point)
    return {"point": point, "kind": kind, "value": value,
            **evaluate_run(run_dir, real, feature_fn, n_samples, seed, point)}


def sample_spread(rows: list[dict]) -> tuple[pd.DataFrame, dict]:
    """Hardware over float paired per sample seed. rows: {variant: float | hardware, seed, classifier_fd, kid}.
    Returns (one row per seed with both variants' FD and KID and their ratios, {fd_over_float / kid_over_float:
    mean, std (ddof 1; 0 for one seed), min, max}, seeds)."""
    frame = pd.DataFrame(rows)
    wide = frame.pivot(index="seed", columns="variant", values=["classifier_fd", "kid"])
    if set(frame["variant"]) != {"float", "hardware"} or wide.isna().any().any():
        raise ValueError(f"sample spread needs a float and a hardware row for every seed, got "
                         f"{sorted(zip(frame['variant'], frame['seed']))}")
    out = pd.DataFrame({"seed": wide.index,
                        "fd_float": wide["classifier_fd", "float"].to_numpy(),
                        "fd_hardware": wide["classifier_fd", "hardware"].to_numpy(),
                        "kid_float": wide["kid", "float"].to_numpy(),
                        "kid_hardware": wide["kid", "hardware"].to_numpy()})
    out["fd_over_float"] = out["fd_hardware"] / out["fd_float"]
    out["kid_over_float"] = out["kid_hardware"] / out["kid_float"]
    stats = {name: {"mean": float(out[name].mean()), "std": float(out[name].std(ddof=1)) if len(out) > 1 else 0.0,
                    "min": float(out[name].min()), "max": float(out[name].max())}
             for name in ("fd_over_float", "kid_over_float")}
    return out, {**stats, "seeds": [int(seed) for seed in out["seed"]]}


def training_spread(rows: list[dict]) -> dict:
    """Hardware over float over several trainings of each. rows: {variant: float | hardware, training_seed,
    sample_seed, classifier_fd, kid}, every training at the same sample seeds. Each training's FD and KID are its
    means over the sample seeds; per variant the mean and std (ddof 1) of those over the trainings; hardware over
    float is the ratio of the two means with its standard error (the variants' relative standard errors of the mean
    added in quadrature: the trainings are independent). Returns {trainings: [{variant, training_seed, classifier_fd,
    kid}], float / hardware: {classifier_fd / kid: {mean, std}}, hardware_over_float: {classifier_fd / kid: {ratio,
    standard_error}}, training_seeds, sample_seeds}."""
    frame = pd.DataFrame(rows)
    seeds = frame.groupby(["variant", "training_seed"])["sample_seed"].apply(lambda s: tuple(sorted(s)))
    if (set(frame["variant"]) != {"float", "hardware"} or seeds.nunique() != 1
            or set(seeds["float"].index) != set(seeds["hardware"].index) or len(seeds["float"]) < 2):
        raise ValueError("training spread needs float and hardware trainings at the same (at least two) training "
                         f"seeds, each at the same sample seeds, got {dict(seeds)}")
    trainings = frame.groupby(["variant", "training_seed"], as_index=False)[["classifier_fd", "kid"]].mean()
    stats = {variant: {name: {"mean": float(group[name].mean()), "std": float(group[name].std(ddof=1))}
                       for name in ("classifier_fd", "kid")}
             for variant, group in trainings.groupby("variant")}
    n = len(seeds["float"])
    ratio = {}
    for name in ("classifier_fd", "kid"):
        hardware, float_ = stats["hardware"][name], stats["float"][name]
        value = hardware["mean"] / float_["mean"]
        relative = np.hypot(hardware["std"] / hardware["mean"], float_["std"] / float_["mean"]) / np.sqrt(n)
        ratio[name] = {"ratio": value, "standard_error": float(value * relative)}
    records = [{"variant": row.variant, "training_seed": int(row.training_seed), "classifier_fd": float(row.classifier_fd),
                "kid": float(row.kid)} for row in trainings.itertuples()]
    return {"trainings": records, **stats, "hardware_over_float": ratio,
            "training_seeds": sorted(int(seed) for seed in seeds["float"].index),
            "sample_seeds": [int(seed) for seed in seeds.iloc[0]]}


def summarise(rows: list[dict], float_fd: float) -> tuple[pd.DataFrame, dict]:
    """(table with fd_over_float and within_margin per point, {kind: first point past the margin or None})."""
    frame = pd.DataFrame(rows)
    frame["fd_over_float"] = frame["classifier_fd"] / float_fd
    frame["within_margin"] = frame["fd_over_float"] <= 1 + QUALITY_MARGIN
    # growing harm: larger scale, fewer bits, noise on, shorter reads
    harm = {"variation": 1, "adc": -1, "thermal": 1, "read": -1, "noiseless": 1}
    frame = frame.sort_values(["kind", "value"]).reset_index(drop=True)
    first = {}
    for kind, group in frame.groupby("kind", sort=False):
        ordered = group.sort_values("value", ascending=harm[kind] > 0)
        past = ordered[~ordered["within_margin"]]
        first[kind] = None if past.empty else str(past["point"].iloc[0])
    return frame, first


def plot(path, frame: pd.DataFrame, first: dict, spread: dict | None = None) -> None:
    """FD over float per point, one panel per kind, the 10 % margin, the noiseless point (if any) and the trained
    run's paired FD over float over sample seeds (`sample_spread`'s stats, if given: mean +- one std) drawn."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pipeline.io import save_figure
    kinds = [kind for kind in dict.fromkeys(frame["kind"]) if kind != "noiseless"]
    noiseless = frame.loc[frame["kind"] == "noiseless", "fd_over_float"]
    fig, axes = plt.subplots(1, len(kinds), figsize=(4.5 * len(kinds), 4), squeeze=False)
    labels = {"variation": "device variation (x the table's spread)", "adc": "ADC bits", "thermal": "thermal noise",
              "read": "read time (x crossbar.read_time_s)"}
    for ax, kind in zip(axes[0], kinds):
        group = frame[frame["kind"] == kind].sort_values("value")
        ax.plot(group["value"], group["fd_over_float"], "o-")
        ax.axhline(1 + QUALITY_MARGIN, color="grey", ls="--", lw=1, label="float + 10 %")
        if len(noiseless):
            ax.axhline(noiseless.iloc[0], color="tab:green", ls=":", lw=1.5, label="noiseless (IR drop only)")
        if spread is not None:
            ratio = spread["fd_over_float"]
            ax.axhspan(ratio["mean"] - ratio["std"], ratio["mean"] + ratio["std"], color="tab:orange", alpha=0.2,
                       label=f"trained, {len(spread['seeds'])} sample seeds (mean +- std)")
        ax.set(xlabel=labels[kind], ylabel="classifier FD / float", title=f"first past 10 %: {first[kind]}")
        if kind == "variation":
            ax.set_xscale("symlog", linthresh=1)
        if kind == "read":
            ax.set_xscale("log")
        if kind == "thermal":
            ax.set_xticks([0, 1], ["off", "on"])
        ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(path, fig)
    plt.close(fig)


def plot_training_spread(path, frame: pd.DataFrame, stats: dict) -> None:
    """Classifier FD and KID of every training (mean +- std over its sample seeds), float beside hardware, each
    variant's mean over its trainings as a bar; the panel titles give hardware over float (`training_spread`'s
    stats) with its standard error. frame: `training_spread`'s rows."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pipeline.io import save_figure
    fig, axes = plt.subplots(1, 2, figsize=(9, 4))
    for ax, name, label in zip(axes, ("classifier_fd", "kid"), ("classifier FD", "KID (classifier features)")):
        for x, variant in enumerate(("float", "hardware")):
            per_training = frame[frame["variant"] == variant].groupby("training_seed")[name].agg(["mean", "std"])
            offsets = np.linspace(-0.15, 0.15, len(per_training))
            ax.errorbar(x + offsets, per_training["mean"], per_training["std"], fmt="o", capsize=3,
                        color=f"C{x}")
            ax.hlines(stats[variant][name]["mean"], x - 0.3, x + 0.3, color=f"C{x}", lw=2)
            for offset, (seed, row) in zip(offsets, per_training.iterrows()):
                ax.annotate(str(seed), (x + offset, row["mean"]), textcoords="offset points", xytext=(4, 4), fontsize=7)
        ratio = stats["hardware_over_float"][name]
        ax.set(xticks=[0, 1], xticklabels=["float", "hardware"], xlim=(-0.6, 1.6), ylabel=label,
               title=f"hardware / float {ratio['ratio']:.3f} +- {ratio['standard_error']:.3f}")
    fig.suptitle(f"{len(stats['training_seeds'])} trainings per variant (labels: training seed), "
                 f"{len(stats['sample_seeds'])} sample seeds each (+- std)", fontsize=9)
    fig.tight_layout()
    save_figure(path, fig)
    plt.close(fig)
