"""A job on the server: its view, waiting with a progress bar fed by the event stream, and its
result, metrics, artifacts, plots and checkpoints as Python, pandas and NumPy objects."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Optional, Sequence, Union

import httpx
import numpy as np
import pandas as pd

from ._errors import FluxlabError, WaitTimeout
from ._http import MAX_WAIT_SECS, lines_bounded
from ._sse import Event, parse
from ._tables import LifModel, lif_model, metrics_frame, networks_frame

if TYPE_CHECKING:
    from ._client import Client

#: Statuses after which a job does not run again unless resumed.
TERMINAL = frozenset({"succeeded", "failed", "cancelled"})
#: How long the event stream may stay silent (the server sends a keep-alive every 15 s).
STREAM_READ_TIMEOUT = 60.0


class _Unset:
    """The default of an argument that was not given (``None`` has a meaning there)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET = _Unset()


class Svg:
    """An SVG image that Jupyter shows inline (``_repr_svg_``); ``data`` is its text."""

    def __init__(self, data: str, name: str = "plot") -> None:
        self.data = data
        self.name = name

    def _repr_svg_(self) -> str:
        return self.data

    def save(self, path: Union[str, Path]) -> Path:
        """Writes the SVG to ``path``."""
        target = Path(path)
        target.write_text(self.data, encoding="utf-8")
        return target

    def __repr__(self) -> str:
        return f"<Svg {self.name}: {len(self.data)} characters>"


