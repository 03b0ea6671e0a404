"""Every input of the workflow checked before any job starts: config files, keys, values, data.

Every problem becomes one line naming the key or the file, so that bad input stops the run before any
job starts (and before Snakemake touches any output), without a traceback:
`config error: system.batch_size: -5 is less than the minimum of 1`.

Checks, in order: the config files (present, YAML, a mapping, no key twice; file and line named), the
schema (workflow/schemas/config.schema.yaml), non-finite numbers anywhere, the device parameters as the stages
build them and their cross-field rules (the crossbar design rule of the synapse and of the RRAM tile, the RRAM
model's ranges and read voltage), the data directory and its dataset files (MD5 sums; Fashion-MNIST is
downloaded only with `download: true`), the networks' batches and samples against the images there are, the
Inception weights when a path is given, and the engine.

As a command it checks the config a Snakemake command line would build, e.g. (envs/reproduce.sh does this)
    python workflow/config_check.py --configfile config/quick.yaml --config data_dir=../shared/data
"""

from __future__ import annotations

import dataclasses
import gzip
import math
import sys
from pathlib import Path

import jsonschema
import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run as a script too
from devices import crossbar, mtj, rram, synapse, vcma  # noqa: E402
from pipeline import sweep  # noqa: E402
from devices.params import (CrossbarParams, DWActivationParams, RRAMParams, SynapseParams,  # noqa: E402
                            SynapseThermalParams, VCMAMTJParams)

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
DEFAULT_CONFIG = Path("config") / "config.yaml"  # the Snakefile's configfile, relative to the working directory


class ConfigError(Exception):
    """A problem with the workflow's input; str() is one line that names the key or the file."""


# ---------------------------------------------------------------- config files


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader that refuses a key given twice in one mapping (YAML keeps the last, silently)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"key {key!r} given twice", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


