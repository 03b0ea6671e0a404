"""Summary: the headline table and its RST and plot, energy per component from the evaluate breakdowns, shares,
sources, the breakdown plot, and inspect_results on the runs' tables."""

import json
import re

import pandas as pd
import pytest
from docutils.core import publish_parts

from system import energy
from system.summary import (build_summary, energy_by_component, non_idealities_by_run, plot_energy_breakdown,
                            plot_summary, plot_training_curves, sig3, summary_rst)
from workflow import inspect_results

REASON = "FID Inception weights not found at /x/pt_inception-2015.pth (torch hub cache)"


def write_metrics(tmp_path):
    """metrics.json of a float run (no energy, no FID) and a hardware run (energy, no FID), as the evaluate rule."""
    files = []
    for variant, energy_J in (("float", {}), ("hardware", {
            "test_energy_array_and_devices_J_per_image": 69.74e-9, "test_energy_with_periphery_J_per_image": 697.4e-9,
            "train_energy_array_and_devices_J_per_image": 178.96e-9,
            "train_energy_with_periphery_J_per_image": 1789.6e-9, "test_array_cycles_per_image": 2450})):
        path = tmp_path / f"{variant}.json"
        path.write_text(json.dumps({
            "dataset": "fashion_mnist", "variant": variant, "n_samples": 2000, "fid": None,
            "fid_skipped_because": REASON, "classifier_fd": 12.345, "classifier_kid": 0.01234,
            "classifier_kid_std": 0.00056, **energy_J, "train_images_per_s": 700.0, "generation_images_per_s": 5000.0}))
        files.append(path)
    return build_summary(files)


def test_summary_columns_carry_kid_std_and_why_fid_is_missing(tmp_path):
    summary = write_metrics(tmp_path)
    assert {"classifier_kid", "classifier_kid_std", "fid_missing_reason", "reference_test_energy_nJ_per_image",
            "reference_train_energy_nJ_per_image"} <= set(summary.columns) and "kid" not in summary.columns
    hardware = summary.set_index("variant").loc["hardware"]
    assert hardware["classifier_kid_std"] == 0.00056 and hardware["fid_missing_reason"] == REASON
    assert hardware["test_energy_with_periphery_nJ_per_image"] == pytest.approx(697.4)
    assert hardware["train_energy_array_and_devices_nJ_per_image"] == pytest.approx(178.96)
    assert hardware["reference_train_energy_nJ_per_image"] == pytest.approx(14.97)
    assert hardware["test_array_cycles_per_image"] == 2450
    assert summary.set_index("variant").loc["float", ["test_energy_with_periphery_nJ_per_image",
                                                       "test_array_cycles_per_image"]].isna().all()


def test_sidecar_lists_the_non_idealities_of_each_crossbar_run(tmp_path):
    write_metrics(tmp_path)
    hardware = json.loads((tmp_path / "hardware.json").read_text())
    listed = {"read_noise": {"on": True, "source": "formula"}}
    (tmp_path / "hardware.json").write_text(json.dumps({**hardware, "non_idealities": listed}))
    sidecar = non_idealities_by_run([tmp_path / "float.json", tmp_path / "hardware.json"])
    assert sidecar == {"non_idealities": {"fashion_mnist/hardware": listed}}


FCGAN = pd.DataFrame({  # results/fcgan/summary.csv of a float and an in-situ run, as system.fcgan_run.build_summary
    "variant": ["float", "insitu"], "noise": ["gaussian", "crossbar"], "n_samples": [10000, 10000],
    "classifier_fd": [40.0, 46.0], "fd_ratio_to_float": [1.0, 1.15], "kid": [0.02, 0.025], "kid_std": [0.001, 0.002],
    "generation_energy_J_per_image": [0.0, 6.9e-9], "training_energy_J_per_image": [0.0, 3.5e-6],
    "training_program_energy_J": [0.0, 2.0], "training_read_energy_J": [0.0, 0.1], "training_noise_energy_J": [0.0, 1e-3],
    "training_energy_J": [0.0, 2.1], "pulses": [0, 10**9], "steps": [9370, 9370], "train_images_seen": [599680, 599680],
    "train_wall_s": [100.0, 1000.0]})


