"""The workflow as users run it: planning, a real end-to-end run on a tiny profile, and targeted reruns."""

import hashlib
import json
import re
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from tests.conftest import REPO, snakemake

ALL_RULES = {"synapse_levels", "synapse_update", "skyrmion_synapse", "synapse_thermal", "dw_activation", "tables", "rram_device", "vcma_device", "mtj_noise",
             "ddpm_train", "ddpm_evaluate", "ddpm_summary", "classifier", "training_setup", "train", "evaluate",
             "robustness_point", "sample_spread", "robustness_summary", "summary", "fcgan_noise", "fcgan_train", "fcgan_evaluate",
             "fcgan_summary", "all"}


ROBUSTNESS = {"robustness_point": 7, "sample_spread": 1, "robustness_summary": 1}  # tiny: variation x0 and x10, ADC 4
# bits, thermal on/off, read time x0.01, noiseless; float and hardware at 2 sample seeds
SWEEP = {"sweep_devices": 2, "sweep_evaluate": 2, "sweep_summary": 1}  # tiny: the synapse's RA at 1600 and 6400


def planned_jobs(stdout: str) -> dict[str, int]:
    """Rule -> job count from the 'Job stats' table of a dry run ({} when nothing is to be done)."""
    if "Job stats:" not in stdout:
        return {}
    table = stdout.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M) if m.group(1) != "total"}


def planned_runs(stdout: str, rule: str = "train") -> set[tuple[str, str]]:
    """(dataset, variant) of every planned job of a rule in a dry run's output."""
    blocks = re.split(r"^(?=(?:local)?rule \w+:)", stdout, flags=re.M)
    return {(m.group(1), m.group(2)) for block in blocks if re.match(rf"(?:local)?rule {rule}:", block)
            for m in re.finditer(r"wildcards: dataset=(\w+), variant=(\w+)", block)}


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_full_profile_plans_every_stage(workdir, data_dir):
    run = snakemake(["-n", "--cores", "2", "--config", f"data_dir={data_dir}"], workdir, timeout=300)
    assert run.returncode == 0, run.stderr
    jobs = planned_jobs(run.stdout)
    assert set(jobs) == ALL_RULES
    assert jobs["training_setup"] == jobs["train"] == jobs["evaluate"] == 4  # 2 datasets x {float, hardware}
    assert jobs["synapse_levels"] == 8 and jobs["synapse_update"] == jobs["skyrmion_synapse"] == 1  # scattered