def read_config_file(path) -> dict:
    """The mapping in a YAML (or JSON) config file; ConfigError naming the file (and line) otherwise."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such config file")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ConfigError(f"{where}: not valid YAML ({error.problem or error.context})") from None
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid YAML ({error})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: holds {type(data).__name__}, not a mapping of config keys")
    return data


def merge(base: dict, override: dict) -> dict:
    """base with override merged in key by key, as Snakemake merges --configfile and --config (a new dict)."""
    out = dict(base)
    for key, value in override.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def config_from_command_line(argv: list[str]) -> dict | None:
    """The config a Snakemake command line builds: config/config.yaml, each --configfile over it, then
    --config. None when the line is not one Snakemake parses (Snakemake then says what is wrong)."""
    from snakemake.cli import get_argument_parser, parse_config

    try:
        args, _ = get_argument_parser().parse_known_args(argv)
    except SystemExit:
        return None
    try:
        overrides = parse_config(args.config)
    except ValueError as error:
        raise ConfigError(f"--config: {str(error).split(': ', 1)[-1]}") from None
    config = read_config_file(DEFAULT_CONFIG)
    for path in args.configfile or []:
        config = merge(config, read_config_file(path))
    return merge(config, overrides)


# ---------------------------------------------------------------- keys and values


def _key(path) -> str:
    """Dotted key of a path: ('system', 'epochs', 'x') -> 'system.epochs.x'."""
    return ".".join(str(p) for p in path) or "(top level)"


def _line(error: jsonschema.ValidationError) -> str:
    """One line for one schema violation, naming the offending key."""
    path = list(error.absolute_path)
    if error.validator == "additionalProperties":
        unknown = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return f"{_key(path + unknown[:1])}: unknown key"
    if error.validator == "required":
        missing = error.message.split("'")[1]
        return f"{_key(path + [missing])}: required key is missing"
    if error.validator == "not" and "description" in error.schema:  # e.g. converter bits: 1 is refused
        return f"{_key(path)}: {error.instance!r} is not allowed: {error.schema['description']}"
    if error.validator == "enum":
        allowed = ", ".join(map(str, error.validator_value))
        return f"{_key(path)}: {error.instance!r} is not one of {allowed}"
    if error.validator == "type" and isinstance(error.instance, str) and error.validator_value in ("number", "integer"):
        return (f"{_key(path)}: {error.instance!r} is a string, expected {error.validator_value}"
                " (YAML reads 1e5 as text: write 1.0e+5)")
    return f"{_key(path)}: {error.message}"


def _non_finite(value, path=()) -> tuple | None:
    """Path of the first NaN or infinity in a nested config value, else None."""
    if isinstance(value, float) and not math.isfinite(value):
        return path
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found = _non_finite(item, (*path, key))
        if found is not None:
            return found
    return None


def check_values(config: dict) -> None:
    """The schema, then finiteness of every number (jsonschema lets NaN and +inf through its bounds)."""
    schema = yaml.safe_load(SCHEMA.read_text())
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if errors:
        raise ConfigError(_line(errors[0]))
    bad = _non_finite(config)
    if bad is not None:
        value = config
        for part in bad:
            value = value[part]
        raise ConfigError(f"{_key(bad)}: {value} is not a finite number")


def check_devices(config: dict) -> None:
    """The device parameters as the stages build them (devices.params), then cross-field rules of the device
    sections: geometry that the device stages could not build, the synapse's crossbar design rule, and the rram
    section's (check_rram)."""
    built = {}
    for section, params in (("synapse", SynapseParams), ("crossbar", CrossbarParams),
                            ("dw_activation", DWActivationParams), ("rram", RRAMParams),
                            ("vcma_mtj", VCMAMTJParams), ("synapse_thermal", SynapseThermalParams)):
        try:
            built[section] = params.from_config(config[section])
        except ValueError as error:
            raise ConfigError(str(error)) from None
    syn, dw = config["synapse"], config["dw_activation"]
    pitch = syn["skyrmion_pitch_m"]
    if syn["cell_m"] >= pitch:
        raise ConfigError(f"synapse.cell_m: {syn['cell_m']:g} m is not below skyrmion_pitch_m ({pitch:g} m)")
    if syn["barrier"]["width_m"] >= pitch:
        raise ConfigError(f"synapse.barrier.width_m: {syn['barrier']['width_m']:g} m is not below skyrmion_pitch_m "
                          f"({pitch:g} m): the strip would cover the sites half a pitch from the boundary")
    if syn.get("position_jitter_m", 0.0) >= pitch / 2:
        raise ConfigError(f"synapse.position_jitter_m: {syn['position_jitter_m']:g} m is not below half the "
                          f"skyrmion pitch ({pitch / 2:g} m)")
    if not syn["pinning"]["radius_m"] < pitch / 2:
        raise ConfigError(f"synapse.pinning.radius_m: {syn['pinning']['radius_m']:g} m is not below half the "
                          f"skyrmion pitch ({pitch / 2:g} m): neighbouring pinning disks would merge")
    if not syn["mtj"]["pillar_radius_m"] <= pitch / 2:
        raise ConfigError(f"synapse.mtj.pillar_radius_m: {syn['mtj']['pillar_radius_m']:g} m is above half the "
                          f"skyrmion pitch ({pitch / 2:g} m): neighbouring pillars would overlap")
    geom = synapse.geometry(built["synapse"])
    g_p = mtj.parallel_state_conductance_S(geom.mtj_area_m2, syn["mtj"]["RA_ohm_um2"])
    try:  # every level's conductance is below the parallel state's (level 0 within 1e-4 of it)
        crossbar.check(built["crossbar"], g_p, geom.length_m, geom.mtj_area_m2, what="G_P (all parallel)")
    except crossbar.DesignRuleError as error:
        raise ConfigError(str(error)) from None
    track, x0 = dw["track"], dw["anisotropy"]["x0_m"]
    if dw["cell_m"] >= min(track["width_m"], track["length_m"]):
        raise ConfigError(f"dw_activation.cell_m: {dw['cell_m']:g} m is not below the track's width and length")
    if not x0 < track["length_m"]:
        raise ConfigError(f"dw_activation.anisotropy.x0_m: {x0:g} m is not inside the track "
                          f"(length_m {track['length_m']:g} m)")
    if not x0 + dw["relu_mtj_offset_m"] < track["length_m"]:
        raise ConfigError(f"dw_activation.relu_mtj_offset_m: x0_m + {dw['relu_mtj_offset_m']:g} m lies past the "
                          f"track's end ({track['length_m']:g} m): the ReLU MTJ would cover nothing")
    proxy_bits = config["synapse_thermal"]["proxy_bits"]
    if proxy_bits > syn["bits"]:
        raise ConfigError(f"synapse_thermal.proxy_bits: {proxy_bits} is more than synapse.bits ({syn['bits']}): the "
                          "proxy stands for a part of the device")
    ratio = dw["network_lrelu_curvature_ratio"]
    if ratio not in dw["lrelu_curvature_ratios"]:
        raise ConfigError(f"dw_activation.network_lrelu_curvature_ratio: {ratio} is not in lrelu_curvature_ratios")
    check_rram(built["rram"], built["crossbar"])
    check_vcma(built["vcma_mtj"])


