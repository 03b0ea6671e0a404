"""envs/reproduce.sh: its help, and the lock a killed run leaves, judged by this folder's processes only."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO

SNAKEMAKE = Path(sys.executable).with_name("snakemake")
SETUP = "results/system/fashion_mnist/float/training.json"  # a job that takes no time


def reproduce(args, cwd, timeout=300):
    return subprocess.run(["bash", "envs/reproduce.sh", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "CORES": "1"})


def start(args, cwd) -> subprocess.Popen:
    """A Snakemake run in its own process group, once it holds its lock."""
    log = Path(cwd) / "snakemake.out"
    with open(log, "w") as out:
        process = subprocess.Popen([str(SNAKEMAKE), *args], cwd=cwd, start_new_session=True, stdout=out, stderr=out)
    deadline = time.monotonic() + 120
    while not any((Path(cwd) / ".snakemake" / "locks").glob("*")):
        assert process.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.2)
    return process


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@pytest.fixture
def repo_copy(workdir) -> Path:
    (workdir / ".venv").symlink_to(Path(sys.prefix))
    return workdir


def test_help_explains_the_script_and_runs_nothing(repo_copy):
    run = reproduce(["--help"], repo_copy)
    assert run.returncode == 0
    assert run.stdout.startswith("usage: envs/reproduce.sh") and "--configfile" in run.stdout
    assert "done:" not in run.stdout and run.stdout.count("usage:") == 1
    assert not (repo_copy / ".snakemake").exists() and not (repo_copy / "results").exists()


@pytest.mark.slow
def test_stale_lock_is_removed_while_snakemake_runs_elsewhere(repo_copy, data_dir, tmp_path_factory):
    profile = ["--configfile", str(REPO / "tests" / "tiny.yaml"), "--config", f"data_dir={data_dir}"]
    other = tmp_path_factory.mktemp("other")  # an unrelated workflow of someone else on the machine
    (other / "Snakefile").write_text('rule wait:\n    output: "done"\n    shell: "sleep 300; touch {output}"\n')
    unrelated = start(["--cores", "1"], other)
    try:
        killed = start(["results/system/fashion_mnist/classifier/classifier.pkl", "--cores", "1", *profile], repo_copy)
        stop(killed)  # SIGKILL: no chance to remove its lock
        assert any((repo_copy / ".snakemake" / "locks").glob("*"))

        run = reproduce([SETUP, *profile], repo_copy)
        assert run.returncode == 0, run.stderr[-3000:]
        assert "removing the stale lock" in run.stderr
        assert (repo_copy / SETUP).is_file()
        assert unrelated.poll() is None  # the other run goes on
    finally:
        stop(unrelated)


@pytest.mark.slow
def test_lock_of_a_live_run_in_this_folder_is_kept(repo_copy, data_dir):
    profile = ["--configfile", str(REPO / "tests" / "tiny.yaml"), "--config", f"data_dir={data_dir}"]
    # the full profile's classifier (minutes): a run that outlives the check (the tiny one can finish first)
    running = start(["results/system/fashion_mnist/classifier/classifier.pkl", "--cores", "1", "--config",
                     f"data_dir={data_dir}"], repo_copy)
    try:
        locks = sorted((repo_copy / ".snakemake" / "locks").glob("*"))
        run = reproduce([SETUP, "-n", *profile], repo_copy)
        assert run.returncode == 0, run.stderr[-3000:]
        assert "removing the stale lock" not in run.stderr
        assert sorted((repo_copy / ".snakemake" / "locks").glob("*")) == locks
    finally:
        stop(running)
