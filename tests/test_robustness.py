"""The robustness study: point names, how a point changes the trained hardware, the summary's 10 % point, and one
point evaluated on a tiny trained generator."""
import re

import numpy as np
import pandas as pd
import pytest

from system import robustness
from system.train import train
from tests.test_train import IMAGES, TABLES, config, pixels, tiny_architecture  # noqa: F401 (the 8x8 DCGAN)

SECTION = {"variation_scales": [0, 1, 2, 5, 10], "adc_bits": [4, 8], "thermal": True, "read_time_scales": [1, 0.0015],
           "noiseless": True}


def test_points_and_their_parsing():
    names = robustness.points(SECTION)
    assert names == ["variation_x0", "variation_x1", "variation_x2", "variation_x5", "variation_x10", "adc_4",
                     "adc_8", "thermal_on", "thermal_off", "read_time_x1", "read_time_x0.0015", "noiseless"]
    assert robustness.parse("variation_x2.5") == ("variation", 2.5) and robustness.parse("adc_6") == ("adc", 6.0)
    assert robustness.parse("thermal_off") == ("thermal", 0.0)
    assert robustness.parse("read_time_x0.0015") == ("read", 0.0015)
    assert robustness.parse("noiseless") == ("noiseless", 0.0)
    assert robustness.parse(robustness.points({**SECTION, "read_time_scales": [1e-5], "noiseless": False})[-1]) == (
        "read", 1e-5)
    assert robustness.points({**SECTION, "thermal": False, "read_time_scales": [], "noiseless": False})[-1] == "adc_8"
    with pytest.raises(ValueError, match="robustness point 'adc_x'"):
        robustness.parse("adc_x")
    # the rule's wildcard constraint admits every point and nothing else
    assert all(re.fullmatch(robustness.WILDCARD, name) for name in names + ["read_time_x1e-05"])
    assert not re.fullmatch(robustness.WILDCARD, "adc_x") and not re.fullmatch(robustness.WILDCARD, "thermal_x")
    assert not re.fullmatch(robustness.WILDCARD, "noiseless_x1")


def test_a_point_changes_one_setting_of_the_trained_hardware():
    hardware = {"crossbar": {"variation_scale": 1.0, "adc_bits": 8, "thermal_noise": True, "level_spread": (0.01,),
                             "level_thermal_std": (0.02,), "read_noise": True, "read_time_s": 1e-6}}
    assert robustness.apply(hardware, "variation_x5")["crossbar"]["variation_scale"] == 5.0
    assert robustness.apply(hardware, "adc_4")["crossbar"] == {**hardware["crossbar"], "adc_bits": 4}
    assert robustness.apply(hardware, "thermal_off")["crossbar"]["thermal_noise"] is False
    assert robustness.apply(hardware, "read_time_x0.01")["crossbar"]["read_time_s"] == pytest.approx(1e-8)
    hardware["crossbar"].update(dac_bits=8, ir_drop=True)
    assert robustness.apply(hardware, "noiseless")["crossbar"] == {
        **hardware["crossbar"], "variation_scale": 0.0, "read_noise": False, "thermal_noise": False, "dac_bits": 0,
        "adc_bits": 0}  # the IR drop stays: the weights were trained under it
    assert hardware["crossbar"]["adc_bits"] == 8  # the trained settings are not touched
    bare = {"crossbar": {"variation_scale": 0.0, "adc_bits": 8, "thermal_noise": False, "read_noise": False,
                         "read_time_s": 1e-6}}
    with pytest.raises(ValueError, match="read_noise"):
        robustness.apply(bare, "read_time_x0.1")
    with pytest.raises(ValueError, match="thermal table"):
        robustness.apply(bare, "thermal_on")
    with pytest.raises(ValueError, match="level spreads"):
        robustness.apply(bare, "variation_x2")


def test_summary_names_the_first_point_past_ten_percent():
    rows = [{"point": f"variation_x{s}", "kind": "variation", "value": s, "classifier_fd": fd}
            for s, fd in [(0, 10.0), (1, 10.5), (2, 10.9), (5, 11.5), (10, 20.0)]]
    rows += [{"point": f"adc_{b}", "kind": "adc", "value": b, "classifier_fd": fd}
             for b, fd in [(8, 10.1), (6, 10.4), (5, 10.8), (4, 13.0)]]
    frame, first = robustness.summarise(rows, 10.0)
    assert first == {"adc": "adc_4", "variation": "variation_x5"}
    assert frame.loc[frame["point"] == "variation_x2", "within_margin"].item()
    np.testing.assert_allclose(frame.loc[frame["point"] == "adc_4", "fd_over_float"], 1.3)
    _, none = robustness.summarise(rows[:3], 10.0)
    assert none == {"variation": None}


