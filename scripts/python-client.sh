#!/usr/bin/env bash
# The Python client's tests and the example notebook against the real binary:
# - installs clients/python with its `test` extra into a venv (.venv-client/, gitignored), every
#   package at the version pinned in clients/python/constraints.txt; python3 and its venv module
#   come from Debian's packages when missing (as root or with sudo);
# - runs pytest on clients/python/tests (its fixture starts `fluxlab serve` on a free port with a
#   temporary database and an admin token);
# - starts a fresh server (open, loopback, temporary database) and executes
#   examples/infoflux.ipynb top to bottom with nbclient; the executed copy lands in
#   target/test-output/infoflux.ipynb.
# Environment: FLUXLAB_BIN (default target/debug/fluxlab; build it first).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv-client
BIN="${FLUXLAB_BIN:-target/debug/fluxlab}"
OUT=target/test-output
export FLUXLAB_BIN="$BIN"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if [ ! -x "$BIN" ]; then
  echo "scripts/python-client.sh: $BIN is missing; run cargo build first" >&2
  exit 2
fi

if ! command -v python3 >/dev/null || ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
  echo "scripts/python-client.sh: installing Debian's python3 and python3-venv"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >/dev/null
fi

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
# The pinned dependencies (a no-op once installed), then the client itself afresh.
"$VENV/bin/pip" install --quiet --disable-pip-version-check -c clients/python/constraints.txt \
  "./clients/python[test]"
"$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps --force-reinstall ./clients/python

rc=0
"$VENV/bin/python" -m pytest -q -p no:cacheprovider clients/python/tests || rc=$?

tmp="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  mkdir -p "$OUT"
  cp "$tmp/server.log" "$OUT/notebook-server.log" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port="$("$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
NO_COLOR=1 "$BIN" serve --bind "127.0.0.1:$port" --database "sqlite://$tmp/nb.db" \
  --shutdown-grace-secs 5 >"$tmp/server.log" 2>&1 &
server_pid=$!

mkdir -p "$OUT"
echo "scripts/python-client.sh: executing examples/infoflux.ipynb against a fresh server"
if ! FLUXLAB_SERVER="http://127.0.0.1:$port" timeout --kill-after=10 600 "$VENV/bin/python" - \
  examples/infoflux.ipynb "$OUT/infoflux.ipynb" <<'PY'
import os
import sys
import time

import httpx
import nbformat
from nbclient import NotebookClient

url = os.environ["FLUXLAB_SERVER"]
deadline = time.monotonic() + 30
while True:
    try:
        if httpx.get(url + "/healthz", timeout=2).status_code == 200:
            break
    except httpx.TransportError:
        pass
    if time.monotonic() > deadline:
        sys.exit(f"the server did not come up on {url}")
    time.sleep(0.2)
notebook = nbformat.read(sys.argv[1], as_version=4)
started = time.monotonic()
try:
    NotebookClient(notebook, timeout=300, kernel_name="python3").execute()
finally:
    nbformat.write(notebook, sys.argv[2])
print(f"scripts/python-client.sh: the notebook ran top to bottom in {time.monotonic() - started:.1f} s")
PY
then
  echo "scripts/python-client.sh: the notebook failed; the executed copy is $OUT/infoflux.ipynb" >&2
  rc=1
fi
exit "$rc"