def check_vcma(params: VCMAMTJParams) -> None:
    """The VCMA free layer must be perpendicular at rest with its anisotropy field above the bias field (two wells)."""
    spin = vcma.Macrospin.from_params(params)
    if not spin.hk0_A_per_m > 0:
        raise ConfigError(f"vcma_mtj.t_free_m: a {params.t_free_m:g} m free layer is in-plane at rest (K_eff "
                          f"{spin.k_eff_J_per_m3(0.0):.3g} J/m^3 <= 0): the interface anisotropy does not beat the shape")
    if not params.bias_field_A_per_m < spin.hk0_A_per_m:
        raise ConfigError(f"vcma_mtj.bias_field_A_per_m: {params.bias_field_A_per_m:g} A/m is not below the free layer's "
                          f"anisotropy field at rest ({spin.hk0_A_per_m:.4g} A/m): no two states to switch between")
    amplitudes = params.sweep.amplitudes_V
    if any(b <= a for a, b in zip(amplitudes, amplitudes[1:])):
        raise ConfigError(f"vcma_mtj.sweep.amplitudes_V: {list(amplitudes)} is not increasing")
    if not params.sweep.time_step_s <= params.sweep.pulse_width_s / 20:
        raise ConfigError(f"vcma_mtj.sweep.time_step_s: {params.sweep.time_step_s:g} s is above a twentieth of the "
                          f"pulse width ({params.sweep.pulse_width_s:g} s)")


def largest_rram_tile(tile: CrossbarParams, G_max_S: float, cell_pitch_m: float) -> int:
    """The largest N for which an N x N tile (tile's wire and bound) keeps the design rule at G_max_S; 0 if none."""
    r = crossbar.wire_resistance_per_cell_ohm(tile, cell_pitch_m)
    n = int((math.sqrt(1.0 + 8.0 * tile.max_ir_drop_fraction / (r * G_max_S)) - 1.0) / 2.0) + 1  # N (N + 1) / 2 bound
    while n > 0 and not crossbar.design_rule(dataclasses.replace(tile, tile_rows=n, tile_columns=n), G_max_S,
                                             cell_pitch_m)["holds"]:
        n -= 1  # the closed form may overshoot by rounding; the rule itself decides
    return n


def check_rram(params: RRAMParams, crossbar_params: CrossbarParams) -> None:
    """The rram section against the model's ranges (devices.rram.check_params), the read voltage against the
    model's read range, and the RRAM tile against the crossbar design rule at the model window's top conductance
    (any device may be programmed up to it)."""
    try:
        rram.check_params(params)
    except ValueError as error:
        raise ConfigError(str(error)) from None
    v_read = crossbar_params.read_voltage_V
    if not v_read <= rram.READ_RANGE_V:
        raise ConfigError(f"crossbar.read_voltage_V: {v_read:g} V is above the RRAM model's read range of "
                          f"{rram.READ_RANGE_V:g} V (devices/rram.py READ_RANGE_V); the RRAM crossbars read at it too")
    n = params.tile_rows
    tile = dataclasses.replace(crossbar_params, tile_rows=n, tile_columns=n)
    g_top = rram.MODEL_WINDOW_S[1]
    figures = crossbar.design_rule(tile, g_top, params.cell_pitch_m)
    if not figures["holds"]:
        largest = largest_rram_tile(tile, g_top, params.cell_pitch_m)
        raise ConfigError(
            f"rram.tile_rows: a {n} x {n} RRAM tile breaks the crossbar design rule: a device at the model's top "
            f"conductance {g_top * 1e6:.4g} uS drops {figures['ir_drop_fraction']:.3g} of V_read along a {n}-cell line "
            f"(crossbar.max_ir_drop_fraction {tile.max_ir_drop_fraction:g}, wire "
            f"{figures['wire_resistance_per_cell_ohm']:.3g} ohm per cell at rram.cell_pitch_m "
            f"{params.cell_pitch_m:g} m); the largest tile that holds is {largest} x {largest}")


