#!/usr/bin/env bash
# Runs python3 with NumPy from the test venv (.venv-test/, gitignored), installing NumPy there
# first when it is missing (python3-venv from Debian's packages when needed, as for
# scripts/schemathesis.sh). Used by the model.json layout test: scripts/numpy-python.sh SCRIPT ARGS…
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv-test
NUMPY_VERSION=2.3.5

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if ! "$VENV/bin/python" -c 'import numpy' 2>/dev/null; then
  if ! command -v python3 >/dev/null || ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    echo "scripts/numpy-python.sh: installing Debian's python3 and python3-venv" >&2
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >/dev/null
  fi
  [ -x "$VENV/bin/pip" ] || python3 -m venv "$VENV"
  echo "scripts/numpy-python.sh: installing numpy $NUMPY_VERSION into $VENV" >&2
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "numpy==$NUMPY_VERSION" >&2
fi
exec "$VENV/bin/python" "$@"
