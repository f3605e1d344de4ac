#!/usr/bin/env python3
"""Soak test of the real fluxlab binary: mixed jobs, SSE clients and bad requests for N minutes.

Starts `fluxlab serve` on a free loopback port with a temporary SQLite database, then for
`--minutes` runs, all at once:

- submitters: small mi (exact, sweep, sampled, explicit weights), evolution and lif (synthetic and
  a small mnist10k split) jobs, each well under a few seconds (the longest, an N = 8 evolution of
  300 generations, about 1.5 s on the debug build); some wait (`?wait=`), some are cancelled a
  moment later (queued or running); backpressure keeps at most `--max-queued` waiting;
- SSE clients on `/v1/jobs/{id}/events` that connect, read for a random while (half of them hang
  up within 0.6 s, mid-stream) or to `done`, and disconnect, on running, recent, older and unknown
  jobs;
- readers: the job list (filters, paging), job views, results, metric series, checkpoints, plots,
  artifacts, predictions, `/metrics`, `/healthz`, `/readyz`, `/openapi.json`, datasets, and a few
  deletes of finished jobs;
- abusers: malformed JSON, valid JSON of the wrong type, invalid specs, unknown job ids (including
  `/v1/jobs/{random uuid}/events`), invalid ids, wrong or missing content types, huge query strings,
  made-up HTTP methods, malformed multipart uploads.

Every `--sample-secs` (5 s) it samples the server's RSS (VmRSS, VmHWM from /proc/<pid>/status),
its open file descriptors (entries of /proc/<pid>/fd) and threads, and the job gauges of /metrics.
After the load it drains (waits up to `--drain-secs` for every job to end), closes its clients,
takes the end sample, checks, stops the server with SIGTERM and prints a table of samples and a
summary line; `--json FILE` writes the whole summary. Exit status: 0 all checks passed, 1 a check
failed, 2 the soak could not run (binary missing, server did not start).

Checks (each named in the output):
- server_alive      the server ran until the SIGTERM at the end;
- clean_shutdown    after the drain, SIGTERM ends it with status 0 within the grace period + 10 s;
- jobs_exactly_once every submitted job is terminal after the drain; succeeded => attempts == 1,
                    cancelled => attempts <= 1 (0 when cancelled while queued), none failed, none
                    vanished; the full job list shows no job queued or running;
- no_5xx            no response with a 5xx status, to any request, valid or not;
- valid_requests    valid requests got the documented statuses and no transport error;
- bad_requests_4xx  bad requests got a 4xx (a huge request line may also be answered by closing the
                    connection); a bad submission that is accepted is tracked as a job and counted;
- sse               every stream of a known job starts with `snapshot`, a stream that ends ends
                    with `done`, an unknown job is a 404;
- rss_flat          load-phase samples split in thirds: max(last third) <= max(middle third) * (1 +
                    --rss-tolerance, 0.15) + --rss-slack-mb (20 MB), the single highest sample of
                    each third left out (two `mnist10k` jobs decoding their data at once are a
                    ~60 MB peak that is gone 5 s later). Memory that still grows in the last
                    third of the run beyond that is a leak or an unbounded queue;
- rss_peak          the peak RSS of the whole run (VmHWM) <= --rss-peak-mb (600 MB);
- fd_flat           the same rule for all open FDs with a slack of --fd-slack (10) descriptors, and
                    at the end (after the drain, every client closed) the FDs other than the
                    database's <= those at the start + --fd-slack. The database's files (db, -wal,
                    -shm) are counted apart because the SQLite pool opens connections on demand up
                    to its fixed size (two files each); the thirds rule still bounds them;
- no_panics         the server's log shows no panic (a panicking handler drops the connection;
                    with RUST_BACKTRACE set, the first panic also costs ~300 MB of RSS on the debug
                    build, the symbolised debug info, which the RSS figures then include);
- harness           the soak's own threads raised nothing (a bug here, not in the server).
Thirds need at least 6 load samples (30 s); shorter runs skip rss_flat and the thirds part of
fd_flat and say so.

Valid requests share one keep-alive connection per thread; each bad request has a connection of
its own, so that a server hanging up after one is not blamed on the next.

Run: python3 bench/soak.py --minutes 2 [--json soak.json] [BINARY]
Only the standard library is used. All traffic goes to 127.0.0.1.
"""

import argparse
import collections
import http.client
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid

TERMINAL = {"succeeded", "failed", "cancelled"}
HOST = "127.0.0.1"
JSON_CT = "application/json"


# --------------------------------------------------------------------------------------------
# HTTP plumbing


class Response:
    __slots__ = ("status", "headers", "body")

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)


class Transport(Exception):
    """No HTTP response: refused, reset, closed, timed out."""


class Http:
    """One keep-alive connection per thread. A request that fails on a connection idle for at least
    STALE_SECS is sent once more on a new one (the server may close idle keep-alive connections);
    any other failure is reported, never retried: a retry would hide a dropped request or send a
    submission twice."""

    STALE_SECS = 1.0

    def __init__(self, port, timeout):
        self.port = port
        self.timeout = timeout
        self.local = threading.local()
        self.all_conns = []
        self.lock = threading.Lock()
        self.closed = False

    def _conn(self, fresh):
        conn = getattr(self.local, "conn", None)
        if fresh or conn is None:
            if conn is not None:
                conn.close()
            conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
            self.local.conn = conn
            self.local.last_used = time.monotonic()
            with self.lock:
                self.all_conns.append(conn)
                if len(self.all_conns) > 256:
                    self.all_conns = [c for c in self.all_conns if c.sock is not None]
        return conn

    def close_all(self):
        with self.lock:
            self.closed = True
            for c in self.all_conns:
                try:
                    c.close()
                except Exception:
                    pass
            self.all_conns = []

    def request(self, method, path, body=None, headers=None, fresh=False, keep=True):
        """Returns a Response or raises Transport. `fresh` uses a new connection, `keep=False`
        closes it afterwards (for requests after which a server may rightly hang up)."""
        headers = dict(headers or {})
        if isinstance(body, str):
            body = body.encode()
        for attempt in (0, 1):
            conn = self._conn(fresh or attempt == 1)
            stale = conn.sock is not None and time.monotonic() - self.local.last_used >= self.STALE_SECS
            try:
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                hdrs = {k.lower(): v for k, v in resp.getheaders()}
                self.local.last_used = time.monotonic()
                if not keep or resp.will_close:
                    conn.close()
                return Response(resp.status, hdrs, data)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as e:
                conn.close()
                if stale and attempt == 0:
                    continue  # an idle keep-alive connection the server had closed
                raise Transport(f"{type(e).__name__}: {e}") from None
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                raise Transport(f"{type(e).__name__}: {e}") from None
        raise AssertionError("unreachable")


# --------------------------------------------------------------------------------------------
# What was seen


