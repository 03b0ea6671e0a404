"""A device-parameter sweep: one config key of the synapse or dw_activation section over a list of values.

Each value gets the device stages that the key feeds rerun with it (on the engine caches of the main stages, so
that states the key does not change are not simulated again), its own tables, and an evaluation of the trained
hardware generator on them (workflow/rules/sweep.smk). Values are named by their `%g` text in paths.
"""
from __future__ import annotations

import copy

import numpy as np
import pandas as pd

SECTIONS = ("synapse", "dw_activation")  # device sections a sweep may change


def keys(parameter: str) -> list[str]:
    """The dotted path as keys; ValueError unless it starts with a sweepable section."""
    parts = parameter.split(".")
    if parts[0] not in SECTIONS or len(parts) < 2 or not all(parts):
        raise ValueError(f"sweep.parameter: {parameter!r} is not a key of the sections {', '.join(SECTIONS)} "
                         "(a dotted path such as synapse.mtj.RA_ohm_um2)")
    return parts


def value_name(value: float) -> str:
    """The value's name in paths and wildcards."""
    return f"{value:g}"


def override(config: dict, parameter: str, value: float) -> dict:
    """A copy of config with the swept key at value; ValueError naming the key if it is not a number there."""
    out = copy.deepcopy(config)
    *path, last = keys(parameter)
    node = out
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
        if node is None:
            break
    if not isinstance(node, dict) or isinstance(node.get(last), bool) or not isinstance(node.get(last), (int, float)):
        raise ValueError(f"sweep.parameter: {parameter} is not a number in the config")
    node[last] = value
    return out


def section(parameter: str) -> str:
    """The device section (stage) the key belongs to."""
    return keys(parameter)[0]


def current_value(config: dict, parameter: str) -> float:
    """The key's value in config (the value the networks were trained with)."""
    node = config
    for key in keys(parameter):
        node = node[key]
    return node


def summarise(points: list[dict], float_fd: float, trained_value: float) -> pd.DataFrame:
    """One row per value, sorted: classifier FD and KID, FD over the float run's, energy per image (nJ), and
    whether it is the value the network was trained with."""
    frame = pd.DataFrame(points).sort_values("value").reset_index(drop=True)
    frame["fd_over_float"] = frame["classifier_fd"] / float_fd
    frame["trained_value"] = np.isclose(frame["value"], trained_value, rtol=1e-12, atol=0)
    for column in [c for c in frame.columns if c.endswith("_J_per_image")]:
        frame[column.replace("_J_per_image", "_nJ_per_image")] = frame.pop(column) * 1e9
    return frame


def plot(path, frame: pd.DataFrame, parameter: str, float_fd: float) -> None:
    """Quality (classifier FD, the float run's as a line) and energy per generated image against the parameter."""
    import matplotlib.pyplot as plt

    from pipeline import io
    fig, (quality, energy) = plt.subplots(1, 2, figsize=(11, 4))
    x = frame["value"]
    quality.plot(x, frame["classifier_fd"], "o-", label="hardware generator on these devices")
    quality.axhline(float_fd, color="k", ls="--", lw=1, label="float baseline")
    quality.axhline(1.1 * float_fd, color="grey", ls=":", lw=1, label="float + 10 %")
    quality.set(xlabel=parameter, ylabel="classifier FD (lower is better)", title="Quality")
    energy.plot(x, frame["test_energy_array_and_devices_nJ_per_image"], "o-", label="array and devices")
    energy.plot(x, frame["test_energy_with_periphery_nJ_per_image"], "s-", label="with DAC and ADC")
    energy.set(xlabel=parameter, ylabel="energy per generated image (nJ)", title="Energy", yscale="log")
    for ax in (quality, energy):
        trained = frame.loc[frame["trained_value"], "value"]
        for value in trained:
            ax.axvline(value, color="C2", lw=0.8, alpha=0.6)
        if (x > 0).all() and x.max() / x.min() > 5:
            ax.set_xscale("log")
        ax.legend(fontsize=8)
    fig.suptitle(f"Sweep of {parameter} (green: the value the network was trained with)", fontsize=10)
    io.save_figure(path, fig)
