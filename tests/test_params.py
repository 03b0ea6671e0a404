"""Typed device parameters (devices.params) and the shared physics (devices.physics)."""

import dataclasses
import math

import pytest
import yaml

from devices import constants, dw_activation, synapse
from devices.params import DWActivationParams, SynapseParams
from tests.conftest import REPO

CONFIG = yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def test_the_default_config_builds_both_devices():
    syn = SynapseParams.from_config(CONFIG["synapse"])
    dw = DWActivationParams.from_config(CONFIG["dw_activation"])
    assert syn.n_sites == 63 and syn.material.Ku_J_per_m3 == 0.8e6 and syn.barrier.width_m == 15e-9
    assert syn.update.current_densities_A_per_m2 == (8e11, 1e12, 1.5e12)
    assert dw.device_settings == [("relu", 100.0), ("lrelu", 5.0), ("lrelu", 15.0), ("lrelu", 100.0)]
    assert dw.material.Ku_J_per_m3 is None and dw.anisotropy.Ku_max_J_per_m3 == 4e6
    with pytest.raises(dataclasses.FrozenInstanceError):
        syn.cell_m = 1e-9


def test_optional_keys_take_their_defaults():
    section = {k: v for k, v in CONFIG["synapse"].items() if k != "position_jitter_m"}
    assert SynapseParams.from_config(section).position_jitter_m == 0.0
    anisotropy = {k: v for k, v in CONFIG["dw_activation"]["anisotropy"].items() if k != "Ku_max_J_per_m3"}
    dw = DWActivationParams.from_config({**CONFIG["dw_activation"], "anisotropy": anisotropy})
    assert dw.anisotropy.Ku_max_J_per_m3 == math.inf


@pytest.mark.parametrize("change, message", [
    ({"skyrmion_pitch_m": -4e-8}, r"synapse.skyrmion_pitch_m: must be finite and > 0, got -4e-08"),
    ({"bits": 6.5}, r"synapse.bits: must be an integer, got 6.5"),
    ({"ensemble": True}, r"synapse.ensemble: must be an integer, got True"),
    ({"cell_m": "2 nm"}, r"synapse.cell_m: must be a number, got '2 nm'"),
    ({"material": {**CONFIG["synapse"]["material"], "Ms_A_per_m": math.nan}},
     r"synapse.material.Ms_A_per_m: must be finite and > 0, got nan"),
    ({"material": {k: v for k, v in CONFIG["synapse"]["material"].items() if k != "Ku_J_per_m3"}},
     r"synapse.material.Ku_J_per_m3: missing"),
    ({"update": {**CONFIG["synapse"]["update"], "current_densities_A_per_m2": [4e11, 0.0]}},
     r"synapse.update.current_densities_A_per_m2\[1\]: must be finite and > 0, got 0.0"),
    ({"barrier": None}, r"synapse.barrier: must be a mapping, got None"),
    ({"pitch_m": 1e-8}, r"synapse: unknown key\(s\) \['pitch_m'\]"),
])
def test_bad_synapse_values_name_the_key(change, message):
    with pytest.raises(ValueError, match=message):
        SynapseParams.from_config({**CONFIG["synapse"], **change})


def test_missing_and_bad_dw_values_name_the_key():
    section = {k: v for k, v in CONFIG["dw_activation"].items() if k != "read"}
    with pytest.raises(ValueError, match=r"dw_activation.read: missing"):
        DWActivationParams.from_config(section)
    with pytest.raises(ValueError, match=r"dw_activation.sweep.n_points: must be an integer"):
        DWActivationParams.from_config({**CONFIG["dw_activation"],
                                        "sweep": {**CONFIG["dw_activation"]["sweep"], "n_points": 4.0}})


def test_mu0_and_the_wall_width_of_both_devices():
    assert constants.MU0 == pytest.approx(1.25663706212e-6, rel=1e-9)  # CODATA 2018
    syn = SynapseParams.from_config(CONFIG["synapse"])
    dw = DWActivationParams.from_config(CONFIG["dw_activation"])
    by_hand = math.sqrt(1.5e-11 / (0.8e6 - 4e-7 * math.pi * 5.8e5 ** 2 / 2))  # both: A, Ku (K0), Ms of the config
    assert synapse.wall_width_m(syn) == by_hand and dw_activation.wall_width_m(dw) == by_hand
