#!/usr/bin/env bash
# The reproduction in one command: the whole Snakemake workflow, then its HTML report (results/report.html).
# Arguments go to snakemake, e.g.  envs/reproduce.sh --configfile config/quick.yaml --config data_dir=../shared/data
# CORES sets the number of cores (default: all).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# a run killed hard (SIGKILL, power loss) leaves Snakemake's lock behind: drop it when no Snakemake runs here
if [ -n "$(ls -A "$here/../.snakemake/locks" 2>/dev/null)" ] && ! pgrep -f "bin/snakemake" >/dev/null; then
  "$here/venv.sh" snakemake --unlock "$@" >/dev/null
fi
"$here/venv.sh" snakemake --cores "${CORES:-all}" --rerun-incomplete "$@"   # an interrupted run just continues
"$here/venv.sh" snakemake --cores 1 "$@" --report results/report.html
echo "done: results/summary.csv, results/report.html"
