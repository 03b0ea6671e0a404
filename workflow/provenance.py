"""Provenance record attached to every table and result: config hash, git commit, package versions."""

import hashlib
import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path

PACKAGES = ["discretisedfield", "micromagneticmodel", "oommfc", "magnumnp", "torch", "jax", "optax",
            "numpy", "pandas", "snakemake"]


def config_hash(section) -> str:
    """Short SHA-256 of a config section (a JSON-serialisable value), stable across key order."""
    return hashlib.sha256(json.dumps(section, sort_keys=True, default=str).encode()).hexdigest()[:16]


def git_commit(repo: Path = Path(__file__).resolve().parent.parent) -> str:
    """Commit of the working tree, with '+dirty' when it has uncommitted changes; 'unknown' outside git."""
    try:
        commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def provenance(config_section, **extra) -> dict:
    """Everything needed to trace a result back: config hash, git commit, Python and package versions."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {"config_hash": config_hash(config_section), "git_commit": git_commit(),
            "python": platform.python_version(), "packages": versions, **extra}
