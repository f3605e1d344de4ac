#!/usr/bin/env bash
# Schemathesis against the real server: starts the debug binary on a free loopback port with a
# temporary SQLite database, runs every phase (examples, coverage, fuzzing, stateful) and every
# check against its /openapi.json with a bounded number of examples per operation, a per-request
# timeout and a wall-clock bound, then stops the server (also on failure or interrupt).
# --continue-on-failure: an operation's first failure does not end its cases, so one cheap
# failure (say an undocumented content type) cannot hide a dropped connection behind it.
#
# Schemathesis lives in a venv under the repository (.venv-test/, gitignored), pinned below;
# python3 and its venv module come from Debian's packages when missing (as root or with sudo).
#
# Usage: scripts/schemathesis.sh [more `schemathesis run` options, e.g. --exclude-checks X]
# Environment (all optional):
#   FLUXLAB_BIN                    binary to test (default target/debug/fluxlab; build it first)
#   SCHEMATHESIS_MAX_EXAMPLES      examples per operation (default 100: about 30 s today)
#   SCHEMATHESIS_SEED              generation seed (default 1: the same cases on every run)
#   SCHEMATHESIS_REQUEST_TIMEOUT   seconds per request (default 30)
#   SCHEMATHESIS_WALL_SECS         bound on the whole schemathesis run (default 270)
# Reports (JUnit XML, NDJSON events) and the server's log land in target/test-output/schemathesis/.
set -euo pipefail
cd "$(dirname "$0")/.."

ST_VERSION=4.32.5
VENV=.venv-test
BIN="${FLUXLAB_BIN:-target/debug/fluxlab}"
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-100}"
SEED="${SCHEMATHESIS_SEED:-1}"
REQUEST_TIMEOUT="${SCHEMATHESIS_REQUEST_TIMEOUT:-30}"
WALL_SECS="${SCHEMATHESIS_WALL_SECS:-270}"
OUT=target/test-output/schemathesis

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if [ ! -x "$BIN" ]; then
  echo "scripts/schemathesis.sh: $BIN is missing; run cargo build first" >&2
  exit 2
fi

# python3 with a working venv module (Debian splits it into python3-venv).
if ! command -v python3 >/dev/null || ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
  echo "scripts/schemathesis.sh: installing Debian's python3 and python3-venv"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >/dev/null
fi

if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -qF "version $ST_VERSION"; then
  echo "scripts/schemathesis.sh: installing schemathesis $ST_VERSION into $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$ST_VERSION"
fi

tmp="$(mktemp -d)"
server_pid=""
st_pid=""
stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
}
cleanup() {
  if [ -n "$st_pid" ] && kill -0 "$st_pid" 2>/dev/null; then
    kill -TERM "$st_pid" 2>/dev/null || true  # timeout passes it on to schemathesis
    wait "$st_pid" 2>/dev/null || true
  fi
  stop_server
  mkdir -p "$OUT"
  cp "$tmp/server.log" "$OUT/server.log" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The run is authenticated as an admin: without users a loopback server runs open, but the first
# user the fuzzer creates (POST /v1/users) would end that and leave every later request a 401.
admin_token="$("$BIN" user add st-admin --admin --database "sqlite://$tmp/s.db" >/dev/null &&
  "$BIN" token create --user st-admin --database "sqlite://$tmp/s.db" | grep -m1 '^flx_')"

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
# --max-job-work 1e9 (well under a second of one core): the jobs that schema-valid requests create
# finish at once, so `?wait=` answers within the request timeout and no accepted job keeps both
# cores busy for the rest of the run (at the default 1e16 one random lif spec trains for hours).
# Larger specs get the 422 the document describes for the work limit. --rate-limit 0: one worker
# sends more than the default 50 requests per second with its one token.
NO_COLOR=1 "$BIN" serve --bind "127.0.0.1:$port" --database "sqlite://$tmp/s.db" \
  --shutdown-grace-secs 5 --max-job-work 1e9 --rate-limit 0 >"$tmp/server.log" 2>&1 &
server_pid=$!

# Wait (30 s at most) for /healthz.
if ! python3 - "$base" <<'EOF'
import sys, time, urllib.request
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    try:
        with urllib.request.urlopen(sys.argv[1] + "/healthz", timeout=2) as r:
            if r.status == 200:
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.2)
sys.exit(1)
EOF
then
  echo "scripts/schemathesis.sh: the server did not come up on $base; its log:" >&2
  tail -n 30 "$tmp/server.log" >&2 || true
  exit 1
fi

echo "scripts/schemathesis.sh: schemathesis $ST_VERSION against $base/openapi.json" \
  "(max $MAX_EXAMPLES examples per operation, seed $SEED, ${REQUEST_TIMEOUT}s per request, ${WALL_SECS}s in all)"
mkdir -p "$OUT"
# No state between runs: the crash cache would otherwise land in ./.schemathesis and be replayed.
# Schema-valid data may still be refused with a 422 where the server checks what JSON Schema
# cannot say (each schema's description lists it): for POST /v1/jobs a square weight matrix,
# lengths equal to N, bounds that depend on other fields, a dataset id or `init.from_job` that
# must exist, and the whole job's estimated work (`--max-job-work`); for POST /v1/datasets the
# content of the IDX files; for POST /v1/models/{id}/predict that each input has as many values
# as that job's model takes per sample; for POST /v1/tokens that `user` exists. There, and only
# there, 422 is an expected answer to positive data (on top of schemathesis' default list).
cat >"$tmp/schemathesis.toml" <<'TOML'
[cache]
enabled = false

[[operations]]
include-name = ["POST /v1/jobs", "POST /v1/datasets", "POST /v1/models/{id}/predict", "POST /v1/tokens"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]

# `?wait=` on these GETs legitimately holds the answer until the job ends (up to 300 s): a
# fuzzed 299 on a running job would only measure the job. One second still exercises the wait.
[[operations]]
include-name = ["GET /v1/jobs/{id}", "GET /v1/jobs/{id}/result", "GET /v1/jobs/{id}/artifacts/{name}"]
parameters = { wait = 1 }
TOML
rc=0
timeout --kill-after=10 "$WALL_SECS" "$VENV/bin/schemathesis" --config-file "$tmp/schemathesis.toml" \
  run "$base/openapi.json" \
  --checks all \
  --max-examples "$MAX_EXAMPLES" \
  --continue-on-failure \
  --seed "$SEED" \
  --request-timeout "$REQUEST_TIMEOUT" \
  --generation-database none \
  --workers 1 \
  --no-color \
  --report junit,ndjson --report-dir "$OUT" \
  --header "Authorization: Bearer $admin_token" \
  "$@" &
st_pid=$!
# In the background and waited for, so that an INT or TERM stops it and the server at once.
wait "$st_pid" || rc=$?
st_pid=""
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
  echo "scripts/schemathesis.sh: schemathesis did not finish within ${WALL_SECS}s" >&2
fi
if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "scripts/schemathesis.sh: the server died during the run; its log is in $OUT/server.log" >&2
  rc=1
fi
exit "$rc"
