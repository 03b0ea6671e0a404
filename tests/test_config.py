"""Config validation: the schema accepts the shipped profiles and rejects bad input with one line naming the key."""

import copy

import pytest
import yaml

from tests.conftest import REPO, snakemake
from workflow.config_check import ConfigError, validate


def load(name: str) -> dict:
    return yaml.safe_load((REPO / "config" / name).read_text())


def merged(base: dict, override: dict) -> dict:
    """Key-by-key merge, as Snakemake merges --configfile over the default config."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


@pytest.fixture
def config(data_dir) -> dict:
    return {**load("config.yaml"), "data_dir": str(data_dir)}


def test_shipped_profiles_are_valid(config):
    validate(config)
    validate(merged(config, load("quick.yaml")))
    validate(merged(config, load("quick_system.yaml")))


# (override, key named in the message)
BAD = [
    ({"engine": "warp"}, "engine"),
    ({"system": {"batch_size": -5}}, "system.batch_size"),
    ({"synapse": {"bits": "six"}}, "synapse.bits"),
    ({"dw_activation": {"sweep": {"n_pointz": 41}}}, "dw_activation.sweep.n_pointz"),
    ({"data_dir": "/no/such/folder", "download": False}, "data_dir"),
    ({"synapse": {"material": {"Ms_A_per_m": "5.8e5"}}}, "synapse.material.Ms_A_per_m"),
    ({"system": {"datasets": ["mnist"]}}, "system.datasets.0"),
    ({"seed": 1.5}, "seed"),
    ({"dw_activation": {"network_lrelu_curvature_ratio": 7.0}}, "dw_activation.network_lrelu_curvature_ratio"),
    ({"synapse": {"cell_m": 0}}, "synapse.cell_m"),
]


@pytest.mark.parametrize("override,key", BAD, ids=[k for _, k in BAD])
def test_bad_config_names_the_key(config, override, key):
    with pytest.raises(ConfigError) as error:
        validate(merged(config, override))
    message = str(error.value)
    assert message.startswith(key + ":"), message
    assert "\n" not in message


@pytest.mark.parametrize("override,key", BAD[:6], ids=[k for _, k in BAD[:6]])
def test_cli_stops_before_any_job_with_one_line(workdir, data_dir, override, key):
    bad = workdir / "bad.yaml"
    bad.write_text(yaml.safe_dump({"data_dir": str(data_dir), **override}))
    run = snakemake(["-n", "--cores", "1", "--configfile", str(bad)], workdir, timeout=120)
    assert run.returncode != 0
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("config error:")]
    assert len(errors) == 1 and errors[0].startswith(f"config error: {key}:"), run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    assert not (workdir / "results").exists()


def test_cli_rejects_oommf_engine_where_oommf_is_absent(workdir, data_dir):
    from devices.engine import available_engines
    if "oommf" in available_engines():
        pytest.skip("OOMMF is installed here")
    run = snakemake(["-n", "--cores", "1", "--config", f"data_dir={data_dir}", "engine=oommf"], workdir, timeout=120)
    assert run.returncode != 0
    assert [line for line in run.stderr.splitlines() if line.strip()][-1].startswith("config error: engine:")
    assert "Traceback" not in run.stderr
