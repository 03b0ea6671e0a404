"""Shared fixtures: repository paths, the shared data directory, a runner for the Snakemake CLI, and the tiny
profile's local run (once per session)."""

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("SKYRMION_DCGAN_DATA", REPO.parent / "shared" / "data"))
WORKFLOW_PARTS = ["Snakefile", "workflow", "config", "envs", "pipeline", "devices", "system"]


def snakemake(args: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the Snakemake CLI of this environment in cwd; returns the completed process (text output)."""
    exe = Path(sys.executable).with_name("snakemake")
    return subprocess.run([str(exe), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"})


def copy_workflow(dest: Path) -> Path:
    """Copy the workflow and its packages into dest (returned)."""
    for part in WORKFLOW_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, dest / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, dest / part)
    return dest


@pytest.fixture
def workdir(tmp_path) -> Path:
    """A copy of the workflow and its packages in a temporary folder, so runs never touch ./results."""
    return copy_workflow(tmp_path)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not (DATA_DIR / "fashion-mnist").is_dir():
        pytest.skip(f"no Fashion-MNIST under {DATA_DIR} (set SKYRMION_DCGAN_DATA)")
    return DATA_DIR


TINY = REPO / "tests" / "tiny.yaml"


def result_digests(workdir: Path) -> dict[str, str]:
    """sha256 of every file under results/tables/ and of results/summary.csv without its throughputs (columns
    *_per_s, wall-clock measurements), by path relative to workdir."""
    files = sorted((workdir / "results" / "tables").iterdir())
    digests = {str(path.relative_to(workdir)): hashlib.sha256(path.read_bytes()).hexdigest() for path in files}
    summary = pd.read_csv(workdir / "results" / "summary.csv")
    text = summary.drop(columns=[c for c in summary.columns if c.endswith("_per_s")]).to_csv(index=False)
    digests["results/summary.csv"] = hashlib.sha256(text.encode()).hexdigest()
    return digests


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, data_dir):
    """The tiny profile run end to end on this machine (--cores 2), once per session: (workdir, completed process,
    the result digests taken right after it). Tests may change the workdir afterwards; the digests stay."""
    workdir = copy_workflow(tmp_path_factory.mktemp("tiny"))
    run = snakemake(["--cores", "2", "--configfile", str(TINY), "--config", f"data_dir={data_dir}"], workdir,
                    timeout=1200)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-5000:]
    return workdir, run, result_digests(workdir)