class Job:
    """A job of the server. Properties read the last view fetched (``refresh()`` updates it);
    the methods that need a finished job wait for it first."""

    def __init__(self, client: "Client", view: dict[str, Any]) -> None:
        self._client = client
        self._view: dict[str, Any] = dict(view)

    # -- the view ------------------------------------------------------------------------

    @property
    def id(self) -> str:
        return str(self._view["id"])

    @property
    def view(self) -> dict[str, Any]:
        """The last job view fetched (a copy)."""
        return dict(self._view)

    @property
    def kind(self) -> str:
        return str(self._view.get("kind"))

    @property
    def name(self) -> Optional[str]:
        return self._view.get("name")

    @property
    def status(self) -> str:
        return str(self._view.get("status"))

    @property
    def tags(self) -> list[str]:
        return list(self._view.get("tags") or [])

    @property
    def notes(self) -> Optional[str]:
        return self._view.get("notes")

    @property
    def progress(self) -> dict[str, Any]:
        return dict(self._view.get("progress") or {})

    @property
    def error(self) -> Optional[dict[str, Any]]:
        return self._view.get("error")

    @property
    def spec(self) -> dict[str, Any]:
        """The job's spec (fetched when the last view was a listing without it)."""
        if self._view.get("spec") is None:
            self.refresh()
        return dict(self._view.get("spec") or {})

    @property
    def done(self) -> bool:
        """True once the job succeeded, failed or was cancelled (as of the last view)."""
        return self.status in TERMINAL

    def __repr__(self) -> str:
        name = f" {self.name!r}" if self.name else ""
        return f"<Job {self.id} {self.kind}{name} {self.status}>"

    def _path(self, tail: str = "") -> str:
        return f"/v1/jobs/{self.id}{tail}"

    def _update(self, view: Any) -> None:
        if isinstance(view, dict) and view.get("id") == self.id:
            spec = self._view.get("spec")
            self._view = dict(view)
            if self._view.get("spec") is None and spec is not None:
                self._view["spec"] = spec

    # -- lifecycle -----------------------------------------------------------------------

    def refresh(self, wait: Optional[float] = None) -> "Job":
        """Fetches the job view; with ``wait`` (seconds, at most 300) the server holds the
        answer until the job ends or the time passes."""
        params = None if wait is None else {"wait": _wait_param(wait)}
        answer = self._client._http.request("GET", self._path(), params=params, wait=wait)
        self._update(answer.json())
        return self

    def cancel(self) -> "Job":
        """Asks the server to stop the job (it checkpoints first)."""
        answer = self._client._http.request("POST", self._path("/cancel"))
        self._update(answer.json())
        return self

    def resume(self) -> "Job":
        """Puts a cancelled or failed job back in the queue; it continues from its checkpoint."""
        answer = self._client._http.request("POST", self._path("/resume"))
        self._update(answer.json())
        return self

    def delete(self) -> None:
        """Deletes the job with its metrics, checkpoints and artifacts."""
        self._client._http.request("DELETE", self._path())

    def update(
        self,
        *,
        tags: Union[Sequence[str], _Unset] = UNSET,
        notes: Union[str, None, _Unset] = UNSET,
    ) -> "Job":
        """Replaces the job's tags and/or notes (``PATCH``); ``notes=None`` clears the notes,
        an argument left out leaves that label as it is."""
        body: dict[str, Any] = {}
        if not isinstance(tags, _Unset):
            body["tags"] = list(tags)
        if not isinstance(notes, _Unset):
            body["notes"] = notes
        answer = self._client._http.request("PATCH", self._path(), json_body=body)
        self._update(answer.json())
        return self

    # -- waiting -------------------------------------------------------------------------

    def events(self, timeout: Optional[float] = None) -> Iterator[Event]:
        """The job's live events: a ``snapshot`` (the job view), then ``progress``, ``metrics``
        and ``status`` as they happen, and ``done`` (the final view), after which it ends. The
        view of this object follows the snapshot and ``done``. ``timeout`` bounds the whole
        stream (``WaitTimeout``)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        response = self._client._http.stream(self._path("/events"), STREAM_READ_TIMEOUT)
        try:
            limit = self._client._http.max_response_bytes
            lines = _until(lines_bounded(response.iter_bytes(), limit), deadline)
            for event in parse(lines, limit):
                if event.event in ("snapshot", "done"):
                    self._update(event.data)
                yield event
                if event.event == "done":
                    return
        finally:
            response.close()

    def wait(self, timeout: Optional[float] = None, progress: bool = True) -> "Job":
        """Blocks until the job has ended and returns it (whatever its status: check
        ``job.status``; ``result()`` raises for a failed job). ``progress`` shows a tqdm bar
        (terminal or notebook) fed by the event stream; if the stream breaks, long-polling
        ``GET ?wait=`` takes over. ``timeout`` in seconds raises ``WaitTimeout``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        bar = _Bar(self) if progress else None
        try:
            while not self.done:
                remaining = _remaining(deadline)
                try:
                    for event in self.events(timeout=remaining):
                        if bar is not None:
                            bar.show(event)
                except (httpx.TransportError, ValueError):
                    # The stream broke (server restart, proxy): wait by long polls instead.
                    left = _remaining(deadline)
                    try:
                        self.refresh(wait=MAX_WAIT_SECS if left is None else min(left, MAX_WAIT_SECS))
                    except httpx.TransportError:
                        time.sleep(1.0)
                if not self.done and deadline is not None and time.monotonic() >= deadline:
                    raise WaitTimeout(f"job {self.id} is still {self.status} after {timeout} s")
            if bar is not None:
                bar.finish()
        finally:
            if bar is not None:
                bar.close()
        return self

    def _wait_get(
        self, tail: str, params: Optional[dict[str, Any]] = None, max_bytes: Optional[int] = None
    ) -> bytes:
        """GETs ``tail`` with ``?wait=`` until the job has ended (the server answers 202 with
        the job view while it runs), then returns the body; 4xx/5xx raise ``ProblemError``."""
        query = dict(params or {})
        while True:
            query["wait"] = _wait_param(MAX_WAIT_SECS)
            answer = self._client._http.request(
                "GET", self._path(tail), params=query, wait=MAX_WAIT_SECS, max_bytes=max_bytes
            )
            if answer.status != 202:
                return answer.body
            self._update(answer.json())

    # -- results -------------------------------------------------------------------------

    def result(self) -> dict[str, Any]:
        """The result document; waits for the job to end. A failed or cancelled job raises
        ``ProblemError`` (409, ``job_status`` says which)."""
        value = json.loads(self._wait_get("/result"))
        if not isinstance(value, dict):
            raise FluxlabError("the result is not a JSON object")
        return value

    def provenance(self) -> dict[str, Any]:
        """What produced the result, to trace and rerun it: ``fluxlab_version``, ``git_commit``,
        the resolved ``spec`` and its ``seed``, the ``engine``'s numeric settings and the thread
        counts. Waits for the job to end."""
        value = self.result().get("provenance")
        if not isinstance(value, dict):
            raise FluxlabError("this server's results carry no provenance")
        return value

    def networks(self, matrices: bool = False) -> pd.DataFrame:
        """``result.networks`` of an ``mi`` job (or the analysis of an evolution's best genome)
        as a DataFrame, one row per network: swept parameters, ``replicate``, I, C, entropies,
        sampled estimates and their standard errors, convergence and attractors. ``matrices``
        adds the weight and correlation matrices and mean activities as arrays."""
        result = self.result()
        networks = result.get("networks")
        best = result.get("best")
        if networks is None and isinstance(best, dict) and isinstance(best.get("analysis"), dict):
            networks = [best["analysis"]]
        if networks is None:
            raise FluxlabError(f"the result of this {self.kind} job has no networks")
        return networks_frame(networks, matrices=matrices)

    def metrics(self) -> pd.DataFrame:
        """The job's metric rows so far (per network, generation or epoch), one row each."""
        doc = self._client._http.request("GET", self._path("/metrics")).json()
        return metrics_frame(doc.get("series") or [])

    def artifact(self, name: str) -> bytes:
        """An artifact's bytes (``metrics.csv``, ``weights.npy``, ``weights.json``,
        ``model.json``); waits for the job to end first."""
        return self._wait_get(f"/artifacts/{name}")

    def download(self, name: str, path: Union[str, Path, None] = None) -> Path:
        """Saves an artifact to ``path`` (default: its name in the current folder)."""
        target = Path(path) if path is not None else Path(name)
        target.write_bytes(self.artifact(name))
        return target

    def weights(self) -> np.ndarray:
        """``weights.npy``: the weight matrices of an ``mi`` job (networks × N × N, row =
        target) or the best genome of an evolution (N × N)."""
        array: np.ndarray = np.load(io.BytesIO(self.artifact("weights.npy")), allow_pickle=False)
        return array

    def model(self) -> LifModel:
        """``model.json`` of a finished ``lif`` job as typed arrays with shapes."""
        return lif_model(json.loads(self.artifact("model.json")))

    def plots(self) -> list[str]:
        """The names of the job's plots."""
        doc = self._client._http.request("GET", self._path("/plots")).json()
        return [p["name"] for p in doc.get("plots") or []]

    def plot(self, name: str, width: Optional[int] = None, height: Optional[int] = None) -> Svg:
        """A plot rendered by the server as SVG (shown inline in Jupyter). Works while the job
        runs: it shows what exists so far."""
        file = name if name.endswith(".svg") else f"{name}.svg"
        params = {"width": width, "height": height}
        answer = self._client._http.request("GET", self._path(f"/plots/{file}"), params=params)
        return Svg(answer.body.decode("utf-8"), name)

    def checkpoints(self) -> list[dict[str, Any]]:
        """The job's checkpoints (``seq``, ``step``, ``created_at``, ``bytes``)."""
        doc = self._client._http.request("GET", self._path("/checkpoints")).json()
        if isinstance(doc, dict):
            return list(doc.get("checkpoints") or [])
        return list(doc)

    def latest_checkpoint(self) -> dict[str, Any]:
        """The newest checkpoint with its data."""
        return self._client._http.request("GET", self._path("/checkpoints/latest")).document()


