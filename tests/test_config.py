"""Config validation: the schema accepts the shipped profiles and rejects bad input with one line naming the key."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, copy_workflow, snakemake
from workflow.config_check import ConfigError, merge, validate


def load(name: str) -> dict:
    return yaml.safe_load((REPO / "config" / name).read_text())


@pytest.fixture
def config(data_dir) -> dict:
    return {**load("config.yaml"), "data_dir": str(data_dir)}


# config/config.yaml alone, and every shipped profile over it
PROFILES = [None, *sorted(str(p.relative_to(REPO)) for p in (REPO / "config").glob("*.yaml") if p.name != "config.yaml"),
            "tests/tiny.yaml"]


@pytest.mark.parametrize("profile", PROFILES, ids=[p or "config/config.yaml" for p in PROFILES])
def test_shipped_profiles_are_valid(config, profile):
    validate(config if profile is None else merge(config, yaml.safe_load((REPO / profile).read_text())))


def test_the_profiles_that_must_validate_are_there():
    assert {"config/quick.yaml", "config/quick_system.yaml", "tests/tiny.yaml"} <= set(PROFILES)


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
    # rram: the model's ranges (devices.rram.check_params), the read voltage, the RRAM tile's design rule
    ({"rram": {"g_low_S": 1.0e-4, "g_high_S": 3.0e-5}}, "rram.g_low_S"),
    ({"rram": {"g_high_S": 1.0e-3}}, "rram.g_high_S"),
    ({"rram": {"set_pulse": {"amplitude_V": 3.0}}}, "rram.set_pulse.amplitude_V"),
    ({"rram": {"reset_pulse": {"duration_s": 1.0}}}, "rram.reset_pulse.duration_s"),
    ({"rram": {"temperature_C": -10.0}}, "rram.temperature_C"),
    ({"rram": {"tile_rows": 128}}, "rram.tile_rows"),
    ({"rram": {"populaton": 10}}, "rram.populaton"),
    ({"crossbar": {"read_voltage_V": 0.5}}, "crossbar.read_voltage_V"),
    # vcma_mtj: two wells at rest, an increasing sweep, a step fine against the pulse
    ({"vcma_mtj": {"t_free_m": 1.6e-9}}, "vcma_mtj.t_free_m"),
    ({"vcma_mtj": {"bias_field_A_per_m": 9.0e4}}, "vcma_mtj.bias_field_A_per_m"),
    ({"vcma_mtj": {"sweep": {"amplitudes_V": [1.2, 1.0, 1.4]}}}, "vcma_mtj.sweep.amplitudes_V"),
    ({"vcma_mtj": {"sweep": {"time_step_s": 1.0e-10}}}, "vcma_mtj.sweep.time_step_s"),
    ({"vcma_mtj": {"alpha": 0}}, "vcma_mtj.alpha"),
    # synapse_thermal and the crossbar's non-idealities
    ({"synapse_thermal": {"proxy_bits": 7}}, "synapse_thermal.proxy_bits"),
    ({"synapse": {"bits": 2}, "synapse_thermal": {"proxy_bits": 3}}, "synapse_thermal.proxy_bits"),
    ({"synapse_thermal": {"sample_every_s": 1.0e-15}}, "synapse_thermal.sample_every_s"),
    ({"system": {"crossbar": {"read_noise": "yes"}}}, "system.crossbar.read_noise"),
    ({"crossbar": {"temperature_K": 0}}, "crossbar.temperature_K"),
    ({"system": {"data_parallel_devices": 3}}, "system.data_parallel_devices"),
    # robustness: the schema, the dataset, a thermal study of a run trained without thermal noise, the samples
    ({"robustness": {"adc_bits": [1]}}, "robustness.adc_bits.0"),
    ({"system": {"crossbar": {"thermal_noise": False}}}, "robustness.thermal"),
    ({"robustness": {"n_samples": 20000}}, "robustness.n_samples"),
    ({"robustness": {"training_seeds": [1, 1]}}, "robustness.training_seeds"),
    ({"robustness": {"training_seeds": [0, 1]}}, "robustness.training_seeds"),  # 0 is `seed`: the main runs
    # sweep: the key, each value through the device checks (here the crossbar design rule), the run, the samples
    ({"sweep": {"parameter": "synapse.mtj.RA", "values": [1.0]}}, "sweep.parameter"),
    ({"sweep": {"parameter": "crossbar.read_voltage_V", "values": [0.1]}}, "sweep.parameter"),
    ({"sweep": {"parameter": "synapse.mtj", "values": [0.1]}}, "sweep.parameter"),
    ({"sweep": {"values": [1600.0, 100.0]}}, "sweep.values"),
    ({"sweep": {"values": ["1600"]}}, "sweep.values.0"),
    ({"system": {"datasets": ["fashion_mnist"]}, "sweep": {"values": [1600.0], "dataset": "anime_faces"}},
     "sweep.dataset"),
    ({"sweep": {"values": [1600.0], "n_samples": 20000}}, "sweep.n_samples"),
    # ddpm: the schema, then the schedule and the images
    ({"ddpm": {"runs": ["software", "pseudo"]}}, "ddpm.runs.1"),
    ({"ddpm": {"channels": 12}}, "ddpm.channels"),
    ({"ddpm": {"sample_steps": 2000}}, "ddpm.sample_steps"),
    ({"ddpm": {"beta_start": 0.05}}, "ddpm.beta_start"),
    ({"ddpm": {"n_samples": 20000}}, "ddpm.n_samples"),
    # fcgan: the schema, then batch and samples against the Fashion-MNIST images
    ({"fcgan": {"runs": ["float/gaussian", "hardware/crossbar"]}}, "fcgan.runs.1"),
    ({"fcgan": {"runs": ["insitu/crossbar", "insitu/crossbar"]}}, "fcgan.runs"),
    ({"fcgan": {"adc_bits": 1}}, "fcgan.adc_bits"),
    ({"fcgan": {"noise_source": {"adc_bits": 1}}}, "fcgan.noise_source.adc_bits"),
    ({"fcgan": {"noise_source": {"calibration_reads": 1}}}, "fcgan.noise_source.calibration_reads"),
    ({"fcgan": {"checkpoint_every_steps": 0}}, "fcgan.checkpoint_every_steps"),
    ({"fcgan": {"runs": ["insitu/poisson"]}}, "fcgan.runs.0"),
    ({"fcgan": {"hidden": [256, 0]}}, "fcgan.hidden.1"),
    ({"fcgan": {"n_samples": 20000}}, "fcgan.n_samples"),
    ({"fcgan": {"max_train_images": 100, "batch_size": 128}}, "fcgan.batch_size"),
]


@pytest.mark.parametrize("override,key", BAD, ids=[k for _, k in BAD])
def test_bad_config_names_the_key(config, override, key):
    with pytest.raises(ConfigError) as error:
        validate(merge(config, override))
    message = str(error.value)
    assert message.startswith(key + ":"), message
    assert "\n" not in message


def test_rram_tile_rule_names_the_largest_tile_that_holds(config):
    """At the model's top conductance (316 uS), 200 nm pitch and the full profile's wire, 47 rows drop 0.099 of
    V_read and 48 rows 0.104: the message for a tile that breaks the rule names 47."""
    validate(merge(config, {"rram": {"tile_rows": 47}}))
    with pytest.raises(ConfigError, match=r"^rram\.tile_rows: .* the largest tile that holds is 47 x 47$"):
        validate(merge(config, {"rram": {"tile_rows": 48}}))


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


# ---------------------------------------------------------------- the bad-input matrix through envs/reproduce.sh

# (case id, extra command-line words ({data} is the data directory), files to write first, key or file named)
CLI_CASES = [
    ("missing configfile", ["--configfile", "config/doesnotexist.yaml"], {}, "config/doesnotexist.yaml"),
    ("yaml syntax", ["--configfile", "broken.yaml"], {"broken.yaml": "system:\n  epochs: {fashion_mnist: 2\n"},
     "broken.yaml:3"),
    ("duplicate key", ["--configfile", "twice.yaml"], {"twice.yaml": "seed: 1\nseed: 2\n"}, "twice.yaml:2"),
    ("not a mapping", ["--configfile", "list.yaml"], {"list.yaml": "- seed\n- 1\n"}, "list.yaml"),
    ("missing data_dir", ["--config", "data_dir=/no/such/folder"], {}, "data_dir"),
    ("empty data_dir", ["--config", "data_dir=empty"], {"empty/.keep": ""}, "data_dir"),
    ("corrupt dataset file", ["--config", "data_dir=corrupt"], {"corrupt/fashion-mnist/t10k-labels-idx1-ubyte.gz": "x"},
     "data_dir"),
    ("target after --config", ["--config", "seed=1", "results/summary.csv"], {}, "--config"),
    ("unknown top-level key", ["--config", "data_dri=x"], {}, "data_dri"),
    ("engine", ["--config", "engine=warp"], {}, "engine"),
    ("nan learning rate", ["--configfile", "o.yaml"], {"o.yaml": "system: {learning_rate: .nan}\n"},
     "system.learning_rate"),
    ("inf pitch", ["--configfile", "o.yaml"], {"o.yaml": "synapse: {skyrmion_pitch_m: .inf}\n"},
     "synapse.skyrmion_pitch_m"),
    ("nan in a list", ["--configfile", "o.yaml"], {"o.yaml": "dw_activation: {lrelu_curvature_ratios: [5.0, .nan]}\n"},
     "dw_activation.lrelu_curvature_ratios.1"),
    ("-inf energy", ["--configfile", "o.yaml"],
     {"o.yaml": "system: {energy: {adc_fom_J_per_conversion_step: -.inf}}\n"},
     "system.energy.adc_fom_J_per_conversion_step"),
    ("1-bit DAC", ["--configfile", "o.yaml"], {"o.yaml": "system: {crossbar: {dac_bits: 1}}\n"},
     "system.crossbar.dac_bits"),
    ("1-bit ADC", ["--configfile", "o.yaml"], {"o.yaml": "system: {crossbar: {adc_bits: 1}}\n"},
     "system.crossbar.adc_bits"),
    ("readout breaks the design rule", ["--configfile", "o.yaml"], {"o.yaml": "synapse: {mtj: {RA_ohm_um2: 5.0}}\n"},
     "synapse.mtj.RA_ohm_um2"),
    ("tile breaks the design rule", ["--configfile", "o.yaml"], {"o.yaml": "crossbar: {tile_rows: 512}\n"},
     "synapse.mtj.RA_ohm_um2"),
    ("pinning disks merge", ["--configfile", "o.yaml"], {"o.yaml": "synapse: {pinning: {radius_m: 2.5e-8}}\n"},
     "synapse.pinning.radius_m"),
    ("batch above the images", ["--configfile", "config/quick.yaml", "o.yaml"], {"o.yaml": "system: {batch_size: 20000}\n"},
     "system.batch_size"),
    ("negative batch", ["--configfile", "o.yaml"], {"o.yaml": "system: {batch_size: -5}\n"}, "system.batch_size"),
    ("bits as text", ["--configfile", "o.yaml"], {"o.yaml": "synapse: {bits: six}\n"}, "synapse.bits"),
    ("misspelt nested key", ["--configfile", "o.yaml"], {"o.yaml": "dw_activation: {sweep: {n_pointz: 41}}\n"},
     "dw_activation.sweep.n_pointz"),
    ("number as text", ["--configfile", "o.yaml"], {"o.yaml": "synapse: {material: {Ms_A_per_m: 5.8e5}}\n"},
     "synapse.material.Ms_A_per_m"),
    ("unknown dataset", ["--configfile", "o.yaml"], {"o.yaml": "system: {datasets: [mnist]}\n"}, "system.datasets.0"),
    ("unknown variant", ["--configfile", "o.yaml"], {"o.yaml": "system: {variants: [quantum]}\n"},
     "system.variants.0"),
    ("fractional seed", ["--config", "seed=1.5"], {}, "seed"),
    ("network ratio not swept", ["--configfile", "o.yaml"],
     {"o.yaml": "dw_activation: {network_lrelu_curvature_ratio: 7.0}\n"}, "dw_activation.network_lrelu_curvature_ratio"),
    ("zero cell", ["--configfile", "o.yaml"], {"o.yaml": "synapse: {cell_m: 0.0}\n"}, "synapse.cell_m"),
    ("cell above pitch", ["--configfile", "o.yaml"], {"o.yaml": "synapse: {cell_m: 5.0e-8}\n"}, "synapse.cell_m"),
    ("barrier above pitch", ["--configfile", "o.yaml"], {"o.yaml": "synapse: {barrier: {width_m: 5.0e-8}}\n"},
     "synapse.barrier.width_m"),
    ("jitter above half pitch", ["--configfile", "o.yaml"], {"o.yaml": "synapse: {position_jitter_m: 2.5e-8}\n"},
     "synapse.position_jitter_m"),
    ("x0 off the track", ["--configfile", "o.yaml"], {"o.yaml": "dw_activation: {anisotropy: {x0_m: 3.0e-7}}\n"},
     "dw_activation.anisotropy.x0_m"),
    ("ReLU MTJ off the track", ["--configfile", "o.yaml"], {"o.yaml": "dw_activation: {relu_mtj_offset_m: 2.0e-7}\n"},
     "dw_activation.relu_mtj_offset_m"),
    ("more samples than test images", ["--configfile", "o.yaml"], {"o.yaml": "system: {metrics: {n_samples: 20000}}\n"},
     "system.metrics.n_samples"),
    ("more classifier images than exist", ["--configfile", "o.yaml"],
     {"o.yaml": "system: {metrics: {classifier_train_images: 70000}}\n"}, "system.metrics.classifier_train_images"),
    ("absent Inception weights", ["--configfile", "o.yaml"],
     {"o.yaml": "system: {metrics: {inception_weights: /no/such/weights.pth}}\n"}, "system.metrics.inception_weights"),
    ("RRAM tile breaks the design rule", ["--configfile", "o.yaml"], {"o.yaml": "rram: {tile_rows: 128}\n"},
     "rram.tile_rows"),
    ("RRAM window inverted", ["--configfile", "o.yaml"], {"o.yaml": "rram: {g_low_S: 1.0e-4, g_high_S: 3.0e-5}\n"},
     "rram.g_low_S"),
    ("RRAM pulse outside the model", ["--configfile", "o.yaml"], {"o.yaml": "rram: {set_pulse: {amplitude_V: 3.0}}\n"},
     "rram.set_pulse.amplitude_V"),
    ("unknown FC-GAN run", ["--configfile", "config/quick.yaml", "o.yaml"],
     {"o.yaml": "fcgan: {runs: [float/gaussian, hardware/crossbar]}\n"}, "fcgan.runs.1"),
]
FINISHED = Path("results/system/fashion_mnist/classifier/classifier.pkl")


@pytest.fixture(scope="module")
def cli_dir(tmp_path_factory) -> Path:
    """A copy of the repository's workflow with its environment linked in and one finished output."""
    root = copy_workflow(tmp_path_factory.mktemp("cli"))
    (root / ".venv").symlink_to(Path(sys.prefix))
    (root / FINISHED).parent.mkdir(parents=True)
    (root / FINISHED).write_bytes(b"a finished classifier")
    return root


