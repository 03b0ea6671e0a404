"""Summary: energy per component from the evaluate breakdowns, shares, sources, and the breakdown plot."""

import pandas as pd
import pytest

from system import energy
from system.summary import energy_by_component, plot_energy_breakdown, plot_training_curves


def write_breakdown(path, rows):
    frame = pd.DataFrame(rows, columns=["phase", *energy.COLUMNS])
    frame.to_csv(path, index=False)
    return path


def test_components_sum_over_layers_with_shares_and_sources(tmp_path):
    rows = [["test", "generator", "g1", "forward", "crossbar_read", 10, 1e-12, "src A", 1e-11],
            ["test", "generator", "g2", "forward", "crossbar_read", 30, 1e-12, "src B", 3e-11],
            ["test", "generator", "g1", "forward", "activation_relu", 4, 1.5e-12, "activation_energy", 6e-12],
            ["train", "generator", "g1", "update", "update_potentiation", 0.5, 2e-15, "synapse_update", 1e-15]]
    files = {"fashion_mnist": write_breakdown(tmp_path / "energy.csv", rows),
             "anime_faces": write_breakdown(tmp_path / "float.csv", [])}
    table = energy_by_component(files)
    assert set(table["dataset"]) == {"fashion_mnist"}  # an empty breakdown (no device energy) is skipped
    test = table[table["phase"] == "test"].set_index("component")
    assert list(test.index) == ["crossbar_read", "activation_relu"]  # largest first
    assert test.loc["crossbar_read", "energy_nJ_per_image"] == pytest.approx(0.04)
    assert test.loc["crossbar_read", "count"] == 40 and test.loc["crossbar_read", "sources"] == "src A; src B"
    assert test["energy_nJ_per_image"].sum() == pytest.approx(sum(r[-1] for r in rows[:3]) * 1e9)
    assert test["share"].sum() == pytest.approx(1.0) and test.loc["activation_relu", "share"] == pytest.approx(6 / 46)
    figure = plot_energy_breakdown({"fashion_mnist": files["fashion_mnist"]}, tmp_path / "breakdown.png")
    assert (tmp_path / "breakdown.png").stat().st_size > 5000
    # g2 has no activation row: its bar still stacks to its total, and the titles carry the phase totals
    assert [ax.get_title() for ax in figure.axes] == ["fashion_mnist, test: 0.046 nJ/image",
                                                      "fashion_mnist, train: 1e-06 nJ/image"]


def test_training_curves_show_losses_and_checkpoint_scores_per_variant(tmp_path):
    files = []
    for variant, fd in (("float", [30.0, 20.0]), ("hardware", None)):  # a run without scores: losses only
        history = pd.DataFrame({"step": range(1, 11), "epoch": 0, "d_loss": 1.0, "g_loss": range(10), "wall_s": 1.0})
        if fd:
            history["classifier_fd"] = [fd[0] if s == 5 else fd[1] if s == 10 else None for s in history["step"]]
        (tmp_path / "fashion_mnist" / variant).mkdir(parents=True)
        files.append(tmp_path / "fashion_mnist" / variant / "history.csv")
        history.to_csv(files[-1], index=False)
    figure = plot_training_curves(files, tmp_path / "curves.png", smooth_steps=2)
    assert (tmp_path / "curves.png").stat().st_size > 5000
    d_loss, g_loss, scores = figure.axes
    assert scores.get_title() == "fashion_mnist: classifier FD at checkpoints"
    [line] = scores.get_lines()
    assert line.get_label() == "float" and list(line.get_xdata()) == [5, 10] and list(line.get_ydata()) == [30, 20]
    smoothed = [line for line in g_loss.get_lines() if line.get_label() == "hardware"][0]
    assert list(smoothed.get_ydata())[:3] == [0.0, 0.5, 1.5]  # running mean over 2 steps
