#!/usr/bin/env python3
"""Queue throughput and claim latency: one SQLite server next to PostgreSQL with 1, 2 and 4
worker processes, in one run (issue 16).

For each setup it starts the real binaries, then
  * throughput: submits JOBS trivial jobs (exact `mi`, N = 2) from CLIENTS concurrent HTTP
    clients and reports jobs/s end to end = JOBS / (last finished_at - first created_at);
  * claim latency: with the workers idle, submits PROBES jobs one at a time (a pause between
    them) and reports submit -> started (started_at - created_at, server clock) p50/p99.
PostgreSQL is a throwaway cluster (scripts/postgres-throwaway.sh) unless FLUXLAB_TEST_POSTGRES
names a server. Prints a Markdown table; nothing here is asserted.

usage: bench/cluster.py [BINARY] [--jobs 2000] [--probes 200] [--clients 16]
"""

import argparse
import concurrent.futures
import datetime
import http.client
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ms(stamp):
    return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000.0


class Api:
    def __init__(self, port):
        self.port = port

    def request(self, method, path, body=None, conn=None):
        own = conn is None
        conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        data = json.dumps(body) if body is not None else None
        headers = {"content-type": "application/json"} if data else {}
        conn.request(method, path, body=data, headers=headers)
        r = conn.getresponse()
        payload = r.read()
        if own:
            conn.close()
        return r.status, json.loads(payload) if payload else None


def trivial(seed):
    return {"kind": "mi", "spec": {"network": {"ensemble": {"n": 2, "std": 1.0}},
                                    "method": "exact", "attractors": False, "seed": seed}}


def wait_ready(api, procs):
    deadline = time.time() + 60
    while time.time() < deadline:
        for p in procs:
            if p.poll() is not None:
                raise SystemExit(f"a process exited early with {p.returncode}")
        try:
            status, _ = api.request("GET", "/readyz")
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit("server not ready")


def all_finished(api, ids):
    """Final views of `ids` (polls the listing; every job must succeed)."""
    pending = set(ids)
    views = {}
    deadline = time.time() + 900
    while pending:
        if time.time() > deadline:
            raise SystemExit(f"{len(pending)} jobs never finished")
        for job_id in list(pending)[:200]:
            status, view = api.request("GET", f"/v1/jobs/{job_id}?wait=30")
            if status == 200 and view["status"] in ("succeeded", "failed", "cancelled"):
                if view["status"] != "succeeded":
                    raise SystemExit(f"job failed: {view}")
                views[job_id] = view
                pending.discard(job_id)
    return [views[i] for i in ids]


def throughput(api, jobs, clients):
    def submit_range(start):
        conn = http.client.HTTPConnection("127.0.0.1", api.port, timeout=120)
        out = []
        for i in range(start, jobs, clients):
            status, view = api.request("POST", "/v1/jobs", trivial(i), conn)
            if status != 201:
                raise SystemExit(f"submit: {status} {view}")
            out.append(view["id"])
        conn.close()
        return out

    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        ids = [i for part in pool.map(submit_range, range(clients)) for i in part]
    views = all_finished(api, ids)
    first = min(ms(v["created_at"]) for v in views)
    last = max(ms(v["finished_at"]) for v in views)
    return jobs / ((last - first) / 1000.0)


def claim_latency(api, probes, pause):
    ids = []
    for i in range(probes):
        status, view = api.request("POST", "/v1/jobs", trivial(10_000_000 + i))
        assert status == 201, view
        ids.append(view["id"])
        time.sleep(pause)
    views = all_finished(api, ids)
    lat = sorted(ms(v["started_at"]) - ms(v["created_at"]) for v in views)
    p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
    return p(0.50), p(0.99)


def start(binary, args, log):
    env = dict(os.environ, RUST_LOG="warn", NO_COLOR="1")
    return subprocess.Popen([binary, *args], stdout=subprocess.DEVNULL, stderr=log, env=env)


def fresh_database(base):
    """CREATE DATABASE through psql (the throwaway cluster trusts local connections)."""
    name = f"fluxlab_bench_{int(time.time() * 1000)}"
    subprocess.run(["psql", base, "-qc", f"CREATE DATABASE {name}"], check=True,
                   env=dict(os.environ, PATH=pg_path()))
    parsed = urllib.parse.urlsplit(base)
    return urllib.parse.urlunsplit(parsed._replace(path=f"/{name}"))


def pg_path():
    bins = sorted(d for d in os.listdir("/usr/lib/postgresql")) if os.path.isdir("/usr/lib/postgresql") else []
    extra = f"/usr/lib/postgresql/{bins[-1]}/bin:" if bins else ""
    return extra + os.environ.get("PATH", "")


def run_setup(binary, label, db, workers, args, tmp):
    port = free_port()
    common = ["--rate-limit", "0", "--default-max-queued", "0"]
    log = open(os.path.join(tmp, f"{label}.log"), "w")
    max_jobs = ["--max-jobs", "0"] if workers else ["--max-jobs", "2", "--threads", "2"]
    procs = [start(binary, ["serve", "--bind", f"127.0.0.1:{port}", "--database", db,
                            *max_jobs, *common], log)]
    for w in range(workers):
        procs.append(start(binary, ["worker", "--database", db, "--name", f"w{w}",
                                    "--max-jobs", "2", "--threads", "1"], log))
    try:
        api = Api(port)
        wait_ready(api, procs)
        time.sleep(0.5)
        rate = throughput(api, args.jobs, args.clients)
        p50, p99 = claim_latency(api, args.probes, args.pause)
        return label, rate, p50, p99
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        log.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary", nargs="?", default=os.path.join(ROOT, "target/release/fluxlab"))
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--probes", type=int, default=200)
    parser.add_argument("--pause", type=float, default=0.05)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    if not os.path.exists(args.binary):
        sys.exit(f"no binary at {args.binary}: cargo build --release first")
    tmp = tempfile.mkdtemp(prefix="fluxlab-cluster-bench-")
    base = os.environ.get("FLUXLAB_TEST_POSTGRES")
    cluster = None
    if not base:
        cluster = os.path.join(tmp, "pg")
        base = subprocess.run(["bash", os.path.join(ROOT, "scripts/postgres-throwaway.sh"), "start",
                               cluster], check=True, capture_output=True, text=True).stdout.strip()
    try:
        rows = [run_setup(args.binary, "SQLite, one process (--max-jobs 2)",
                          f"sqlite://{tmp}/bench.db", 0, args, tmp)]
        for workers in (1, 2, 4):
            rows.append(run_setup(args.binary, f"PostgreSQL, API + {workers} worker(s) × 2 slots",
                                  fresh_database(base), workers, args, tmp))
    finally:
        if cluster:
            subprocess.run(["bash", os.path.join(ROOT, "scripts/postgres-throwaway.sh"), "stop", cluster])
    print(f"# Queue benchmark ({datetime.date.today()}, {platform.node()}, {os.cpu_count()} cores; "
          f"{args.jobs} jobs from {args.clients} clients; {args.probes} probes {args.pause * 1000:.0f} ms apart)\n")
    print("| setup | jobs/s end to end | submit → started p50 (ms) | p99 (ms) |")
    print("|---|---:|---:|---:|")
    for label, rate, p50, p99 in rows:
        print(f"| {label} | {rate:.0f} | {p50:.0f} | {p99:.0f} |")


if __name__ == "__main__":
    main()
