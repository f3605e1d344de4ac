"""Fixtures: the real fluxlab binary serving on a free loopback port with a temporary SQLite
database and one admin token, and clients for it."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest

import fluxlab

ROOT = Path(__file__).resolve().parents[3]


def binary() -> Path:
    path = Path(os.environ.get("FLUXLAB_BIN", ROOT / "target" / "debug" / "fluxlab"))
    if not path.is_file():
        pytest.exit(f"{path} is missing: run `cargo build` first (or set FLUXLAB_BIN)", returncode=2)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A running `fluxlab serve`; `url`, `token` (an admin's), `log` (its output file)."""

    def __init__(self, tmp: Path) -> None:
        self.bin = binary()
        database = f"sqlite://{tmp / 'client-tests.db'}"
        run = lambda *args: subprocess.run(  # noqa: E731
            [str(self.bin), *args, "--database", database],
            check=True, capture_output=True, text=True, timeout=60,
        )
        run("user", "add", "py-admin", "--admin")
        out = run("token", "create", "--user", "py-admin").stdout
        self.token = next(line for line in out.split() if line.startswith("flx_"))
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.log = tmp / "server.log"
        self._log_file = open(self.log, "wb")
        self.process = subprocess.Popen(
            [
                str(self.bin), "serve", "--bind", f"127.0.0.1:{port}", "--database", database,
                "--rate-limit", "0", "--max-jobs", "2", "--shutdown-grace-secs", "5",
            ],
            stdout=self._log_file, stderr=subprocess.STDOUT, env={**os.environ, "NO_COLOR": "1"},
        )
        deadline = time.monotonic() + 30
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"fluxlab serve exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"fluxlab serve did not come up: {self.log.read_text()[-2000:]}")
            time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self._log_file.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = Server(tmp_path_factory.mktemp("fluxlab"))
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture()
def client(server: Server) -> Iterator[fluxlab.Client]:
    with fluxlab.Client(server.url, token=server.token, timeout=30) as c:
        yield c


@pytest.fixture()
def long_evolution(client: fluxlab.Client) -> Iterator[fluxlab.Job]:
    """An evolution that runs for minutes unless cancelled (always cancelled at the end)."""
    job = client.evolution(8, generations=1_000_000, parents=8, offspring=32, seed=5,
                           checkpoint_every=5, name="long")
    try:
        yield job
    finally:
        try:
            job.cancel()
        except fluxlab.ProblemError:
            pass