@pytest.mark.slow
def test_tiny_profile_end_to_end_and_targeted_rerun(tiny_run, data_dir):
    workdir, run, _ = tiny_run
    tiny = ["--configfile", str(REPO / "tests" / "tiny.yaml"), "--config", f"data_dir={data_dir}"]

    summary = pd.read_csv(workdir / "results" / "summary.csv")
    fcgan_rows = summary[summary["system"] == "rram_fcgan"].set_index("variant")
    assert sorted(fcgan_rows.index) == ["float/gaussian", "insitu/crossbar"]
    assert fcgan_rows.loc["insitu/crossbar", "train_energy_with_periphery_nJ_per_image"] > 0
    assert sorted(summary.loc[summary["system"] == "vcma_ddpm", "variant"]) == ["mtj", "mtj_uncorrected", "software"]
    summary = summary[summary["system"] == "dcgan"]
    assert sorted(summary["variant"]) == ["float", "hardware"]
    assert (summary["dataset"] == "fashion_mnist").all()
    assert summary["classifier_fd"].notna().all() and (summary["classifier_fd"] >= 0).all()
    assert (summary["train_images_per_s"] > 0).all() and (summary["generation_images_per_s"] > 0).all()
    hardware = summary.set_index("variant").loc["hardware"]
    for phase in ("test", "train"):  # NaN fails
        assert 0 < hardware[f"{phase}_energy_array_and_devices_nJ_per_image"] < hardware[
            f"{phase}_energy_with_periphery_nJ_per_image"]
    assert hardware["test_array_cycles_per_image"] > 0
    fcgan = pd.read_csv(workdir / "results" / "fcgan" / "summary.csv").set_index("variant")
    assert sorted(fcgan.index) == ["float", "insitu"] and (fcgan["classifier_fd"] >= 0).all()
    assert fcgan.loc["insitu", "training_program_energy_J"] > 0 and fcgan.loc["insitu", "pulses"] > 0
    assert fcgan.loc["float", "training_energy_J"] == 0
    breakdown = pd.read_csv(workdir / "results" / "energy_breakdown.csv").groupby("phase")["energy_nJ_per_image"].sum()
    assert breakdown["test"] == pytest.approx(hardware["test_energy_with_periphery_nJ_per_image"], rel=1e-9)
    assert breakdown["train"] == pytest.approx(hardware["train_energy_with_periphery_nJ_per_image"], rel=1e-9)
    assert (workdir / "results" / "energy_breakdown.png").stat().st_size > 5000
    updates = pd.read_csv(workdir / "results" / "tables" / "synapse_update.csv")
    assert updates["energy_J"].notna().all() and (updates["energy_J"] > 0).all()
    switching = pd.read_parquet(workdir / "results" / "tables" / "vcma_switching.parquet")
    assert switching["p_sw"].iloc[0] < 0.5 < switching["p_sw"].iloc[-1]
    ddpm = pd.read_csv(workdir / "results" / "ddpm" / "summary.csv").set_index("noise")
    assert sorted(ddpm.index) == ["mtj", "mtj_uncorrected", "software"] and (ddpm["classifier_fd"] >= 0).all()
    assert ddpm.loc["software", "noise_energy_J_per_image"] == 0 < ddpm.loc["mtj", "noise_energy_J_per_image"]
    noise = json.loads((workdir / "results" / "mtj_noise" / "statistics.json").read_text())
    assert noise["bits"]["corrected"]["frequency_pass"] and noise["energy_per_sample_J"]["corrected"] > 0
    thermal = pd.read_parquet(workdir / "results" / "tables" / "synapse_thermal.parquet")
    assert list(thermal["level"]) == [0, 1] and (thermal["thermal_std_read_S"] > 0).all()
    crossbar = json.loads((workdir / "results" / "summary.json").read_text())["non_idealities"]["fashion_mnist/hardware"]
    assert all(crossbar[kind]["on"] for kind in ("variation", "read_noise", "thermal_noise", "ir_drop"))
    # the sweep: at the trained RA it evaluates the trained devices (the evaluate rule's figures to rounding); at 4x
    # RA every conductance is a quarter
    swept = pd.read_csv(workdir / "results" / "sweep" / "summary.csv").set_index("value")
    metrics = json.loads((workdir / "results" / "system" / "fashion_mnist" / "hardware" / "metrics.json").read_text())
    assert swept.loc[1600.0, "trained_value"] and not swept.loc[6400.0, "trained_value"]
    assert swept.loc[1600.0, "classifier_fd"] == pytest.approx(metrics["classifier_fd"], rel=1e-6)
    assert swept.loc[1600.0, "test_energy_with_periphery_nJ_per_image"] == pytest.approx(
        metrics["test_energy_with_periphery_J_per_image"] * 1e9, rel=1e-9)
    levels = {v: json.loads((workdir / "results" / "sweep" / f"{v:g}" / "metrics.json").read_text())["levels_S"]
              for v in (1600.0, 6400.0)}
    assert levels[6400.0] == pytest.approx([g / 4 for g in levels[1600.0]], rel=1e-9)
    assert (workdir / "results" / "sweep" / "sweep.png").stat().st_size > 10_000
    robust = pd.read_csv(workdir / "results" / "robustness" / "fashion_mnist" / "summary.csv")
    assert sorted(robust["point"]) == ["adc_4", "noiseless", "read_time_x0.01", "thermal_off", "thermal_on",
                                       "variation_x0", "variation_x10"]
    assert (robust["fd_over_float"] > 0).all()
    spread = pd.read_csv(workdir / "results" / "robustness" / "fashion_mnist" / "sample_spread.csv").set_index("seed")
    assert list(spread.index) == [1, 2]
    # seed 1 is the robustness points' seed, and thermal_on the trained setting: the same samples and KID subsets
    trained = robust.set_index("point").loc["thermal_on"]
    assert spread.loc[1, "fd_hardware"] == pytest.approx(trained["classifier_fd"], rel=1e-6)
    assert spread.loc[1, "kid_hardware"] == pytest.approx(trained["kid"], rel=1e-6)
    paired = json.loads((workdir / "results" / "robustness" / "fashion_mnist" / "summary.json").read_text())[
        "trained_hardware_over_float_paired_over_sample_seeds"]
    assert paired["fd_over_float"]["mean"] == pytest.approx(spread["fd_over_float"].mean()) and paired["seeds"] == [1, 2]
    for name in ["synapse_levels", "synapse_update", "activation_transfer", "activation_energy", "synapse_thermal",
                 "vcma_switching", "vcma_devices"]:
        for suffix in ["csv", "parquet", "json"]:
            assert (workdir / "results" / "tables" / f"{name}.{suffix}").is_file()

    shown = subprocess.run([sys.executable, "workflow/inspect_results.py", "synapse_levels"], cwd=workdir,
                           capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0 and "conductance_S" in shown.stdout and '"units"' in shown.stdout, shown.stderr

    report = snakemake(["--report", "results/report.html", *tiny], workdir, timeout=300)
    assert report.returncode == 0, report.stderr[-3000:]
    assert (workdir / "results" / "report.html").stat().st_size > 10_000

    nothing = snakemake(["-n", "--cores", "2", *tiny], workdir, timeout=300)
    assert planned_jobs(nothing.stdout) == {}, nothing.stdout[-3000:]

    # another training seed: float and hardware trained again in their own directories, the main runs untouched;
    # the training spread scores all four, the main runs as the sample spread did (same latents and KID subsets)
    (workdir / "seeds.yaml").write_text("robustness: {training_seeds: [1]}\n")
    main_runs = workdir / "results" / "system" / "fashion_mnist"
    main_generators = {v: sha256(main_runs / v / "generator.pkl") for v in ("float", "hardware")}
    seeds = snakemake(["--cores", "2", "--configfile", str(REPO / "tests" / "tiny.yaml"), "seeds.yaml", "--config",
                       f"data_dir={data_dir}"], workdir, timeout=900)
    assert seeds.returncode == 0, seeds.stderr[-5000:]
    assert planned_jobs(seeds.stdout + seeds.stderr) == {"training_setup_seed": 2, "train_seed": 2,
                                                         "training_spread": 1, "all": 1}
    for variant in ("float", "hardware"):
        seed_run = workdir / "results" / "training_seeds" / "1" / "fashion_mnist" / variant
        assert json.loads((seed_run / "training.json").read_text())["seed"] == 1
        assert sha256(main_runs / variant / "generator.pkl") == main_generators[variant]
        assert sha256(seed_run / "generator.pkl") != main_generators[variant]
    scored = pd.read_csv(workdir / "results" / "robustness" / "fashion_mnist" / "training_spread.csv")
    main = scored[scored["training_seed"] == 0].set_index(["variant", "sample_seed"])
    for sample_seed in (1, 2):
        for variant in ("float", "hardware"):
            assert main.loc[(variant, sample_seed), "classifier_fd"] == pytest.approx(
                spread.loc[sample_seed, f"fd_{variant}"], rel=1e-6)
            assert main.loc[(variant, sample_seed), "kid"] == pytest.approx(spread.loc[sample_seed, f"kid_{variant}"],
                                                                            rel=1e-6)
    trainings = json.loads((workdir / "results" / "robustness" / "fashion_mnist" / "training_spread.json").read_text())
    assert trainings["training_seeds"] == [0, 1] and trainings["sample_seeds"] == [1, 2]
    assert trainings["hardware_over_float"]["classifier_fd"]["ratio"] > 0

    # a wrong data directory stops the run with one line before any job, and deletes nothing
    finished = {p: p.stat().st_mtime_ns for p in (workdir / "results").rglob("*") if p.is_file()}
    classifier = workdir / "results" / "system" / "fashion_mnist" / "classifier" / "classifier.pkl"
    classifier_sum = sha256(classifier)
    (workdir / "empty").mkdir()
    bad = snakemake(["--cores", "2", "--configfile", str(REPO / "tests" / "tiny.yaml"), "--config", "data_dir=empty"],
                    workdir, timeout=300)
    assert bad.returncode == 1
    assert [line for line in bad.stderr.splitlines() if line.startswith("config error:")] == [
        line for line in bad.stderr.splitlines() if line.strip()][-1:]
    assert "config error: data_dir:" in bad.stderr and "Traceback" not in bad.stderr
    assert {p: p.stat().st_mtime_ns for p in (workdir / "results").rglob("*") if p.is_file()} == finished
    assert sha256(classifier) == classifier_sum

    # the full profile after a tiny run retrains every run, the float baseline too (its epochs changed)
    full = snakemake(["-n", "--cores", "2", "--config", f"data_dir={data_dir}"], workdir, timeout=300)
    assert full.returncode == 0, full.stderr[-3000:]
    assert planned_runs(full.stdout) == {(d, v) for d in ("fashion_mnist", "anime_faces") for v in ("float", "hardware")}

    changed = yaml.safe_load((REPO / "tests" / "tiny.yaml").read_text())
    changed["dw_activation"]["sweep"]["j_max_A_per_m2"] = 4.0e8
    (workdir / "changed.yaml").write_text(yaml.safe_dump(changed))
    plan = snakemake(["-n", "--cores", "2", "--configfile", "changed.yaml", "--config", f"data_dir={data_dir}"],
                     workdir, timeout=300)
    assert plan.returncode == 0, plan.stderr
    assert planned_jobs(plan.stdout) == {"dw_activation": 1, "tables": 1, "train": 1, "evaluate": 1, **ROBUSTNESS,
                                         **SWEEP, "summary": 1, "all": 1}, plan.stdout[-3000:]
    assert "wildcards: dataset=fashion_mnist, variant=hardware" in plan.stdout

    changed = yaml.safe_load((REPO / "tests" / "tiny.yaml").read_text())
    changed["synapse"]["barrier"]["Ku_increase_J_per_m3"] = 4.0e4
    (workdir / "changed.yaml").write_text(yaml.safe_dump(changed))
    plan = snakemake(["-n", "--cores", "2", "--configfile", "changed.yaml", "--config", f"data_dir={data_dir}"],
                     workdir, timeout=300)
    assert planned_jobs(plan.stdout) == {"synapse_levels": 2, "synapse_update": 1, "skyrmion_synapse": 1,  # tiny: 2 states
                                         "synapse_thermal": 1, "tables": 1, "train": 1,
                                         "evaluate": 1, **ROBUSTNESS, **SWEEP, "summary": 1, "all": 1}, plan.stdout[-3000:]

    # an energy-only device parameter: the DW read voltage (read energy V^2 G t) changes the summary's
    # hardware energy after a rerun of the DW stage and its dependants; the float baseline is untouched
    changed = yaml.safe_load((REPO / "tests" / "tiny.yaml").read_text())
    changed["dw_activation"]["read"] = {"voltage_V": 0.3}
    (workdir / "changed.yaml").write_text(yaml.safe_dump(changed))
    rerun = snakemake(["--cores", "2", "--configfile", "changed.yaml", "--config", f"data_dir={data_dir}"],
                      workdir, timeout=1200)
    assert rerun.returncode == 0, rerun.stderr[-5000:]
    assert planned_jobs(rerun.stdout + rerun.stderr) == {"dw_activation": 1, "tables": 1, "train": 1, "evaluate": 1,
                                                          **ROBUSTNESS, **SWEEP, "summary": 1, "all": 1}, rerun.stdout[-3000:]
    after = pd.read_csv(workdir / "results" / "summary.csv").set_index("variant")
    assert after.loc["hardware", "test_energy_array_and_devices_nJ_per_image"] != pytest.approx(
        hardware["test_energy_array_and_devices_nJ_per_image"])
    assert after.loc["float", "classifier_fd"] == pytest.approx(summary.set_index("variant").loc["float", "classifier_fd"])

    # case 1: more epochs and a retrained classifier in one invocation retrain both runs (the classifier rerun
    # used to mask the changed training setup: exit 0 with generators trained under the old setup)
    run_dir = workdir / "results" / "system" / "fashion_mnist"
    generators = {v: sha256(run_dir / v / "generator.pkl") for v in ("float", "hardware")}
    steps = pd.read_csv(run_dir / "float" / "history.csv")["step"].max()
    (workdir / "e.yaml").write_text("system: {epochs: {fashion_mnist: 2}}\n")
    (workdir / "c.yaml").write_text("system: {metrics: {classifier_epochs: 2}}\n")
    more = ["--configfile", "changed.yaml", "e.yaml", "c.yaml", "--config", f"data_dir={data_dir}"]
    rerun = snakemake(["--cores", "2", *more], workdir, timeout=1200)
    assert rerun.returncode == 0, rerun.stderr[-5000:]
    assert planned_jobs(rerun.stdout + rerun.stderr) == {"classifier": 1, "training_setup": 2, "train": 2,
                                                          "evaluate": 2, **ROBUSTNESS, "summary": 1,
                                                          "sweep_evaluate": 2, "sweep_summary": 1, "fcgan_evaluate": 2, "fcgan_summary": 1,
                                                          "ddpm_evaluate": 3, "ddpm_summary": 1, "all": 1}
    for variant in ("float", "hardware"):
        assert sha256(run_dir / variant / "generator.pkl") != generators[variant]
        assert pd.read_csv(run_dir / variant / "history.csv")["step"].max() == 2 * steps
    assert planned_jobs(snakemake(["-n", "--cores", "2", *more], workdir, timeout=300).stdout) == {}