# ---------------------------------------------------------------- data


def _fashion_mnist_count(path: Path) -> int:
    """Number of items in an IDX .gz file, from its header."""
    with gzip.open(path, "rb") as f:
        return int.from_bytes(f.read(8)[4:8], "big")


def check_data(config: dict, base_dir: Path) -> tuple[dict[str, int], dict[str, int]]:
    """Dataset files present and intact (downloaded when asked); (training, test) images per dataset. Anime
    Face has no test split: its metrics compare with its own images."""
    from system import data

    data_dir = Path(base_dir) / config["data_dir"]
    download = config.get("download", False)
    if not data_dir.is_dir() and not download:
        raise ConfigError(f"data_dir: {config['data_dir']!r} is not a directory "
                          "(point data_dir at the folder holding fashion-mnist/, or add --config download=true)")
    try:  # the classifier is always trained on Fashion-MNIST
        files = data.fashion_mnist_files(data_dir, download)
    except data.DataError as error:
        raise ConfigError(f"data_dir: {error}") from None
    train = {"fashion_mnist": _fashion_mnist_count(files["train-images-idx3-ubyte.gz"])}
    test = {"fashion_mnist": _fashion_mnist_count(files["t10k-images-idx3-ubyte.gz"])}
    if "anime_faces" in config["system"]["datasets"]:
        try:
            train["anime_faces"] = test["anime_faces"] = data.count_anime_faces(data_dir)
        except data.DataError as error:
            raise ConfigError(f"data_dir: {error}") from None
    return train, test


def check_system(config: dict, train_images: dict[str, int], test_images: dict[str, int]) -> None:
    """Cross-field rules of the networks (system, fcgan, ddpm): each dataset's epochs, batches and samples against
    the images there are; the DDPM's schedule."""
    system = config["system"]
    for dataset in system["datasets"]:
        if dataset not in system["epochs"]:
            raise ConfigError(f"system.epochs.{dataset}: required for a dataset in system.datasets")
        n = min(train_images[dataset], system.get("max_train_images") or train_images[dataset])
        if system["batch_size"] > n:
            raise ConfigError(f"system.batch_size: {system['batch_size']} is more than the {n} training images of "
                              f"{dataset} (max_train_images {system.get('max_train_images', 0)})")
    devices = system["data_parallel_devices"]
    if system["batch_size"] % devices:
        raise ConfigError(f"system.data_parallel_devices: the batch of {system['batch_size']} does not split over "
                          f"{devices} devices")
    study = config["robustness"]
    if config["seed"] in study["training_seeds"]:
        raise ConfigError(f"robustness.training_seeds: {config['seed']} is the seed of the main runs (`seed`); the "
                          "list names the other trainings")
    if {"float", "hardware"} <= set(system["variants"]) and study["dataset"] in system["datasets"]:
        if study["thermal"] and not system["crossbar"]["thermal_noise"]:
            raise ConfigError("robustness.thermal: true needs system.crossbar.thermal_noise true (the thermal points "
                              "switch the trained run's thermal noise)")
        if study["read_time_scales"] and not system["crossbar"]["read_noise"]:
            raise ConfigError("robustness.read_time_scales: needs system.crossbar.read_noise true (the points scale the "
                              "trained run's read time, whose noise is off)")
        if study["n_samples"] > test_images[study["dataset"]]:
            raise ConfigError(f"robustness.n_samples: {study['n_samples']} is more than the "
                              f"{test_images[study['dataset']]} test images of {study['dataset']}")
    metrics = system["metrics"]
    for dataset in system["datasets"]:
        if metrics["n_samples"] > test_images[dataset]:
            raise ConfigError(f"system.metrics.n_samples: {metrics['n_samples']} is more than the "
                              f"{test_images[dataset]} real images of {dataset} it is compared with")
    if metrics.get("classifier_train_images", 0) > train_images["fashion_mnist"]:
        raise ConfigError(f"system.metrics.classifier_train_images: {metrics['classifier_train_images']} is more "
                          f"than the {train_images['fashion_mnist']} Fashion-MNIST training images")
    for section in ("fcgan", "ddpm"):  # Fashion-MNIST only
        _check_fashion_mnist_run(config[section], section, train_images["fashion_mnist"], test_images["fashion_mnist"])
    ddpm = config["ddpm"]
    if ddpm["sample_steps"] > ddpm["diffusion_steps"]:
        raise ConfigError(f"ddpm.sample_steps: {ddpm['sample_steps']} is more than the {ddpm['diffusion_steps']} "
                          f"diffusion steps")
    if not ddpm["beta_start"] < ddpm["beta_end"]:
        raise ConfigError(f"ddpm.beta_start: {ddpm['beta_start']} is not below ddpm.beta_end ({ddpm['beta_end']})")
    weights = metrics.get("inception_weights")
    if weights is not None and not Path(weights).is_file():
        raise ConfigError(f"system.metrics.inception_weights: {weights}: no such file (null skips FID)")


