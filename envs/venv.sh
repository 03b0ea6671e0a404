#!/usr/bin/env bash
# Runs a command inside the project's virtual environment (.venv at the repository root), creating it
# first from the pinned envs/requirements.lock.txt when it is missing or out of date.
#   envs/venv.sh snakemake --cores 2 ...      envs/venv.sh pytest
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
lock="$root/envs/requirements.lock.txt"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$lock" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  python="${PYTHON:-$(command -v python3.11 || command -v python3)}"
  echo "envs/venv.sh: installing the pinned environment into $venv with $python (a few minutes, once)" >&2
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$lock"
  echo "$want" > "$stamp"
fi
export PATH="$venv/bin:$PATH" VIRTUAL_ENV="$venv"
cd "$root"
exec "$@"