def _wait_param(wait: float) -> str:
    value = max(0.0, min(float(wait), MAX_WAIT_SECS))
    return f"{value:g}"


def _remaining(deadline: Optional[float]) -> Optional[float]:
    if deadline is None:
        return None
    return max(deadline - time.monotonic(), 0.0)


def _until(lines: Iterator[str], deadline: Optional[float]) -> Iterator[str]:
    for line in lines:
        if deadline is not None and time.monotonic() > deadline:
            raise WaitTimeout("the event stream ran past the timeout")
        yield line


class _Bar:
    """A tqdm bar over the job's progress (steps when the job reports them, else percent); it
    redraws at most every tenth of a second however many events arrive."""

    def __init__(self, job: Job) -> None:
        from tqdm.auto import tqdm  # type: ignore[import-untyped,unused-ignore]

        self.job = job
        self.total = 100
        self.tqdm = tqdm(
            total=self.total, desc=self._label(job.status), unit="%", leave=True, mininterval=0.1
        )

    def _label(self, status: str) -> str:
        return f"{self.job.name or self.job.kind} {self.job.id[:8]} {status}"

    def _progress(self, p: dict[str, Any]) -> None:
        total = int(p.get("total_steps") or 0)
        if total > 0:
            if total != self.total:
                self.total = total
                self.tqdm.total = total
                self.tqdm.unit = "step"
            value = int(p.get("step") or 0)
        else:
            value = int(round(float(p.get("fraction") or 0.0) * self.total))
        value = min(value, self.total)
        message = p.get("message")
        if message:
            self.tqdm.set_postfix_str(str(message)[:60], refresh=False)
        if value > self.tqdm.n:
            self.tqdm.update(value - self.tqdm.n)  # redraws only after mininterval
        elif value < self.tqdm.n:
            self.tqdm.n = value

    def show(self, event: Event) -> None:
        data = event.data if isinstance(event.data, dict) else {}
        if event.event in ("snapshot", "done"):
            self.tqdm.set_description_str(self._label(self.job.status), refresh=False)
            self._progress(data.get("progress") or {})
        elif event.event == "progress":
            self._progress(data)
        elif event.event == "metrics":
            shown = [
                f"{k}={v:.4g}"
                for k, v in data.items()
                if isinstance(v, (int, float)) and not isinstance(v, bool) and k != "step"
            ]
            self.tqdm.set_postfix_str(", ".join(shown[:4]), refresh=False)
        elif event.event == "status":
            self.tqdm.set_description_str(self._label(str(data.get("status"))), refresh=False)

    def finish(self) -> None:
        if self.job.status == "succeeded" and self.tqdm.n < self.total:
            self.tqdm.update(self.total - self.tqdm.n)
        self.tqdm.set_description_str(self._label(self.job.status), refresh=False)
        self.tqdm.refresh()

    def close(self) -> None:
        self.tqdm.close()
