"""The workflow on a SLURM cluster: the tiny profile through Snakemake's SLURM executor (profiles/slurm) on a
single-node SLURM started here from Debian's packages (tests/slurm/local_cluster.sh), against the local run.
Skipped, with the reason, where the machine cannot run SLURM (not root, no apt-get, install refused)."""

import re
import shutil
import subprocess
import sys
import time

import pytest
import yaml

from tests.conftest import REPO, TINY, copy_workflow, result_digests, snakemake

CLUSTER = REPO / "tests" / "slurm" / "local_cluster.sh"
PROFILE = yaml.safe_load((REPO / "profiles" / "slurm" / "config.yaml").read_text())
JAX_RULES = sorted(PROFILE["set-threads"])
# this cluster: one 2-CPU node named main, no accounting database (job states from squeue), first check after 2 s
LOCAL_CLUSTER = ["--slurm-status-command", "squeue", "--slurm-no-account", "--slurm-init-seconds-before-status-checks",
                 "2", "--default-resources", "slurm_partition=main", "--jobs", "4",
                 "--set-threads", *[f"{rule}=2" for rule in JAX_RULES]]


def test_profile_sets_the_threads_of_every_jax_rule():
    """A rule with `threads: JAX_THREADS` counts 1 core under a cluster executor but its job's Snakemake takes the
    job's cores: without a set-threads entry the job asks SLURM for more CPUs than it holds, and fails."""
    rules = "".join(path.read_text() for path in (REPO / "workflow" / "rules").glob("*.smk"))
    blocks = re.split(r"^rule ", rules, flags=re.M)[1:]
    jax_rules = {block.split(":", 1)[0] for block in blocks if "threads: JAX_THREADS" in block}
    jax_rules |= {new for old, new in re.findall(r"^use rule (\w+) as (\w+)", rules, re.M) if old in jax_rules}
    assert jax_rules == set(JAX_RULES)


def test_every_rule_declares_its_measured_resources():
    """Each rule but the target `all` takes its mem_mb and runtime from the one table in common.smk, and the table
    holds no rule that does not exist."""
    rules = "".join(path.read_text() for path in (REPO / "workflow" / "rules").glob("*.smk"))
    blocks = {block.split(":", 1)[0]: block for block in re.split(r"^rule ", rules, flags=re.M)[1:]}
    table = set(re.findall(r'^    "(\w+)": \{"mem_mb"', rules, re.M))
    assert table == set(blocks)
    for name, block in blocks.items():
        assert f'**RESOURCES["{name}"]' in block, name


@pytest.fixture(scope="session")  # before the session's tiny_run: a machine without SLURM skips at once
def local_slurm(tmp_path_factory):
    """A running single-node SLURM (its state folder); its daemons are stopped by their PIDs afterwards."""
    state = tmp_path_factory.mktemp("slurm")
    start = time.perf_counter()
    up = subprocess.run([str(CLUSTER), "start", str(state)], capture_output=True, text=True, timeout=900)
    if up.returncode == 3:
        print(up.stderr, file=sys.stderr)
        pytest.skip(up.stderr.strip())
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        print(f"local SLURM up in {time.perf_counter() - start:.1f} s", file=sys.stderr)
        yield state
    finally:
        subprocess.run([str(CLUSTER), "stop", str(state)], timeout=120)


@pytest.mark.slow
def test_tiny_profile_on_slurm_gives_the_local_tables_and_summary(local_slurm, tiny_run, tmp_path, data_dir):
    workdir = copy_workflow(tmp_path)
    shutil.copytree(REPO / "profiles", workdir / "profiles")
    start = time.perf_counter()
    run = snakemake(["--profile", "profiles/slurm", *LOCAL_CLUSTER, "--configfile", str(TINY),
                     "--config", f"data_dir={data_dir}"], workdir, timeout=3000)
    wall = time.perf_counter() - start
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-5000:]
    log = run.stdout + run.stderr
    submitted = len(re.findall(r"has been submitted with SLURM jobid", log))
    finished = len(re.findall(r"^Finished jobid", log, re.M))
    print(f"tiny profile through SLURM: {submitted} SLURM jobs, {wall:.0f} s", file=sys.stderr)
    assert submitted >= 30 and submitted == finished - 1  # every job but the target rule `all` went to SLURM
    ours, local = result_digests(workdir), tiny_run[2]
    assert sorted(ours) == sorted(local)
    differing = [path for path in local if ours[path] != local[path]]
    assert not differing, f"differ from the local run: {differing}"
