#!/usr/bin/env bash
# The reproduction in one command: check the input, run the Snakemake workflow, write its HTML report.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"

usage() {
  cat <<'EOF'
usage: envs/reproduce.sh [SNAKEMAKE OPTIONS...]

Runs the whole workflow (device stages, tables, training, evaluation, summary) in the repository's
folder, then writes results/report.html. The Python environment (.venv) is created on first use.
Run the same command again after an interruption: finished outputs are kept, training resumes from
its last checkpoint, and a lock left by a killed run of this folder is removed.

Every option goes to Snakemake; the ones you need:
  --configfile FILE...    profile merged over config/config.yaml, e.g. config/quick.yaml
  --config KEY=VALUE...   single keys, e.g. data_dir=../shared/data (holds fashion-mnist/)
                          or download=true (fetch Fashion-MNIST from its official source)
  -n                      plan only: list the jobs, run nothing, no report
  --forcerun RULE...      rerun a stage, e.g. dw_activation, and what depends on it

Environment: CORES (default: all) sets the cores Snakemake may use.

The input (config files, keys, values, data directory, dataset checksums) is checked first; a problem
stops the command with one line "config error: <key or file>: <problem>" and nothing is touched.

Examples:
  envs/reproduce.sh --configfile config/quick.yaml --config data_dir=../shared/data
  envs/reproduce.sh --config data_dir=../shared/data                 # the full profile
  envs/reproduce.sh -n --configfile config/quick.yaml --config data_dir=../shared/data
EOF
}

dry_run=false
for arg in "$@"; do
  case "$arg" in
    -h|--help) usage; exit 0 ;;
    -n|--dry-run|--dryrun) dry_run=true ;;
  esac
done

cd "$root"
"$here/venv.sh" python -m workflow.config_check "$@" || exit 1

# A run killed hard (SIGKILL, power loss) leaves Snakemake's lock in .snakemake/locks. It is stale when no
# Snakemake process works in this folder; Snakemake processes elsewhere on the machine do not count.
snakemake_runs_here() {
  local proc
  for proc in /proc/[0-9]*; do
    [ "${proc#/proc/}" = "$$" ] && continue
    [ "$(readlink "$proc/cwd" 2>/dev/null)" = "$root" ] || continue
    tr '\0' ' ' < "$proc/cmdline" 2>/dev/null | grep -q "bin/snakemake" && return 0
  done
  return 1
}
if [ -n "$(ls -A .snakemake/locks 2>/dev/null)" ] && ! snakemake_runs_here; then
  echo "envs/reproduce.sh: removing the stale lock of an earlier run of this folder" >&2
  "$here/venv.sh" snakemake --unlock "$@" >/dev/null
fi

"$here/venv.sh" snakemake --cores "${CORES:-all}" --rerun-incomplete "$@"   # an interrupted run just continues
if $dry_run; then
  exit 0
fi
"$here/venv.sh" snakemake --cores 1 "$@" --report results/report.html
echo "done: results/summary.csv, results/report.html"