def test_fcgan_runs_join_the_summary_with_their_energies_and_without_a_reference(tmp_path):
    files = [tmp_path / "hardware.json"]
    files[0].write_text(json.dumps({"dataset": "fashion_mnist", "variant": "hardware", "n_samples": 2000,
                                    "classifier_fd": 12.3, "classifier_kid": 0.01, "classifier_kid_std": 0.001,
                                    "test_energy_with_periphery_J_per_image": 697.4e-9}))
    summary = build_summary(files, FCGAN)
    assert list(summary["system"]) == ["dcgan", "rram_fcgan", "rram_fcgan"]
    insitu = summary.set_index("variant").loc["insitu/crossbar"]
    assert insitu["classifier_fd"] == 46.0 and insitu["classifier_kid_std"] == 0.002
    assert insitu["test_energy_with_periphery_nJ_per_image"] == pytest.approx(6.9)
    assert insitu["train_energy_with_periphery_nJ_per_image"] == pytest.approx(3500.0)
    assert insitu["train_images_per_s"] == pytest.approx(599.68)
    assert insitu[["reference_fid", "reference_test_energy_nJ_per_image",
                   "test_energy_array_and_devices_nJ_per_image"]].isna().all()
    assert pd.isna(summary.set_index("variant").loc["float/gaussian", "test_energy_with_periphery_nJ_per_image"])
    rst = summary_rst(summary)
    html = publish_parts(rst, writer="html", settings_overrides={"halt_level": 2})["body"]  # no warnings
    tables = re.findall(r"<table.*?</table>", html, re.S)
    assert len(tables) == 2 and "RRAM FC-GAN, fashion" in tables[1]
    header = re.findall(r"<th[^>]*>(.*?)</th>", tables[1])
    assert [h.replace("&nbsp;", "") for h in header] == ["quantity", "float/gaussian", "insitu/crossbar"]
    plot_summary(summary, tmp_path / "summary.png")  # the DCGAN rows only; the FC-GAN has its own plot
    assert (tmp_path / "summary.png").stat().st_size > 5000


def test_three_significant_figures_alike_for_every_magnitude():
    assert [sig3(v) for v in (697.4, 1789.6, 1788.3, 12345.6, 14.97, 0.046, 1e-6, 3e5, None, float("nan"))] == [
        "697", "1790", "1790", "12300", "15.0", "0.0460", "1.00e-06", "3.00e+05", "", ""]


def test_rst_table_sets_each_run_beside_the_reference_and_says_why_fid_is_empty(tmp_path):
    rst = summary_rst(write_metrics(tmp_path))
    html = publish_parts(rst, writer="html", settings_overrides={"halt_level": 2})["body"]  # no warnings
    cells = [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row) for row in re.findall(r"<tr>(.*?)</tr>", html, re.S)]
    rows = {row[0]: [cell.replace("&nbsp;", "") for cell in row[1:]] for row in cells}
    assert rows["quantity"] == ["float", "hardware", "reference"]
    assert rows["FID"] == ["n/a", "n/a", "27.5"]
    assert rows["classifier KID (mean +/- std)"] == ["0.0123 +/- 5.60e-04", "0.0123 +/- 5.60e-04", ""]
    assert rows["test energy, array and devices (nJ/image)"] == ["n/a", "69.7", "4.9"]
    assert rows["test energy with DAC and ADC (nJ/image)"] == ["n/a", "697", ""]
    assert rows["training energy, array and devices (nJ/image)"] == ["n/a", "179", "14.97"]
    assert rows["training energy with DAC and ADC (nJ/image)"] == ["n/a", "1790", ""]
    assert rows["array cycles per generated image"] == ["n/a", "2450", ""]
    assert f"FID is empty: {REASON}" in html  # the markup characters of the reason are escaped, not interpreted
    assert "No energy for float" in html


def test_summary_plot_marks_references_only_on_bars_and_says_why_fid_is_missing(tmp_path):
    figure = plot_summary(write_metrics(tmp_path), tmp_path / "summary.png")
    assert (tmp_path / "summary.png").stat().st_size > 5000
    quality, energy_ax = figure.axes
    assert any(REASON in text.get_text().replace("\n", " ") for text in quality.texts)
    bars = sorted(round(p.get_x() + p.get_width() / 2, 6) for p in energy_ax.patches)
    marks = sorted(round(x, 6) for c in energy_ax.collections for x, _ in c.get_offsets())
    assert bars == [0.7, 0.9, 1.1, 1.3]  # the hardware run only (the float run has no energy): two totals each
    assert marks == [0.7, 1.1]  # the reference beside the array-and-devices totals, its scope
    assert energy_ax.get_yscale() == "log"


def write_breakdown(path, rows):
    """rows: phase, network, layer, pass, component, count, energy per op, source, energy (the group follows from
    the component)."""
    groups = {"crossbar_read": "array_and_devices", "activation_relu": "array_and_devices", "adc": "periphery",
              "update_potentiation": "array_and_devices"}
    rows = [[*r[:5], groups[r[4]], *r[5:]] for r in rows]
    frame = pd.DataFrame(rows, columns=["phase", *energy.COLUMNS])
    frame.to_csv(path, index=False)
    return path