@pytest.mark.parametrize("words,files,named", [c[1:] for c in CLI_CASES], ids=[c[0] for c in CLI_CASES])
def test_reproduce_stops_bad_input_with_one_line(cli_dir, data_dir, words, files, named):
    for name, text in files.items():
        (cli_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (cli_dir / name).write_text(text)
    before = sorted(p for p in (cli_dir / "results").rglob("*"))
    if not any(w.startswith("data_dir=") for w in words):  # --config takes every KEY=VALUE after it
        words = [*words, f"data_dir={data_dir}"] if "--config" in words else [*words, "--config", f"data_dir={data_dir}"]
    # -n: a case the check missed plans instead of running for hours (the check is the same either way)
    run = subprocess.run(["bash", "envs/reproduce.sh", "-n", *words], cwd=cli_dir, capture_output=True, text=True,
                         timeout=120, env={**os.environ, "CORES": "1"})
    lines = [line for line in (run.stdout + run.stderr).splitlines() if line.strip()]
    assert run.returncode == 1, run.stdout + run.stderr
    assert len(lines) == 1 and lines[0].startswith(f"config error: {named}"), lines
    assert "Traceback" not in run.stderr
    assert sorted(p for p in (cli_dir / "results").rglob("*")) == before  # nothing written, nothing deleted
    assert (cli_dir / FINISHED).read_bytes() == b"a finished classifier"
    assert not (cli_dir / ".snakemake").exists()  # Snakemake never started


def test_the_matrix_has_25_cases():
    assert len(CLI_CASES) >= 25