def short(b, n=200):
    if isinstance(b, bytes):
        b = b.decode("utf-8", "replace")
    b = b.replace("\n", " ")
    return b if len(b) <= n else b[:n] + "…"


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.by_op = collections.defaultdict(collections.Counter)  # op -> status/"transport"
        self.kind_of_op = {}
        self.latency = collections.defaultdict(list)  # op -> seconds
        self.requests = 0
        self.n5xx = 0
        self.examples_5xx = []
        self.unexpected = collections.Counter()  # (kind, op) -> n
        self.examples_unexpected = []
        self.transport = collections.Counter()  # (kind, op) -> n
        self.examples_transport = []
        self.sse_errors = collections.Counter()
        self.examples_sse = []
        self.sse_events = collections.Counter()
        self.sse_streams = collections.Counter()
        self.harness_errors = []

    def _example(self, lst, item, cap=12):
        if len(lst) < cap:
            lst.append(item)

    def record(self, kind, op, method, path, resp, ok, seconds):
        with self.lock:
            self.requests += 1
            self.kind_of_op[op] = kind
            self.by_op[op][resp.status] += 1
            self.latency[op].append(seconds)
            ex = {"kind": kind, "op": op, "method": method, "path": short(path, 160),
                  "status": resp.status, "body": short(resp.body)}
            if resp.status >= 500:
                self.n5xx += 1
                self._example(self.examples_5xx, ex)
            if not ok:
                self.unexpected[(kind, op)] += 1
                self._example(self.examples_unexpected, ex, cap=30)

    def record_transport(self, kind, op, method, path, err, tolerated):
        with self.lock:
            self.requests += 1
            self.kind_of_op[op] = kind
            self.by_op[op]["transport" if not tolerated else "closed"] += 1
            if not tolerated:
                self.transport[(kind, op)] += 1
                self._example(self.examples_transport, {"kind": kind, "op": op, "method": method,
                                                        "path": short(path, 160), "error": str(err)})

    def sse_error(self, what, detail):
        with self.lock:
            self.sse_errors[what] += 1
            self._example(self.examples_sse, {"error": what, "detail": short(detail, 300)})

    def harness(self, where):
        with self.lock:
            self._example(self.harness_errors, {"where": where, "trace": traceback.format_exc()})

    def count(self, kind):
        with self.lock:
            return (sum(n for (k, _), n in self.unexpected.items() if k == kind),
                    sum(n for (k, _), n in self.transport.items() if k == kind))


