"""The device-parameter sweep's config handling and summary (pipeline/sweep.py); its runs are in test_workflow."""

import numpy as np
import pytest

from pipeline import sweep

CONFIG = {"synapse": {"mtj": {"RA_ohm_um2": 1600.0, "TMR": 1.2}, "bits": 6}, "crossbar": {"read_voltage_V": 0.1}}


def test_override_sets_one_nested_key_on_a_copy():
    swept = sweep.override(CONFIG, "synapse.mtj.RA_ohm_um2", 3200.0)
    assert swept["synapse"]["mtj"] == {"RA_ohm_um2": 3200.0, "TMR": 1.2}
    assert CONFIG["synapse"]["mtj"]["RA_ohm_um2"] == 1600.0  # the config itself is untouched
    assert sweep.current_value(CONFIG, "synapse.mtj.RA_ohm_um2") == 1600.0
    assert sweep.section("synapse.mtj.RA_ohm_um2") == "synapse"


@pytest.mark.parametrize("parameter", ["crossbar.read_voltage_V", "synapse", "synapse..TMR", "synapse.mtj",
                                       "synapse.mtj.RA", "synapse.bits.x"])
def test_override_refuses_what_is_not_a_numeric_device_key(parameter):
    with pytest.raises(ValueError, match="sweep.parameter"):
        sweep.override(CONFIG, parameter, 1.0)


def test_value_names_are_the_short_text():
    assert [sweep.value_name(v) for v in (1600.0, 3200, 0.05, 1.0e-9)] == ["1600", "3200", "0.05", "1e-09"]


def test_summary_sorts_marks_the_trained_value_and_converts_to_nJ():
    points = [{"value": v, "classifier_fd": fd, "test_energy_with_periphery_J_per_image": e}
              for v, fd, e in ((6400.0, 30.0, 2e-9), (1600.0, 10.0, 4e-9))]
    frame = sweep.summarise(points, float_fd=8.0, trained_value=1600.0)
    assert list(frame["value"]) == [1600.0, 6400.0]
    assert list(frame["trained_value"]) == [True, False]
    assert np.allclose(frame["fd_over_float"], [1.25, 3.75])
    assert np.allclose(frame["test_energy_with_periphery_nJ_per_image"], [4.0, 2.0])
