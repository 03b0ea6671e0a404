"""Validation of the workflow configuration against workflow/schemas/config.schema.yaml.

Every problem becomes one line naming the key, so that a bad config stops the run before any job
starts, without a traceback: `config error: system.batch_size: -5 is less than the minimum of 1`.
"""

from pathlib import Path

import jsonschema
import yaml

SCHEMA = Path(__file__).parent / "schemas" / "config.schema.yaml"


class ConfigError(Exception):
    """A configuration problem; str() is one line that names the key."""


def _key(path) -> str:
    """Dotted key of a jsonschema error path: ('system', 'epochs', 'x') -> 'system.epochs.x'."""
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
    if error.validator == "enum":
        allowed = ", ".join(map(str, error.validator_value))
        return f"{_key(path)}: {error.instance!r} is not one of {allowed}"
    if error.validator == "type" and isinstance(error.instance, str):
        return (f"{_key(path)}: {error.instance!r} is a string, expected {error.validator_value}"
                " (YAML reads 1e5 as text: write 1.0e+5)")
    return f"{_key(path)}: {error.message}"


def validate(config: dict, base_dir: Path = Path(".")) -> None:
    """Check config against the schema, and that its data directory exists; raise ConfigError on the first problem."""
    schema = yaml.safe_load(SCHEMA.read_text())
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if errors:
        raise ConfigError(_line(errors[0]))
    data_dir = Path(base_dir) / config["data_dir"]
    if not data_dir.is_dir():
        if not config.get("download", True):
            raise ConfigError(f"data_dir: {config['data_dir']!r} is not a directory (and download is off)")
        if "anime_faces" in config["system"]["datasets"]:
            raise ConfigError(f"data_dir: {config['data_dir']!r} is not a directory; "
                              "Anime Face cannot be downloaded, point data_dir at it")
    ratio = config["dw_activation"]["network_lrelu_curvature_ratio"]
    if ratio not in config["dw_activation"]["lrelu_curvature_ratios"]:
        raise ConfigError(f"dw_activation.network_lrelu_curvature_ratio: {ratio} is not in lrelu_curvature_ratios")