def _check_fashion_mnist_run(section: dict, key: str, train_images: int, test_images: int) -> None:
    """A Fashion-MNIST network section's batch against its training images and its samples against the test images."""
    n = min(train_images, section.get("max_train_images") or train_images)
    if section["batch_size"] > n:
        raise ConfigError(f"{key}.batch_size: {section['batch_size']} is more than the {n} training images of "
                          f"fashion_mnist ({key}.max_train_images {section.get('max_train_images', 0)})")
    if section["n_samples"] > test_images:
        raise ConfigError(f"{key}.n_samples: {section['n_samples']} is more than the {test_images} real images of "
                          f"fashion_mnist it is compared with")


def check_engine(config: dict) -> None:
    """engine: oommf needs OOMMF now, not an hour into the run."""
    if config["engine"] == "oommf":
        from devices.engine import EngineError, resolve_engine

        try:
            resolve_engine("oommf")
        except EngineError as error:
            raise ConfigError(f"engine: {error}") from None


def check_sweep(config: dict, test_images: dict[str, int]) -> None:
    """The sweep's key, its run, and every value's config through the same device checks as the config itself."""
    study = config["sweep"]
    if not study["values"]:
        return
    system = config["system"]
    if study["dataset"] not in system["datasets"] or not {"float", "hardware"} <= set(system["variants"]):
        raise ConfigError(f"sweep.dataset: {study['dataset']} is not trained in the float and hardware variants here "
                          "(system.datasets, system.variants)")
    if study["n_samples"] > test_images[study["dataset"]]:
        raise ConfigError(f"sweep.n_samples: {study['n_samples']} is more than the {test_images[study['dataset']]} "
                          f"test images of {study['dataset']}")
    try:
        sweep.override(config, study["parameter"], sweep.current_value(config, study["parameter"]))
    except (ValueError, KeyError, TypeError):
        raise ConfigError(f"sweep.parameter: {study['parameter']} is not a numeric key of the sections "
                          f"{', '.join(sweep.SECTIONS)}") from None
    for value in study["values"]:
        try:
            swept = sweep.override(config, study["parameter"], value)
            check_values(swept)
            check_devices(swept)
        except (ValueError, ConfigError) as error:
            raise ConfigError(f"sweep.values: {value:g} for {study['parameter']}: {error}") from None


def validate(config: dict, base_dir: Path = Path(".")) -> None:
    """Check the merged config and the data it points at; raise ConfigError on the first problem."""
    check_values(config)
    check_devices(config)
    train_images, test_images = check_data(config, base_dir)
    check_system(config, train_images, test_images)
    check_sweep(config, test_images)
    check_engine(config)


def main(argv: list[str]) -> int:
    """Check the config of a Snakemake command line; 0 when it is good, 1 with one line when not."""
    try:
        config = config_from_command_line(argv)
        if config is not None:
            validate(config)
    except ConfigError as error:
        print(f"config error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