def test_one_point_on_a_tiny_trained_generator(tmp_path):
    train(config(epochs=1, every=2), "fashion_mnist", "hardware", IMAGES, TABLES, tmp_path, seed=0)
    real = IMAGES[:16, :, :, None].astype(np.float32) / 127.5 - 1.0
    row = robustness.evaluate_point(tmp_path, "adc_4", real, pixels, 16, seed=1)
    assert row["kind"] == "adc" and row["n_samples"] == 16 and np.isfinite(row["classifier_fd"])
    again = robustness.evaluate_point(tmp_path, "adc_4", real, pixels, 16, seed=1)
    assert again["classifier_fd"] == row["classifier_fd"]  # deterministic per seed
    assert robustness.evaluate_point(tmp_path, "variation_x10", real, pixels, 16, seed=1)["classifier_fd"] \
        != row["classifier_fd"]
    noiseless = robustness.evaluate_point(tmp_path, "noiseless", real, pixels, 16, seed=1)
    assert noiseless["kind"] == "noiseless" and noiseless["classifier_fd"] != row["classifier_fd"]


def test_sample_spread_pairs_hardware_with_float_per_seed():
    rows = [{"variant": v, "seed": seed, "classifier_fd": fd, "kid": kid}
            for seed, (f_fd, h_fd, f_kid, h_kid) in {1: (10.0, 11.0, 1.0, 1.5), 2: (12.0, 12.6, 2.0, 2.2)}.items()
            for v, fd, kid in (("float", f_fd, f_kid), ("hardware", h_fd, h_kid))]
    frame, stats = robustness.sample_spread(rows)
    np.testing.assert_allclose(frame["fd_over_float"], [1.1, 1.05])
    np.testing.assert_allclose(frame["kid_over_float"], [1.5, 1.1])
    assert stats["fd_over_float"]["mean"] == pytest.approx(1.075)
    assert stats["fd_over_float"]["std"] == pytest.approx(0.05 / np.sqrt(2))
    assert stats["kid_over_float"]["max"] == pytest.approx(1.5) and stats["seeds"] == [1, 2]
    with pytest.raises(ValueError, match="a float and a hardware row for every seed"):
        robustness.sample_spread(rows[:3])


def test_training_spread_compares_the_variants_means_over_trainings(tmp_path):
    scores = {("float", 0): [(10.0, 1.0), (12.0, 2.0)], ("float", 1): [(9.0, 2.0), (11.0, 2.0)],
              ("hardware", 0): [(12.0, 2.0), (12.0, 3.0)], ("hardware", 1): [(13.0, 2.5), (13.0, 2.5)]}
    rows = [{"variant": variant, "training_seed": seed, "sample_seed": sample_seed, "classifier_fd": fd, "kid": kid}
            for (variant, seed), pairs in scores.items() for sample_seed, (fd, kid) in zip((1, 2), pairs)]
    stats = robustness.training_spread(rows)
    # trainings' means: FD float 11, 10 and hardware 12, 13; KID float 1.5, 2.0 and hardware 2.5, 2.5
    assert stats["float"]["classifier_fd"] == pytest.approx({"mean": 10.5, "std": np.sqrt(0.5)})
    assert stats["hardware"]["kid"] == pytest.approx({"mean": 2.5, "std": 0.0})
    fd, kid = stats["hardware_over_float"]["classifier_fd"], stats["hardware_over_float"]["kid"]
    assert fd["ratio"] == pytest.approx(12.5 / 10.5)
    # standard errors of the means: std / sqrt(2) = 0.5 for both FDs, 0.25 for float's KID, 0 for hardware's
    assert fd["standard_error"] == pytest.approx(12.5 / 10.5 * np.sqrt((0.5 / 12.5) ** 2 + (0.5 / 10.5) ** 2))
    assert kid["ratio"] == pytest.approx(2.5 / 1.75) and kid["standard_error"] == pytest.approx(2.5 / 1.75 * 0.25 / 1.75)
    assert stats["training_seeds"] == [0, 1] and stats["sample_seeds"] == [1, 2]
    assert {"variant": "float", "training_seed": 1, "classifier_fd": 10.0, "kid": 2.0} in stats["trainings"]
    with pytest.raises(ValueError, match="the same"):
        robustness.training_spread([row for row in rows if (row["variant"], row["training_seed"]) != ("hardware", 1)])
    with pytest.raises(ValueError, match="the same"):
        robustness.training_spread([row for row in rows if row["training_seed"] == 0])
    with pytest.raises(ValueError, match="the same"):
        robustness.training_spread(rows[:-1])
    robustness.plot_training_spread(tmp_path / "spread.png", pd.DataFrame(rows), stats)
    assert (tmp_path / "spread.png").stat().st_size > 10_000


def test_evaluate_run_scores_a_run_per_sample_seed(tmp_path):
    train(config(epochs=1, every=2), "fashion_mnist", "hardware", IMAGES, TABLES, tmp_path, seed=0)
    real = IMAGES[:16, :, :, None].astype(np.float32) / 127.5 - 1.0
    one = robustness.evaluate_run(tmp_path, real, pixels, 16, seed=1)
    assert one == robustness.evaluate_run(tmp_path, real, pixels, 16, seed=1)  # deterministic per seed
    assert robustness.evaluate_run(tmp_path, real, pixels, 16, seed=2)["classifier_fd"] != one["classifier_fd"]
    at_point = robustness.evaluate_point(tmp_path, "adc_8", real, pixels, 16, seed=1)
    assert {key: at_point[key] for key in one} == one  # adc_8 is the trained setting