def test_components_sum_over_layers_with_shares_and_sources(tmp_path):
    rows = [["test", "generator", "g1", "forward", "crossbar_read", 10, 1e-12, "src A", 1e-11],
            ["test", "generator", "g2", "forward", "crossbar_read", 30, 1e-12, "src B", 3e-11],
            ["test", "generator", "g1", "forward", "activation_relu", 4, 1.5e-12, "activation_energy", 6e-12],
            ["test", "generator", "g2", "forward", "adc", 2, 2e-12, "adc FOM", 4e-12],
            ["train", "generator", "g1", "update", "update_potentiation", 0.5, 2e-15, "synapse_update", 1e-15]]
    files = {"fashion_mnist": write_breakdown(tmp_path / "energy.csv", rows),
             "anime_faces": write_breakdown(tmp_path / "float.csv", [])}
    table = energy_by_component(files)
    assert set(table["dataset"]) == {"fashion_mnist"}  # an empty breakdown (no device energy) is skipped
    test = table[table["phase"] == "test"].set_index("component")
    assert list(test.index) == ["crossbar_read", "activation_relu", "adc"]  # largest first
    assert test.loc["crossbar_read", "energy_nJ_per_image"] == pytest.approx(0.04)
    assert test.loc["crossbar_read", "count"] == 40 and test.loc["crossbar_read", "sources"] == "src A; src B"
    assert test.loc["adc", "group"] == "periphery" and test.loc["crossbar_read", "group"] == "array_and_devices"
    assert test["energy_nJ_per_image"].sum() == pytest.approx(sum(r[-1] for r in rows[:4]) * 1e9)
    assert test["share"].sum() == pytest.approx(1.0) and test.loc["activation_relu", "share"] == pytest.approx(6 / 50)
    figure = plot_energy_breakdown({"fashion_mnist": files["fashion_mnist"]}, tmp_path / "breakdown.png")
    assert (tmp_path / "breakdown.png").stat().st_size > 5000
    # the titles carry the phase totals with 3 significant figures; a log axis shows the small components
    assert [ax.get_title() for ax in figure.axes] == [
        "fashion_mnist, test: 0.0460 nJ/image array and devices,\n0.0500 with DAC and ADC",
        "fashion_mnist, train: 1.00e-06 nJ/image array and devices,\n1.00e-06 with DAC and ADC"]
    assert all(ax.get_xscale() == "log" for ax in figure.axes)
    test_bars = [p.get_width() for p in figure.axes[0].patches if p.get_width() > 0]
    assert sorted(test_bars) == pytest.approx([0.004, 0.006, 0.01, 0.03])  # g1: read, activation; g2: read, ADC


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


def test_inspect_prints_the_hardware_energy_with_four_digits_and_names_the_empty_float_table(tmp_path, monkeypatch,
                                                                                             capsys):
    for variant, rows in (("float", []), ("hardware", [["test", "generator", "g1", "forward", "crossbar_read", 3,
                                                         1.23456789e-12, "src", 3.70370367e-12]])):
        (tmp_path / "system" / "fashion_mnist" / variant).mkdir(parents=True)
        write_breakdown(tmp_path / "system" / "fashion_mnist" / variant / "energy.csv", rows)
    monkeypatch.setattr(inspect_results, "RESULTS", tmp_path)
    assert inspect_results.main(["energy"]) == 0
    out = capsys.readouterr().out
    assert f"also {tmp_path}/system/fashion_mnist/float/energy.csv (no rows" in out
    assert f"{tmp_path}/system/fashion_mnist/hardware/energy.csv  (1 rows)" in out
    assert "1.235e-12" in out and "3.704e-12" in out and "1.2345" not in out


DDPM = pd.DataFrame({  # results/ddpm/summary.csv of two runs, as system.ddpm_run.build_summary
    "noise": ["software", "mtj"], "n_samples": [10000, 10000], "classifier_fd": [30.0, 31.0],
    "fd_ratio_to_software": [1.0, 31 / 30], "kid": [0.01, 0.011], "kid_std": [0.001, 0.001],
    "kid_ratio_to_software": [1.0, 1.1], "noise_energy_J_per_image": [0.0, 5.1e-8],
    "training_noise_energy_J_per_image": [0.0, 5.1e-10], "steps": [10000, 10000], "train_images_seen": [1280000] * 2,
    "train_wall_s": [3600.0, 4000.0], "sample_wall_s": [900.0, 1300.0], "sample_steps": [100, 100],
    "final_loss": [0.03, 0.03]})


def test_ddpm_runs_join_the_summary_with_their_noise_energy(tmp_path):
    summary = build_summary([], FCGAN, DDPM)
    assert list(summary["system"]) == ["rram_fcgan", "rram_fcgan", "vcma_ddpm", "vcma_ddpm"]
    mtj = summary.set_index("variant").loc["mtj"]
    assert mtj["classifier_fd"] == 31.0 and mtj["noise_energy_nJ_per_image"] == pytest.approx(51.0)
    assert mtj["train_images_per_s"] == pytest.approx(320.0) and mtj["generation_images_per_s"] == pytest.approx(
        10000 / 1300)
    assert mtj[["reference_fid", "test_energy_with_periphery_nJ_per_image"]].isna().all()
    html = publish_parts(summary_rst(summary), writer="html", settings_overrides={"halt_level": 2})["body"]
    tables = re.findall(r"<table.*?</table>", html, re.S)
    assert len(tables) == 2 and "VCMA MTJ DDPM, fashion" in tables[1] and "noise energy (nJ/image)" in tables[1]