class Jobs:
    """Every job the soak created (valid submissions and bad ones the server accepted)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.jobs = {}  # id -> dict
        self.order = []

    def add(self, job_id, kind, how):
        with self.lock:
            if job_id in self.jobs:
                return
            self.jobs[job_id] = {"id": job_id, "kind": kind, "how": how, "t": time.monotonic(),
                                 "cancel": False, "deleted": None, "mnist": False}
            self.order.append(job_id)

    def get(self, job_id):
        with self.lock:
            return self.jobs.get(job_id)

    def pick(self, rng, recent_bias=0.5, alive=True):
        with self.lock:
            ids = [i for i in self.order[-400:] if not (alive and self.jobs[i]["deleted"])]
        if not ids:
            return None
        if rng.random() < recent_bias:
            return rng.choice(ids[-8:])
        return rng.choice(ids)

    def newest(self, long_within=None):
        """The newest job; with long_within, the newest long evolution submitted that recently."""
        now = time.monotonic()
        with self.lock:
            for i in reversed(self.order[-40:]):
                j = self.jobs[i]
                if j["deleted"]:
                    continue
                if long_within is None:
                    return i
                if j["how"] in ("long", "cancel-target") and now - j["t"] <= long_within:
                    return i
        return None

    def all(self):
        with self.lock:
            return [dict(j) for j in self.jobs.values()]

    def __len__(self):
        with self.lock:
            return len(self.jobs)


# --------------------------------------------------------------------------------------------
# Job specs: each runs in well under a few seconds on a debug build with two cores


def mi_spec(rng):
    seed = rng.randint(1, 2**31 - 1)
    c = rng.random()
    if c < 0.3:
        net = {"ensemble": {"type": "gaussian", "n": rng.randint(4, 12), "std": rng.choice([0.5, 1.0, 2.0]),
                            "replicates": rng.randint(1, 3)}}
        return {"network": net, "method": "exact", "seed": seed}
    if c < 0.5:
        net = {"nrooks": {"n": rng.randint(3, 10), "q": rng.choice([1.0, 2.0, 3.0]),
                          "permutation": rng.choice(["ring", "random"]),
                          "signs": rng.choice(["positive", "random"])}}
        return {"network": net, "method": "auto", "seed": seed}
    if c < 0.7:
        net = {"ensemble": {"type": "gaussian", "n": rng.randint(5, 9), "std": 1.0, "replicates": rng.randint(1, 2)},
               "sweep": {"param": "std", "values": [0.2, 0.8, 2.0]}}
        return {"network": net, "method": "exact", "correlation": {"lag": rng.choice([0, 1]),
                                                                   "include_diagonal": True}, "seed": seed}
    if c < 0.85:
        net = {"ensemble": {"type": "gaussian", "n": rng.randint(20, 50), "std": 1.0, "scale_by_sqrt_n": True}}
        return {"network": net, "method": "sampled",
                "sampling": {"steps": rng.choice([2000, 5000, 10000]), "burn_in": 100, "runs": 2},
                "attractors": {"starts": 20, "max_steps": 500}, "seed": seed}
    n = 3
    w = [[round(rng.uniform(-2, 2), 3) for _ in range(n)] for _ in range(n)]
    net = {"weights": w, "bias": [round(rng.uniform(-0.5, 0.5), 3) for _ in range(n)],
           "input": rng.choice(["symmetric", "binary"])}
    return {"network": net, "method": "exact", "seed": seed}


def evolution_spec(rng, long=False):
    n = 8 if long else rng.randint(4, 7)
    parents = 8 if long else rng.randint(4, 8)
    offspring = 24 if long else rng.randint(parents, 24)
    spec = {"n": n, "init": {"ensemble": {"type": "gaussian", "std": 1.0}},
            "strategy": rng.choice(["plus", "comma"]), "parents": parents, "offspring": offspring,
            "generations": 300 if long else rng.randint(50, 250),
            "mutation": {"std": 0.1, "rate": 1.0, "adaptive": rng.random() < 0.5},
            "constraint": rng.choice([{"type": "frobenius", "value": round(3 * math.sqrt(n), 3)},
                                      {"type": "box", "bound": 3}, {"type": "none"}]),
            "objectives": [{"name": "mi", "weight": 1.0}], "mode": "weighted",
            "seed": rng.randint(1, 2**31 - 1), "checkpoint_every": 25}
    if not long and rng.random() < 0.25:
        spec["objectives"] = [{"name": "mi", "weight": 1.0}, {"name": "mean_period", "weight": 0.1}]
        spec["mode"] = rng.choice(["weighted", "pareto"])
    return spec


def lif_spec(rng):
    seed = rng.randint(1, 2**31 - 1)
    c = rng.random()
    if c < 0.35:
        steps = 20
        ds = {"synthetic": {"task": "coincidence", "channels": 4, "steps": steps, "window": 2}}
    elif c < 0.7:
        steps = 40
        ds = {"synthetic": {"task": "integration", "channels": 4, "steps": steps, "threshold": 6}}
    else:
        enc = rng.choice([{"type": "poisson", "steps": rng.randint(5, 10), "rate": 1.0},
                          {"type": "constant", "steps": rng.randint(5, 10), "gain": 1.0}])
        return {"dataset": {"builtin": "mnist10k"},
                "split": {"train": rng.choice([300, 500, 800]), "test": 200}, "encoding": enc,
                "layers": [{"type": "lif", "units": rng.choice([16, 32]), "reset": rng.choice(["zero", "subtract"])}],
                "batch_size": 64, "epochs": rng.randint(1, 2), "seed": seed}
    layers = [{"type": "lif", "units": rng.choice([8, 16, 32]), "leak_init": [0.0, 0.1],
               "surrogate": rng.choice(["flat", "superspike", "sigmoid", "triangle"])}]
    if rng.random() < 0.3:
        layers.insert(0, {"type": "dense", "units": 16, "activation": "relu"})
    return {"dataset": ds, "encoding": {"type": "raster", "steps": steps}, "layers": layers,
            "epochs": rng.randint(1, 5), "seed": seed}


def random_job(rng):
    c = rng.random()
    if c < 0.4:
        return {"kind": "mi", "spec": mi_spec(rng)}
    if c < 0.75:
        return {"kind": "evolution", "spec": evolution_spec(rng)}
    return {"kind": "lif", "spec": lif_spec(rng)}


# --------------------------------------------------------------------------------------------
# The soak


def expect(*statuses):
    s = set(statuses)
    return lambda code: code in s


def is_4xx(code):
    return 400 <= code < 500


class Soak:
    def __init__(self, args, port, pid, db_prefix):
        self.args = args
        self.db_prefix = db_prefix  # the database's files (db, -wal, -shm): one set per pooled connection
        self.port = port
        self.pid = pid
        self.http = Http(port, args.request_timeout)
        self.rec = Recorder()
        self.jobs = Jobs()
        self.stop = threading.Event()
        self.cancel_lock = threading.Lock()
        self.cancel_queue = []  # (due, id)
        self.plot_urls = {}  # job id -> [url]
        self.sse_open = 0
        self.sse_lock = threading.Lock()

    # ---- one request, recorded

    def call(self, kind, op, method, path, ok, body=None, headers=None, fresh=False, keep=True,
             close_ok=False):
        if kind == "bad":
            # Each bad request on a connection of its own: a server may rightly hang up after
            # one, and what one does must not be blamed on the next.
            fresh, keep = True, False
        t = time.monotonic()
        try:
            resp = self.http.request(method, path, body=body, headers=headers, fresh=fresh, keep=keep)
        except Transport as e:
            self.rec.record_transport(kind, op, method, path, e, tolerated=close_ok)
            return None
        good = ok(resp.status) if callable(ok) else ok
        self.rec.record(kind, op, method, path, resp, good, time.monotonic() - t)
        return resp

    def job_ok(self, job_id, *statuses):
        """Expected statuses for a request on a job we own; 404 is fine once we deleted it."""
        s = set(statuses)

        def ok(code):
            if code in s:
                return True
            j = self.jobs.get(job_id)
            return code == 404 and j is not None and j["deleted"] is not None
        return ok

    def submit(self, body, op, how, headers=None, wait=None, ok=None, kind="valid"):
        path = "/v1/jobs" + (f"?wait={wait}" if wait is not None else "")
        hdrs = {"Content-Type": JSON_CT} if headers is None else headers
        data = json.dumps(body) if not isinstance(body, (bytes, str)) else body
        resp = self.call(kind, op, "POST", path, ok or expect(201, 200, 202), body=data, headers=hdrs)
        if resp is not None and 200 <= resp.status < 300:
            try:
                view = resp.json()
                self.jobs.add(view["id"], view.get("kind"), how)
                return view
            except Exception:
                self.rec.record(kind, op + "_not_a_job_view", "POST", path, resp, False, 0.0)
        return None

    def queued(self):
        resp = self.call("valid", "list_queued", "GET", "/v1/jobs?status=queued&limit=100", expect(200))
        if resp is None or resp.status != 200:
            return 0
        try:
            return len(resp.json().get("jobs", []))
        except Exception:
            return 0

    # ---- workers

    def guarded(self, name, fn):
        def run():
            while not self.stop.is_set():
                try:
                    fn()
                except Exception:
                    self.rec.harness(name)
                    time.sleep(0.5)
        t = threading.Thread(target=run, name=name, daemon=True)
        t.start()
        return t

    def submitter(self, rng):
        def step():
            if self.queued() >= self.args.max_queued:
                self.stop.wait(0.5)
                return
            c = rng.random()
            if c < 0.15:  # a longer evolution to cancel while queued or running
                view = self.submit({"kind": "evolution", "spec": evolution_spec(rng, long=True),
                                    "name": "soak cancel"}, "submit", "cancel-target")
                if view:
                    with self.cancel_lock:
                        self.cancel_queue.append((time.monotonic() + rng.uniform(0.0, 1.2), view["id"]))
            elif c < 0.22:  # the same, left to finish: SSE clients follow these while they run
                view = self.submit({"kind": "evolution", "spec": evolution_spec(rng, long=True),
                                    "name": "soak long"}, "submit", "long")
            elif c < 0.3:
                view = self.submit(random_job(rng), "submit_wait", "wait", wait=rng.choice([5, 10]))
            elif c < 0.37:
                self.submit(random_job(rng), "submit_charset", "charset",
                            headers={"Content-Type": "application/json; charset=utf-8"})
                view = None
            else:
                job = random_job(rng)
                job["name"] = f"soak {job['kind']}"
                job["priority"] = rng.randint(-5, 5)
                view = self.submit(job, "submit", "plain")
            if view and view.get("kind") == "lif" and view.get("spec", {}).get("dataset", {}).get("builtin"):
                j = self.jobs.get(view["id"])
                if j:
                    j["mnist"] = True
            self.stop.wait(rng.uniform(0.05, self.args.submit_pause))
        return step

    def canceller(self, rng):
        def step():
            now = time.monotonic()
            due = []
            with self.cancel_lock:
                keep = []
                for d, i in self.cancel_queue:
                    (due if d <= now else keep).append((d, i))
                self.cancel_queue = keep
            for _, i in due:
                j = self.jobs.get(i)
                if j:
                    j["cancel"] = True
                self.call("valid", "cancel", "POST", f"/v1/jobs/{i}/cancel", self.job_ok(i, 202, 409))
            # now and then, cancel something random (mostly already finished: 409)
            if rng.random() < 0.05:
                i = self.jobs.pick(rng, 0.5)
                if i:
                    j = self.jobs.get(i)
                    j["cancel"] = True
                    self.call("valid", "cancel", "POST", f"/v1/jobs/{i}/cancel", self.job_ok(i, 202, 409))
            self.stop.wait(0.05)
        return step

    def reader(self, rng):
        def step():
            c = rng.random()
            i = self.jobs.pick(rng, 0.4)
            if c < 0.12 or i is None:
                q = rng.choice(["/v1/jobs", "/v1/jobs?limit=20", "/v1/jobs?status=succeeded&limit=50",
                                "/v1/jobs?kind=evolution&limit=10", "/v1/jobs?status=running",
                                "/v1/jobs?kind=lif&status=cancelled&limit=5"])
                resp = self.call("valid", "list", "GET", q, expect(200))
                if resp is not None and resp.status == 200 and rng.random() < 0.5:
                    cur = resp.json().get("next_cursor")
                    if cur:
                        self.call("valid", "list_page", "GET", f"/v1/jobs?limit=20&cursor={cur}", expect(200))
            elif c < 0.25:
                self.call("valid", "job", "GET", f"/v1/jobs/{i}", self.job_ok(i, 200))
            elif c < 0.35:
                self.call("valid", "result", "GET", f"/v1/jobs/{i}/result", self.job_ok(i, 200, 409))
            elif c < 0.43:
                self.call("valid", "job_metrics", "GET", f"/v1/jobs/{i}/metrics", self.job_ok(i, 200))
            elif c < 0.49:
                path = f"/v1/jobs/{i}/checkpoints" + rng.choice(["", "/latest"])
                self.call("valid", "checkpoints", "GET", path, self.job_ok(i, 200, 404) if path.endswith("latest")
                          else self.job_ok(i, 200))
            elif c < 0.6:
                urls = self.plot_urls.get(i)
                if not urls:
                    resp = self.call("valid", "plots", "GET", f"/v1/jobs/{i}/plots", self.job_ok(i, 200))
                    if resp is not None and resp.status == 200:
                        urls = [p["url"] for p in resp.json().get("plots", [])]
                        self.plot_urls[i] = urls
                if urls:
                    u = rng.choice(urls)
                    if rng.random() < 0.3:
                        u += f"?width={rng.randint(200, 900)}&height={rng.randint(200, 700)}"
                    self.call("valid", "plot_svg", "GET", u, self.job_ok(i, 200))
            elif c < 0.66:
                name = rng.choice(["metrics.csv", "weights.npy", "weights.json", "model.json"])
                self.call("valid", "artifact", "GET", f"/v1/jobs/{i}/artifacts/{name}", self.job_ok(i, 200, 404, 409))
            elif c < 0.69:
                j = self.jobs.get(i)
                if j and j["mnist"]:
                    inputs = [[round(rng.random(), 2) for _ in range(784)] for _ in range(rng.randint(1, 3))]
                    self.call("valid", "predict", "POST", f"/v1/models/{i}/predict", self.job_ok(i, 200, 409),
                              body=json.dumps({"inputs": inputs}), headers={"Content-Type": JSON_CT})
            elif c < 0.72:
                # delete a job that we see finished (its final state is kept for the check)
                resp = self.call("valid", "job", "GET", f"/v1/jobs/{i}", self.job_ok(i, 200))
                if resp is not None and resp.status == 200:
                    view = resp.json()
                    j = self.jobs.get(i)
                    if view.get("status") in TERMINAL and j and j["deleted"] is None and rng.random() < 0.3:
                        j["deleted"] = {"status": view["status"], "attempts": view.get("attempts"),
                                        "error": view.get("error")}
                        r = self.call("valid", "delete", "DELETE", f"/v1/jobs/{i}", expect(204))
                        if r is None or r.status != 204:
                            j["deleted"] = None
            elif c < 0.82:
                self.call("valid", "prometheus", "GET", "/metrics", expect(200))
            elif c < 0.9:
                p = rng.choice(["/healthz", "/readyz"])
                self.call("valid", p.strip("/"), "GET", p, expect(200))
            elif c < 0.95:
                self.call("valid", "datasets", "GET", rng.choice(["/v1/datasets", "/v1/datasets/mnist10k"]),
                          expect(200))
            else:
                self.call("valid", "openapi", "GET", "/openapi.json", expect(200))
            self.stop.wait(rng.uniform(0, 2.0 / self.args.read_rps * self.args.readers))
        return step

    def abuser(self, rng):
        u = lambda: str(uuid.uuid4())  # noqa: E731
        valid_body = lambda: json.dumps({"kind": "mi", "spec": mi_spec(rng)})  # noqa: E731

        def bad_submit(op, body, headers):
            # A bad submission the server accepts is a finding (counted) and a job (tracked).
            self.submit(body, op, "bad:" + op, headers=headers, ok=is_4xx, kind="bad")

        cases = [
            (6, lambda: self.call("bad", "unknown_events", "GET", f"/v1/jobs/{u()}/events", expect(404))),
            (3, lambda: self.call("bad", "unknown_job", rng.choice(["GET", "DELETE"]), f"/v1/jobs/{u()}",
                                  expect(404))),
            (3, lambda: self.call("bad", "unknown_job_sub", "GET",
                                  f"/v1/jobs/{u()}/" + rng.choice(["result", "metrics", "checkpoints",
                                                                   "checkpoints/latest", "plots",
                                                                   "plots/fitness.svg",
                                                                   "artifacts/weights.npy"]), expect(404))),
            (2, lambda: self.call("bad", "unknown_job_post", "POST",
                                  f"/v1/jobs/{u()}/" + rng.choice(["cancel", "resume"]), expect(404))),
            (1, lambda: self.call("bad", "unknown_model", "POST", f"/v1/models/{u()}/predict", expect(404),
                                  body='{"inputs": [[0.0]]}', headers={"Content-Type": JSON_CT})),
            (1, lambda: self.call("bad", "unknown_dataset", "GET", f"/v1/datasets/{u()}", expect(404))),
            (2, lambda: self.call("bad", "invalid_id", "GET",
                                  rng.choice(["/v1/jobs/not-a-uuid", "/v1/jobs/%ff%fe", "/v1/jobs/1234/events",
                                              "/v1/jobs/" + "a" * 300 + "/result"]), is_4xx)),
            (1, lambda: self.call("bad", "unknown_route", rng.choice(["GET", "POST"]),
                                  rng.choice(["/v1/nope", "/v2/jobs", "/v1/jobs/x/y/z/w", "/admin"]), is_4xx)),
            (3, lambda: bad_submit("malformed_json",
                                   rng.choice(['{"kind": "mi", "spec": {', "{", "nul", '{"kind": mi}', "",
                                               '{"kind": "mi", "spec": {}}}', "[" * 5000 + "]" * 5000,
                                               b'{"kind": "\xff\xfe"}', '{"kind": "mi", "spec": NaN}']),
                                   {"Content-Type": JSON_CT})),
            (2, lambda: bad_submit("wrong_json_type",
                                   rng.choice(["[1,2,3]", '"mi"', "42", "null", '{"kind": 5, "spec": {}}',
                                               '{"kind": "mi", "spec": []}', '{"kind": "mi", "spec": "x"}']),
                                   {"Content-Type": JSON_CT})),
            (3, lambda: bad_submit("invalid_spec", json.dumps(rng.choice([
                {"kind": "mi", "spec": {"network": {"ensemble": {"n": 40}}, "method": "exact"}},
                {"kind": "mi", "spec": {"network": {}}},
                {"kind": "mi", "spec": {"network": {"weights": [[1, 2]]}}},
                {"kind": "evolution", "spec": {"n": 4, "generations": -1}},
                {"kind": "evolution", "spec": {"n": 4, "parents": 0}},
                {"kind": "lif", "spec": {"dataset": {"id": u()}}},
                {"kind": "lif", "spec": {"epochs": 0}},
                {"kind": "nope", "spec": {}},
                {"kind": "mi", "spec": mi_spec(rng), "max_attempts": 0},
                {"kind": "mi", "spec": mi_spec(rng), "priority": 10**30},
                {"kind": "mi", "spec": mi_spec(rng), "priority": -2**63},
                {"kind": "mi", "spec": mi_spec(rng), "priority": 2**63 - 1},
                {"kind": "mi", "spec": mi_spec(rng), "max_attempts": -2**63},
            ])), {"Content-Type": JSON_CT})),
            (3, lambda: bad_submit("wrong_content_type", valid_body(),
                                   rng.choice([{"Content-Type": "text/plain"},
                                               {"Content-Type": "application/x-www-form-urlencoded"},
                                               {"Content-Type": "multipart/form-data; boundary=x"},
                                               {}]))),
            (1, lambda: self.call("bad", "wrong_content_type_predict", "POST",
                                  f"/v1/models/{self.jobs.pick(rng) or u()}/predict", is_4xx,
                                  body='{"inputs": [[0.0]]}', headers={"Content-Type": "text/plain"})),
            (2, lambda: self.call("bad", "huge_query", "GET",
                                  rng.choice(["/v1/jobs?cursor=", "/v1/jobs?status=", "/v1/jobs?kind=",
                                              "/v1/jobs?limit="]) + "A" * rng.choice([8_000, 70_000, 300_000]),
                                  is_4xx, fresh=True, keep=False, close_ok=True)),
            (1, lambda: self.call("bad", "huge_query_plot", "GET",
                                  f"/v1/jobs/{self.jobs.pick(rng) or u()}/plots/fitness.svg?width="
                                  + "9" * rng.choice([100, 20_000]), is_4xx, fresh=True, keep=False,
                                  close_ok=True)),
            (2, lambda: self.call("bad", "random_method",
                                  rng.choice(["PUT", "PATCH", "TRACE", "PROPFIND", "BREW", "PURGE"])
                                  if rng.random() < 0.5 else
                                  "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(rng.randint(3, 12))),
                                  rng.choice(["/v1/jobs", "/healthz", "/metrics", f"/v1/jobs/{u()}",
                                              "/v1/datasets"]), is_4xx, fresh=True, keep=False)),
            (1, lambda: self.call("bad", "malformed_multipart", "POST", "/v1/datasets", is_4xx,
                                  body=rng.choice([b"--x\r\nContent-Disposition: form-data; name=\"images\"\r\n\r\nabc",
                                                   b"not multipart at all",
                                                   b"--x\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nd\r\n--x--\r\n"]),
                                  headers={"Content-Type": "multipart/form-data; boundary=x"})),
            (1, lambda: self.call("bad", "dataset_json", "POST", "/v1/datasets", is_4xx,
                                  body='{"name": "x"}', headers={"Content-Type": JSON_CT})),
            (1, lambda: self.call("bad", "bad_list_params", "GET",
                                  rng.choice(["/v1/jobs?limit=0", "/v1/jobs?limit=100000", "/v1/jobs?limit=-1",
                                              "/v1/jobs?status=bogus", "/v1/jobs?kind=bogus",
                                              "/v1/jobs?cursor=%%%", "/v1/jobs?wait=abc"]),
                                  lambda code: is_4xx(code) or code == 200)),
        ]
        weights = [w for w, _ in cases]
        fns = [f for _, f in cases]

        def step():
            rng.choices(fns, weights)[0]()
            self.stop.wait(rng.uniform(0, 2.0 / self.args.abuse_rps * self.args.abusers))
        return step

    def sse_client(self, rng):
        def step():
            c = rng.random()
            known = True
            if c < 0.3:  # a recent long job, else the newest: most likely queued or running
                i = self.jobs.newest(long_within=3.0) or self.jobs.newest()
            elif c < 0.6:
                i = self.jobs.pick(rng, 1.0)
            elif c < 0.85:
                i = self.jobs.pick(rng, 0.0)
            else:
                i, known = str(uuid.uuid4()), False
            if i is None:
                self.stop.wait(0.2)
                return
            # half hang up early (mid-stream, while the job still runs), half stay up to the end
            secs = rng.uniform(0.05, 0.6) if rng.random() < 0.5 else rng.uniform(0.2, self.args.sse_max_secs)
            self.one_stream(i, known, secs)
            self.stop.wait(rng.uniform(0, 0.5))
        return step

    def one_stream(self, job_id, known, secs):
        path = f"/v1/jobs/{job_id}/events"
        deadline = time.monotonic() + secs
        conn = http.client.HTTPConnection(HOST, self.port, timeout=self.args.request_timeout)
        with self.sse_lock:
            self.sse_open += 1
        try:
            t = time.monotonic()
            try:
                conn.request("GET", path, headers={"Accept": "text/event-stream"})
                resp = conn.getresponse()
            except (OSError, http.client.HTTPException) as e:
                self.rec.record_transport("valid" if known else "bad", "sse" if known else "unknown_events_sse",
                                          "GET", path, e, tolerated=False)
                return
            status = resp.status
            if status != 200:
                body = resp.read()
                deleted = known and (self.jobs.get(job_id) or {}).get("deleted") is not None
                ok = status == 404 and (not known or deleted)
                self.rec.record("valid" if known else "bad", "sse" if known else "unknown_events_sse", "GET", path,
                                Response(status, {}, body), ok, time.monotonic() - t)
                return
            self.rec.record("valid" if known else "bad", "sse" if known else "unknown_events_sse", "GET", path,
                            Response(status, {}, b""), known, time.monotonic() - t)
            ctype = resp.getheader("content-type", "")
            if not ctype.startswith("text/event-stream"):
                self.rec.sse_error("content_type", ctype)
            events = []
            event = None
            ended = False
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or self.stop.is_set():
                    break
                conn.sock.settimeout(max(0.05, left))
                try:
                    line = resp.readline()
                except (socket.timeout, TimeoutError):
                    break  # our deadline: hang up mid-stream
                except (OSError, http.client.HTTPException) as e:
                    self.rec.sse_error("stream_broken", f"{job_id}: {type(e).__name__}: {e}")
                    break
                if not line:
                    ended = True
                    break
                line = line.rstrip(b"\r\n")
                if line.startswith(b"event:"):
                    event = line[6:].strip().decode("utf-8", "replace")
                elif line == b"" and event is not None:
                    events.append(event)
                    with self.rec.lock:
                        self.rec.sse_events[event] += 1
                    event = None
            with self.rec.lock:
                self.rec.sse_streams["ended_by_server" if ended else "closed_by_client"] += 1
            if events and events[0] != "snapshot":
                self.rec.sse_error("first_event_not_snapshot", f"{job_id}: {events[:5]}")
            if ended and (not events or events[-1] != "done"):
                self.rec.sse_error("ended_without_done", f"{job_id}: {events[-5:]}")
        finally:
            conn.close()
            with self.sse_lock:
                self.sse_open -= 1

    # ---- sampling

    def proc_sample(self):
        out = {}
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    k, _, v = line.partition(":")
                    if k in ("VmRSS", "VmHWM"):
                        out[k] = int(v.split()[0]) / 1024.0
                    elif k == "Threads":
                        out[k] = int(v.split()[0])
            fds = os.listdir(f"/proc/{self.pid}/fd")
            out["fds"] = len(fds)
            db = 0
            for fd in fds:
                try:
                    if os.readlink(f"/proc/{self.pid}/fd/{fd}").startswith(self.db_prefix):
                        db += 1
                except OSError:
                    pass
            out["fds_db"] = db
        except (OSError, ValueError):
            return None
        return out

    def sample(self, t0, phase):
        p = self.proc_sample()
        if p is None:
            return None
        row = {"t": round(time.monotonic() - t0, 1), "phase": phase, "rss_mb": round(p.get("VmRSS", 0), 1),
               "hwm_mb": round(p.get("VmHWM", 0), 1), "fds": p["fds"], "fds_db": p["fds_db"],
               "fds_other": p["fds"] - p["fds_db"], "threads": p.get("Threads"),
               "jobs": len(self.jobs), "requests": self.rec.requests, "n5xx": self.rec.n5xx,
               "sse_open": self.sse_open}
        try:
            resp = self.http.request("GET", "/metrics", fresh=True, keep=False)
            text = resp.body.decode("utf-8", "replace")
            row["metrics_kb"] = round(len(resp.body) / 1024, 1)
            gauges = dict(re.findall(r'^fluxlab_jobs\{status="(\w+)"\} (\d+)', text, re.M))
            row["queued"] = int(gauges.get("queued", -1))
            row["running"] = int(gauges.get("running", -1))
            row["done"] = sum(int(gauges.get(s, 0)) for s in TERMINAL)
        except Transport:
            row["metrics_kb"] = None
        return row


# --------------------------------------------------------------------------------------------
# Server process


def free_port():
    s = socket.socket()
    s.bind((HOST, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def find_binary(arg):
    if arg:
        return arg if os.path.isfile(arg) and os.access(arg, os.X_OK) else None
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    for rel in ("target/release/fluxlab", "target/debug/fluxlab"):
        p = os.path.join(root, rel)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    return None


def start_server(binary, tmp, extra):
    for _ in range(3):
        port = free_port()
        log = open(os.path.join(tmp, "server.log"), "ab")
        env = dict(os.environ, NO_COLOR="1", RUST_LOG=os.environ.get("RUST_LOG", "info"))
        proc = subprocess.Popen([binary, "serve", "--bind", f"{HOST}:{port}",
                                 "--database", f"sqlite://{tmp}/soak.db", *extra],
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            try:
                c = http.client.HTTPConnection(HOST, port, timeout=2)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    c.close()
                    return proc, port
                c.close()
            except OSError:
                pass
            time.sleep(0.1)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return None, None


def log_summary(path):
    ansi = re.compile(r"\x1b\[[0-9;]*m")
    levels = collections.Counter()
    top = collections.Counter()
    panics = collections.Counter()
    last_panic = None  # where a panic was reported, until its message line is read
    pending = None  # (site, message, lines left) until the first fluxlab frame of its backtrace
    try:
        with open(path, "rb") as f:
            for raw in f:
                line = ansi.sub("", raw.decode("utf-8", "replace"))
                if last_panic is not None:  # the line after "panicked at <where>:" is the message
                    pending = (last_panic, line.strip()[:120], 60)
                    last_panic = None
                    continue
                if pending is not None:
                    f = re.search(r"^\s*\d+: (fluxlab::\S+)", line)
                    if f or pending[2] <= 0 or "panicked at" in line:
                        site = f.group(1) if f else pending[0]
                        panics[f"{site}: {pending[1]}"] += 1
                        pending = None
                    else:
                        pending = (pending[0], pending[1], pending[2] - 1)
                        continue
                m = re.search(r"panicked at (\S+?):?$", line.strip())
                if m:
                    last_panic = m.group(1)
                    continue
                m = re.search(r"\b(ERROR|WARN)\b\s+(\S+)\s*(.*)", line)
                if m:
                    levels[m.group(1)] += 1
                    msg = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "<id>", m.group(3))
                    msg = re.sub(r"\d+(\.\d+)?", "N", msg)
                    top[f"{m.group(1)} {m.group(2)} {msg[:110]}"] += 1
    except OSError:
        pass
    if pending is not None:
        panics[f"{pending[0]}: {pending[1]}"] += 1
    elif last_panic is not None:
        panics[last_panic] += 1
    return {"warn": levels["WARN"], "error": levels["ERROR"], "panics": sum(panics.values()),
            "panic_sites": [{"n": n, "where": w} for w, n in panics.most_common(8)],
            "top": [{"n": n, "line": l} for l, n in top.most_common(8)]}


# --------------------------------------------------------------------------------------------
# Checks


def thirds(values):
    k = len(values) // 3
    return values[k:2 * k], values[2 * k:]


def flat_check(samples, key, tol, slack, unit, spikes=0):
    """max(last third) <= max(middle third) * (1 + tol) + slack, each third's `spikes` highest
    samples left out (a one-sample peak that is gone 5 s later is not a leak)."""
    vals = [s[key] for s in samples]
    if len(vals) < 6:
        return None, f"skipped: {len(vals)} load samples (< 6)"
    mid, last = (sorted(third)[:len(third) - spikes] or third for third in thirds(vals))
    limit = max(mid) * (1 + tol) + slack
    ok = max(last) <= limit
    which = f" ({spikes} highest sample(s) of each third left out)" if spikes else ""
    return ok, (f"max last third {max(last):.1f}{unit} <= max middle third {max(mid):.1f}{unit}"
                f" x {1 + tol:.2f} + {slack}{unit} = {limit:.1f}{unit}{which}" if ok else
                f"max last third {max(last):.1f}{unit} > max middle third {max(mid):.1f}{unit}"
                f" x {1 + tol:.2f} + {slack:g}{unit} = {limit:.1f}{unit}{which}")


def slope_per_min(samples, key):
    pts = [(s["t"], s[key]) for s in samples]
    pts = pts[len(pts) // 3:]
    if len(pts) < 3:
        return None
    mt = sum(t for t, _ in pts) / len(pts)
    mv = sum(v for _, v in pts) / len(pts)
    den = sum((t - mt) ** 2 for t, _ in pts)
    return None if den == 0 else round(60 * sum((t - mt) * (v - mv) for t, v in pts) / den, 2)


def pct(xs, q):
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def final_jobs(soak, drain_secs, samples, t0, next_sample):
    """Polls every job until terminal or the drain ends. Returns (views by id, missing ids)."""
    http_ = soak.http
    views = {}
    pending = {j["id"] for j in soak.jobs.all() if j["deleted"] is None}
    deadline = time.monotonic() + drain_secs
    vanished = set()
    while pending and time.monotonic() < deadline:
        for i in list(pending):
            try:
                r = http_.request("GET", f"/v1/jobs/{i}")
            except Transport:
                continue
            if r.status == 404:
                vanished.add(i)
                pending.discard(i)
            elif r.status == 200:
                v = r.json()
                views[i] = v
                if v.get("status") in TERMINAL:
                    pending.discard(i)
        if time.monotonic() >= next_sample[0]:
            row = soak.sample(t0, "drain")
            if row:
                samples.append(row)
            next_sample[0] += soak.args.sample_secs
        if pending:
            time.sleep(0.5)
    return views, vanished


def list_all(http_):
    """Every job the server lists (paging through next_cursor)."""
    out, cursor, pages = [], None, 0
    while pages < 200:
        path = "/v1/jobs?limit=500" + (f"&cursor={cursor}" if cursor else "")
        r = http_.request("GET", path)
        if r.status != 200:
            raise RuntimeError(f"GET {path}: {r.status} {short(r.body)}")
        d = r.json()
        out.extend(d.get("jobs", []))
        cursor = d.get("next_cursor")
        pages += 1
        if not cursor:
            break
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binary", nargs="?", help="fluxlab binary (default target/release/fluxlab, "
                                              "else target/debug/fluxlab)")
    ap.add_argument("--binary", dest="binary_opt", help="same as the positional argument")
    ap.add_argument("--minutes", type=float, default=2.0, help="load phase length (fractional allowed)")
    ap.add_argument("--json", help="write the summary as JSON to this file")
    ap.add_argument("--seed", type=int, default=None, help="seed of the request mix (default: random)")
    ap.add_argument("--sample-secs", type=float, default=5.0)
    ap.add_argument("--drain-secs", type=float, default=90.0, help="how long jobs may take to end after the load")
    ap.add_argument("--submitters", type=int, default=2)
    ap.add_argument("--submit-pause", type=float, default=0.6, help="max seconds between a submitter's jobs")
    ap.add_argument("--max-queued", type=int, default=6, help="submitters wait while this many jobs are queued")
    ap.add_argument("--sse-clients", type=int, default=6)
    ap.add_argument("--sse-max-secs", type=float, default=4.0, help="longest an SSE client stays connected")
    ap.add_argument("--readers", type=int, default=2)
    ap.add_argument("--read-rps", type=float, default=40.0, help="target rate of all readers together")
    ap.add_argument("--abusers", type=int, default=2)
    ap.add_argument("--abuse-rps", type=float, default=60.0, help="target rate of all bad requests together")
    ap.add_argument("--request-timeout", type=float, default=30.0)
    ap.add_argument("--rss-tolerance", type=float, default=0.15)
    ap.add_argument("--rss-slack-mb", type=float, default=20.0)
    ap.add_argument("--rss-peak-mb", type=float, default=600.0)
    ap.add_argument("--fd-slack", type=int, default=10)
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (database, server.log)")
    ap.add_argument("--server-arg", action="append", default=[], help="extra argument for `fluxlab serve`")
    args = ap.parse_args()

    binary = find_binary(args.binary_opt or args.binary)
    if binary is None:
        print(f"soak: no fluxlab binary (tried {args.binary_opt or args.binary or 'target/release/fluxlab, target/debug/fluxlab'}); "
              "run `cargo build --release` first", file=sys.stderr)
        return 2
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    tmp = tempfile.mkdtemp(prefix="fluxlab-soak-")
    proc, port = start_server(binary, tmp, args.server_arg)
    if proc is None:
        print(f"soak: the server did not start; its log:\n{open(os.path.join(tmp, 'server.log'), errors='replace').read()[-3000:]}",
              file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)
        return 2
    print(f"soak: {binary} (pid {proc.pid}) on {HOST}:{port}, database {tmp}/soak.db, "
          f"{args.minutes:g} min load, seed {seed}", flush=True)

    soak = Soak(args, port, proc.pid, os.path.join(os.path.realpath(tmp), "soak.db"))
    t0 = time.monotonic()
    samples = []
    start_row = soak.sample(t0, "start")
    samples.append(start_row)

    master = random.Random(seed)
    threads = []
    for k in range(args.submitters):
        threads.append(soak.guarded(f"submit{k}", soak.submitter(random.Random(master.random()))))
    threads.append(soak.guarded("cancel", soak.canceller(random.Random(master.random()))))
    for k in range(args.readers):
        threads.append(soak.guarded(f"read{k}", soak.reader(random.Random(master.random()))))
    for k in range(args.abusers):
        threads.append(soak.guarded(f"abuse{k}", soak.abuser(random.Random(master.random()))))
    for k in range(args.sse_clients):
        threads.append(soak.guarded(f"sse{k}", soak.sse_client(random.Random(master.random()))))

    load_end = t0 + args.minutes * 60
    next_sample = [t0 + args.sample_secs]
    server_died = None
    print(f"{'t/s':>6} {'phase':<6} {'rss/MB':>8} {'hwm/MB':>8} {'fds':>5} {'db':>3} {'thr':>4} {'jobs':>5} "
          f"{'queued':>6} {'run':>4} {'done':>5} {'reqs':>7} {'5xx':>4} {'sse':>4} {'metrics/KB':>10}", flush=True)

    def show(row):
        print(f"{row['t']:>6.1f} {row['phase']:<6} {row['rss_mb']:>8.1f} {row['hwm_mb']:>8.1f} {row['fds']:>5} {row['fds_db']:>3} "
              f"{row['threads'] or 0:>4} {row['jobs']:>5} {row.get('queued', -1):>6} {row.get('running', -1):>4} "
              f"{row.get('done', -1):>5} {row['requests']:>7} {row['n5xx']:>4} {row['sse_open']:>4} "
              f"{row.get('metrics_kb') if row.get('metrics_kb') is not None else '-':>10}", flush=True)

    show(start_row)
    try:
        while time.monotonic() < load_end:
            if proc.poll() is not None:
                server_died = f"exited with {proc.returncode} at t={time.monotonic() - t0:.0f}s"
                break
            time.sleep(min(0.2, max(0, load_end - time.monotonic())))
            if time.monotonic() >= next_sample[0]:
                row = soak.sample(t0, "load")
                if row:
                    samples.append(row)
                    show(row)
                next_sample[0] += args.sample_secs
    except KeyboardInterrupt:
        print("soak: interrupted, checking what ran so far", file=sys.stderr)
    soak.stop.set()
    for t in threads:
        t.join(timeout=args.request_timeout + 5)

    drain_t = time.monotonic()
    views, vanished = ({}, set())
    if server_died is None:
        n_before = len(samples)
        views, vanished = final_jobs(soak, args.drain_secs, samples, t0, next_sample)
        for row in samples[n_before:]:
            show(row)
    drain_secs = time.monotonic() - drain_t

    listed, list_error = [], None
    metrics_runs = None
    results_checked, results_bad = 0, []
    if server_died is None and proc.poll() is None:
        try:
            listed = list_all(soak.http)
        except (Transport, RuntimeError, ValueError) as e:
            list_error = str(e)
        try:
            r = soak.http.request("GET", "/metrics")
            metrics_runs = sum(int(float(v)) for v in re.findall(
                r"^fluxlab_job_run_duration_seconds_count\{[^}]*\} (\S+)", r.body.decode(), re.M))
        except (Transport, ValueError):
            pass
        rng = random.Random(seed)
        ok_ids = [i for i, v in views.items() if v.get("status") == "succeeded"]
        for i in rng.sample(ok_ids, min(len(ok_ids), 150)):
            try:
                r = soak.http.request("GET", f"/v1/jobs/{i}/result")
                results_checked += 1
                if r.status != 200:
                    results_bad.append(f"{i}: {r.status} {short(r.body, 120)}")
            except Transport as e:
                results_bad.append(f"{i}: {e}")

    # every client closed, then the end sample
    soak.http.close_all()
    time.sleep(2.0)
    end_row = soak.sample(t0, "end") if proc.poll() is None else None
    if end_row:
        # the sample itself opened (and closed) one connection; let it go before counting
        time.sleep(0.5)
        p = soak.proc_sample()
        if p:
            end_row.update(fds=p["fds"], fds_db=p["fds_db"], fds_other=p["fds"] - p["fds_db"])
        samples.append(end_row)
        show(end_row)

    # stop the server
    shutdown = {}
    if proc.poll() is None:
        ts = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=25 + 10)
            shutdown = {"exit_code": proc.returncode, "seconds": round(time.monotonic() - ts, 2)}
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            shutdown = {"exit_code": None, "seconds": None, "killed": True}
    else:
        shutdown = {"exit_code": proc.returncode, "seconds": None, "died_early": True}
        if server_died is None:
            server_died = f"exited with {proc.returncode} before the end"

    logs = log_summary(os.path.join(tmp, "server.log"))

    # ---- checks
    checks = {}

    def check(name, ok, detail):
        checks[name] = {"ok": ok, "detail": detail}

    check("server_alive", server_died is None, server_died or "ran to the end")
    check("clean_shutdown", shutdown.get("exit_code") == 0,
          f"SIGTERM -> exit {shutdown.get('exit_code')} in {shutdown.get('seconds')} s"
          + (" (killed)" if shutdown.get("killed") else ""))

    problems = []
    finals = collections.Counter()
    attempts_hist = collections.Counter()
    for j in soak.jobs.all():
        v = j["deleted"] or views.get(j["id"])
        if j["id"] in vanished and not j["deleted"]:
            problems.append(f"{j['id']} ({j['kind']}, {j['how']}): vanished (404) without a delete")
            continue
        if v is None:
            problems.append(f"{j['id']} ({j['kind']}, {j['how']}): never seen")
            continue
        st, att = v.get("status"), v.get("attempts")
        finals[st] += 1
        attempts_hist[att] += 1
        if st not in TERMINAL:
            problems.append(f"{j['id']} ({j['kind']}, {j['how']}): still {st} after the drain (attempts {att})")
        elif st == "succeeded" and att != 1:
            problems.append(f"{j['id']} ({j['kind']}, {j['how']}): succeeded after {att} attempts")
        elif st == "cancelled" and (att or 0) > 1:
            problems.append(f"{j['id']} ({j['kind']}, {j['how']}): cancelled after {att} attempts")
        elif st == "cancelled" and not j["cancel"]:
            problems.append(f"{j['id']} ({j['kind']}, {j['how']}): cancelled but never asked to")
        elif st == "failed":
            problems.append(f"{j['id']} ({j['kind']}, {j['how']}): failed after {att} attempts: {v.get('error')}")
    listed_stuck = [f"{x.get('id')} {x.get('status')}" for x in listed if x.get("status") not in TERMINAL]
    tracked = {j["id"] for j in soak.jobs.all()}
    untracked = [x.get("id") for x in listed if x.get("id") not in tracked]
    if listed_stuck:
        problems.append(f"job list: {len(listed_stuck)} not terminal: {listed_stuck[:5]}")
    if list_error:
        problems.append(f"job list failed: {list_error}")
    if results_bad:
        problems.append(f"{len(results_bad)} of {results_checked} succeeded jobs have no result: {results_bad[:3]}")
    attempts_total = sum(x.get("attempts") or 0 for x in listed) + sum(
        (j["deleted"].get("attempts") or 0) for j in soak.jobs.all() if j["deleted"])
    check("jobs_exactly_once", not problems and len(soak.jobs) > 0,
          (f"{len(soak.jobs)} jobs: " + ", ".join(f"{k} {n}" for k, n in sorted(finals.items(), key=str))
           + (f"; {len(problems)} problems: " + " | ".join(problems[:6]) if problems else "")
           if len(soak.jobs) else "no job was submitted"))
    check("no_5xx", soak.rec.n5xx == 0, f"{soak.rec.n5xx} responses 5xx")
    vu, vt = soak.rec.count("valid")
    check("valid_requests", vu == 0 and vt == 0,
          f"{vu} unexpected statuses, {vt} transport errors on valid requests")
    bu, bt = soak.rec.count("bad")
    bad_accepted = sum(1 for j in soak.jobs.all() if j["how"].startswith("bad:"))
    check("bad_requests_4xx", bu == 0 and bt == 0,
          f"{bu} bad requests answered with another status than 4xx ({bad_accepted} of them created jobs), "
          f"{bt} without an answer (connection dropped)")
    n_sse_err = sum(soak.rec.sse_errors.values())
    check("sse", n_sse_err == 0, f"{sum(soak.rec.sse_streams.values())} streams read, {n_sse_err} protocol errors"
          + (f": {dict(soak.rec.sse_errors)}" if n_sse_err else ""))
    load = [s for s in samples if s["phase"] == "load"]
    ok, detail = flat_check(load, "rss_mb", args.rss_tolerance, args.rss_slack_mb, " MB", spikes=1)
    check("rss_flat", ok, detail)
    peak = max((s["hwm_mb"] for s in samples), default=0.0)
    check("rss_peak", peak <= args.rss_peak_mb,
          f"peak RSS {peak:.1f} MB {'<=' if peak <= args.rss_peak_mb else '>'} {args.rss_peak_mb:g} MB")
    ok_fd, detail_fd = flat_check(load, "fds", args.rss_tolerance, args.fd_slack, "")
    fd_start = start_row["fds"]
    fd_end = end_row["fds"] if end_row else None
    other_start = start_row["fds_other"]
    other_end = end_row["fds_other"] if end_row else None
    end_ok = other_end is not None and other_end <= other_start + args.fd_slack
    check("fd_flat", (ok_fd is not False) and end_ok,
          f"{detail_fd}; at the end {other_end} FDs besides the database's vs {other_start} at the start "
          f"(limit {other_start + args.fd_slack}); database files open: {start_row['fds_db']} at the start, "
          f"{end_row['fds_db'] if end_row else None} at the end")
    check("no_panics", logs["panics"] == 0,
          f"{logs['panics']} panics in the server log"
          + (": " + "; ".join(f"{p['n']} × {p['where']}" for p in logs["panic_sites"][:3]) if logs["panics"] else ""))
    check("harness", not soak.rec.harness_errors,
          f"{len(soak.rec.harness_errors)} exceptions in the soak's own threads"
          + (": " + soak.rec.harness_errors[0]["trace"].strip().splitlines()[-1] if soak.rec.harness_errors else ""))

    # ---- report
    failed = [k for k, c in checks.items() if c["ok"] is False]
    lat = {}
    with soak.rec.lock:
        for op, xs in sorted(soak.rec.latency.items()):
            lat[op] = {"n": len(xs), "p50_ms": round(1000 * pct(xs, 0.5), 1), "p99_ms": round(1000 * pct(xs, 0.99), 1),
                       "max_ms": round(1000 * max(xs), 1)}
    rss = [s["rss_mb"] for s in load] or [start_row["rss_mb"]]
    summary = {
        "binary": binary, "seed": seed, "minutes": args.minutes, "port": port,
        "wall_seconds": round(time.monotonic() - t0, 1), "drain_seconds": round(drain_secs, 1),
        "ok": not failed, "failed_checks": failed, "checks": checks,
        "figures": {
            "rss_start_mb": start_row["rss_mb"], "rss_max_load_mb": max(rss),
            "rss_end_mb": end_row["rss_mb"] if end_row else None,
            "rss_hwm_mb": max(s["hwm_mb"] for s in samples),
            "rss_slope_mb_per_min": slope_per_min(load, "rss_mb"),
            "fd_start": fd_start, "fd_max_load": max((s["fds"] for s in load), default=None), "fd_end": fd_end,
            "requests": soak.rec.requests, "jobs": len(soak.jobs), "jobs_final": dict(finals),
            "attempts_histogram": {str(k): n for k, n in attempts_hist.items()},
            "attempts_total": attempts_total, "runs_counted_by_metrics": metrics_runs,
            "jobs_listed": len(listed), "jobs_untracked_in_list": len(untracked),
            "results_checked": results_checked,
            "sse_streams": dict(soak.rec.sse_streams), "sse_events": dict(soak.rec.sse_events),
            "metrics_kb_end": end_row.get("metrics_kb") if end_row else None,
            "server_log": logs, "shutdown": shutdown,
        },
        "statuses_by_op": {op: {str(k): n for k, n in c.items()} for op, c in sorted(soak.rec.by_op.items())},
        "latency_by_op": lat,
        "examples": {"5xx": soak.rec.examples_5xx, "unexpected": soak.rec.examples_unexpected,
                     "transport": soak.rec.examples_transport, "sse": soak.rec.examples_sse,
                     "harness": soak.rec.harness_errors},
        "samples": samples,
        "tmpdir": tmp if args.keep else None,
    }

    print()
    print("requests by operation (status: count):")
    for op, c in summary["statuses_by_op"].items():
        l = lat.get(op, {})
        print(f"  {soak.rec.kind_of_op.get(op, ''):<5} {op:<28} {', '.join(f'{k}: {n}' for k, n in sorted(c.items()))}"
              + (f"   p50 {l['p50_ms']} ms, p99 {l['p99_ms']} ms, max {l['max_ms']} ms" if l else ""))
    for name, exs in (("5xx", soak.rec.examples_5xx), ("unexpected", soak.rec.examples_unexpected),
                      ("transport", soak.rec.examples_transport), ("sse", soak.rec.examples_sse)):
        if exs:
            print(f"examples ({name}):")
            for e in exs[:10]:
                print("  " + json.dumps(e, ensure_ascii=False)[:400])
    for h in soak.rec.harness_errors[:2]:
        print(f"harness error in {h['where']}:\n{h['trace']}")
    if logs["warn"] or logs["error"]:
        print(f"server log: {logs['warn']} WARN, {logs['error']} ERROR lines; most common:")
        for t in logs["top"]:
            print(f"  {t['n']:>6} × {t['line']}")
    print()
    for name, c in checks.items():
        mark = "PASS" if c["ok"] else ("skip" if c["ok"] is None else "FAIL")
        print(f"{mark:<5} {name:<18} {c['detail']}")
    n_pass = sum(1 for c in checks.values() if c["ok"] is True)
    n_skip = sum(1 for c in checks.values() if c["ok"] is None)
    print(f"checks: {n_pass} passed, {len(failed)} failed" + (f", {n_skip} skipped" if n_skip else ""))
    f = summary["figures"]
    print()
    print(f"soak: {'PASS' if not failed else 'FAIL (' + ', '.join(failed) + ')'} — {args.minutes:g} min, "
          f"{f['jobs']} jobs ({', '.join(f'{k} {n}' for k, n in sorted(finals.items(), key=str))}), "
          f"{f['requests']} requests, {soak.rec.n5xx} 5xx, RSS {f['rss_start_mb']:.0f} -> max {f['rss_max_load_mb']:.0f}"
          f" -> end {f['rss_end_mb'] if f['rss_end_mb'] is not None else float('nan'):.0f} MB"
          f" (slope {f['rss_slope_mb_per_min']} MB/min), FDs {fd_start} -> max {f['fd_max_load']} -> end {fd_end}, "
          f"seed {seed}", flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(summary, fh, indent=2, default=str)
    if args.keep:
        print(f"soak: kept {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
