#!/usr/bin/env python3
"""Checkpoint retention (issue 16): database size after one evolution that checkpoints every 25
generations for 10,000 generations (400 checkpoints), keeping all of them versus the default 3
(`--keep-checkpoints`). SQLite file size after VACUUM, and the checkpoints table's total size
after VACUUM FULL on PostgreSQL
(a throwaway cluster unless FLUXLAB_TEST_POSTGRES is set). Prints a Markdown table.

usage: bench/retention.py [BINARY]
"""

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster import ROOT, Api, all_finished, fresh_database, free_port, pg_path, wait_ready  # noqa: E402

SPEC = {"kind": "evolution", "spec": {
    "n": 6, "init": {"ensemble": {"type": "gaussian", "std": 1.0}},
    "strategy": "plus", "parents": 4, "offspring": 8, "generations": 10000,
    "mutation": {"std": 0.1, "rate": 1.0}, "constraint": {"type": "frobenius", "value": 6.0},
    "objectives": [{"name": "mi"}], "seed": 1, "checkpoint_every": 25}}


def run(binary, db, keep, tmp):
    port = free_port()
    log = open(os.path.join(tmp, f"keep{keep}.log"), "w")
    proc = subprocess.Popen([binary, "serve", "--bind", f"127.0.0.1:{port}", "--database", db,
                             "--keep-checkpoints", str(keep)],
                            stdout=subprocess.DEVNULL, stderr=log,
                            env=dict(os.environ, RUST_LOG="warn"))
    try:
        api = Api(port)
        wait_ready(api, [proc])
        status, view = api.request("POST", "/v1/jobs", SPEC)
        assert status == 201, view
        all_finished(api, [view["id"]])
        _, listed = api.request("GET", f"/v1/jobs/{view['id']}/checkpoints")
        return len(listed)
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


def sqlite_size(path):
    conn = sqlite3.connect(path)
    conn.execute("VACUUM")
    conn.close()
    return os.path.getsize(path)


def pg_size(url):
    """The checkpoints table with its TOAST and indexes after VACUUM FULL (deleted rows are
    otherwise only marked free); the database as a whole includes ~7 MB of catalogues."""
    env = dict(os.environ, PATH=pg_path())
    subprocess.run(["psql", url, "-Atc", "VACUUM FULL checkpoints"], check=True,
                   capture_output=True, text=True, env=env)
    out = subprocess.run(["psql", url, "-Atc", "SELECT pg_total_relation_size('checkpoints')"],
                         check=True, capture_output=True, text=True, env=env)
    return int(out.stdout.strip())


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target/release/fluxlab")
    tmp = tempfile.mkdtemp(prefix="fluxlab-retention-")
    base = os.environ.get("FLUXLAB_TEST_POSTGRES")
    cluster = None
    if not base:
        cluster = os.path.join(tmp, "pg")
        base = subprocess.run(["bash", os.path.join(ROOT, "scripts/postgres-throwaway.sh"), "start", cluster],
                              check=True, capture_output=True, text=True).stdout.strip()
    rows = []
    try:
        for keep in (1000, 3):
            path = os.path.join(tmp, f"keep{keep}.db")
            kept = run(binary, f"sqlite://{path}", keep, tmp)
            rows.append(("SQLite", keep, kept, sqlite_size(path)))
            url = fresh_database(base)
            kept = run(binary, url, keep, tmp)
            rows.append(("PostgreSQL", keep, kept, pg_size(url)))
    finally:
        if cluster:
            subprocess.run(["bash", os.path.join(ROOT, "scripts/postgres-throwaway.sh"), "stop", cluster])
    print("| backend | --keep-checkpoints | checkpoints kept | size (SQLite: whole file; PostgreSQL: checkpoints table) |")
    print("|---|---:|---:|---:|")
    for backend, keep, kept, size in rows:
        print(f"| {backend} | {keep} | {kept} | {size / 1e6:.2f} MB |")


if __name__ == "__main__":
    main()
