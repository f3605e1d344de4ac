"""The client: submit jobs (with helpers per kind), list them lazily, upload datasets, predict."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator, Literal, NamedTuple, Optional, Sequence, Union

import numpy as np

from ._http import Http
from ._job import Job
from ._tables import idx_bytes, images_as_bytes, labels_as_bytes

Kind = Literal["mi", "evolution", "lif"]
ArrayOrPath = Union[np.ndarray, Sequence[Any], str, Path]

#: Most inputs the server classifies in one predict request.
MAX_PREDICT_INPUTS = 1000


class Predictions(NamedTuple):
    """``classes[k]`` is the predicted class of input k, ``probabilities[k]`` its distribution."""

    classes: np.ndarray
    probabilities: np.ndarray


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


class Client:
    """A connection to a fluxlab server.

    ``url`` defaults to ``$FLUXLAB_SERVER`` or ``http://127.0.0.1:8080``; ``token`` to
    ``$FLUXLAB_TOKEN`` (none: an open loopback server). Every request has a timeout of
    ``timeout`` seconds (plus the server-side wait of a waiting request), every answer is read up
    to ``max_response_bytes``; 429 and 503 answers are retried ``retries`` times after their
    ``Retry-After`` where a retry cannot duplicate anything.
    """

    def __init__(
        self,
        url: Optional[str] = None,
        token: Optional[str] = None,
        *,
        timeout: float = 30.0,
        max_response_bytes: int = 1 << 30,
        retries: int = 3,
    ) -> None:
        url = url or os.environ.get("FLUXLAB_SERVER") or "http://127.0.0.1:8080"
        token = token if token is not None else os.environ.get("FLUXLAB_TOKEN")
        self._http = Http(url, token, timeout, max_response_bytes, retries)

    @property
    def url(self) -> str:
        return self._http.url

    def close(self) -> None:
        """Closes the connection pool."""
        self._http.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<fluxlab.Client {self.url}>"

    # -- jobs ----------------------------------------------------------------------------

    def submit(
        self,
        kind: Kind,
        spec: dict[str, Any],
        *,
        name: Optional[str] = None,
        tags: Optional[Sequence[str]] = None,
        notes: Optional[str] = None,
        priority: Optional[int] = None,
        max_attempts: Optional[int] = None,
        idempotency_key: Optional[str] = None,
    ) -> Job:
        """Submits a job (``POST /v1/jobs``). With ``idempotency_key``, submitting the same
        request again (say after a crash of the script) returns the first job instead of a new
        one, and the submission is retried on 429/503. NumPy arrays in ``spec`` are sent as
        lists."""
        body = _drop_none(
            {
                "kind": kind,
                "spec": spec,
                "name": name,
                "tags": None if tags is None else list(tags),
                "notes": notes,
                "priority": priority,
                "max_attempts": max_attempts,
            }
        )
        headers = {"idempotency-key": idempotency_key} if idempotency_key else None
        answer = self._http.request(
            "POST", "/v1/jobs", json_body=body, headers=headers, retry=idempotency_key is not None
        )
        return Job(self, answer.json())

    def job(self, id: str) -> Job:
        """The job with this id."""
        return Job(self, self._http.request("GET", f"/v1/jobs/{id}").json())

    def jobs(
        self,
        *,
        status: Optional[str] = None,
        kind: Optional[Kind] = None,
        tag: Optional[str] = None,
        name: Optional[str] = None,
        owner: Optional[str] = None,
        include_spec: bool = False,
        page_size: int = 100,
    ) -> Iterator[Job]:
        """The jobs matching the filters, newest first, fetched a page at a time as the
        iteration goes (``itertools.islice`` takes the first few without reading the rest)."""
        params: dict[str, Any] = _drop_none(
            {
                "status": status,
                "kind": kind,
                "tag": tag,
                "name": name,
                "owner": owner,
                "limit": page_size,
                "include": "spec" if include_spec else None,
            }
        )
        cursor: Optional[str] = None
        while True:
            query = dict(params)
            if cursor is not None:
                query["cursor"] = cursor
            page = self._http.request("GET", "/v1/jobs", params=query).json()
            for view in page.get("jobs") or []:
                yield Job(self, view)
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def mi(
        self,
        network: dict[str, Any],
        *,
        method: Optional[Literal["auto", "exact", "sampled"]] = None,
        sampling: Optional[dict[str, Any]] = None,
        correlation: Optional[dict[str, Any]] = None,
        attractors: Union[bool, dict[str, Any], None] = None,
        seed: Optional[int] = None,
        name: Optional[str] = None,
        tags: Optional[Sequence[str]] = None,
        notes: Optional[str] = None,
        priority: Optional[int] = None,
        idempotency_key: Optional[str] = None,
    ) -> Job:
        """Submits an ``mi`` job. ``network`` holds exactly one of ``weights`` (row = target;
        an array is fine), ``ensemble`` or ``nrooks``, optionally ``sweep``, ``bias``, ``input``,
        ``noise``; ``sampling`` is ``{steps, burn_in, runs}``, ``correlation`` ``{lag,
        include_diagonal}``, ``attractors`` a bool or ``{starts, max_steps}``."""
        spec = _drop_none(
            {
                "network": network,
                "method": method,
                "sampling": sampling,
                "correlation": correlation,
                "attractors": attractors,
                "seed": seed,
            }
        )
        return self.submit(
            "mi", spec, name=name, tags=tags, notes=notes, priority=priority,
            idempotency_key=idempotency_key,
        )

    def evolution(
        self,
        n: int,
        *,
        init: Optional[dict[str, Any]] = None,
        strategy: Optional[Literal["plus", "comma"]] = None,
        parents: Optional[int] = None,
        offspring: Optional[int] = None,
        generations: Optional[int] = None,
        selection: Optional[dict[str, Any]] = None,
        elitism: Optional[int] = None,
        mutation: Optional[dict[str, Any]] = None,
        evolve_bias: Optional[bool] = None,
        constraint: Optional[dict[str, Any]] = None,
        objectives: Optional[Sequence[dict[str, Any]]] = None,
        mode: Optional[Literal["weighted", "pareto"]] = None,
        period_weighting: Optional[Literal["attractor", "state"]] = None,
        input: Optional[Literal["symmetric", "binary"]] = None,
        correlation: Optional[dict[str, Any]] = None,
        correlation_sampling: Optional[dict[str, Any]] = None,
        attractor_sampling: Optional[dict[str, Any]] = None,
        seed: Optional[int] = None,
        checkpoint_every: Optional[int] = None,
        name: Optional[str] = None,
        tags: Optional[Sequence[str]] = None,
        notes: Optional[str] = None,
        priority: Optional[int] = None,
        idempotency_key: Optional[str] = None,
    ) -> Job:
        """Submits an ``evolution`` job: N-neuron weight matrices evolved for ``objectives``
        (``[{"name": "mi" | "correlation" | "mean_period", "weight": w}]``); ``constraint`` is
        ``{"type": "frobenius", "value": b}``, ``{"type": "box", "bound": b}`` or
        ``{"type": "none"}``; ``init`` takes ``ensemble``, ``weights``, ``from_job`` or
        ``population``. Omitted fields take the server's defaults."""
        spec = _drop_none(
            {
                "n": n,
                "init": init,
                "strategy": strategy,
                "parents": parents,
                "offspring": offspring,
                "generations": generations,
                "selection": selection,
                "elitism": elitism,
                "mutation": mutation,
                "evolve_bias": evolve_bias,
                "constraint": constraint,
                "objectives": None if objectives is None else list(objectives),
                "mode": mode,
                "period_weighting": period_weighting,
                "input": input,
                "correlation": correlation,
                "correlation_sampling": correlation_sampling,
                "attractor_sampling": attractor_sampling,
                "seed": seed,
                "checkpoint_every": checkpoint_every,
            }
        )
        return self.submit(
            "evolution", spec, name=name, tags=tags, notes=notes, priority=priority,
            idempotency_key=idempotency_key,
        )

    def lif(
        self,
        dataset: Union[str, dict[str, Any]],
        *,
        split: Optional[dict[str, int]] = None,
        encoding: Optional[dict[str, Any]] = None,
        layers: Optional[Sequence[dict[str, Any]]] = None,
        readout: Optional[dict[str, Any]] = None,
        loss: Optional[Literal["cross_entropy", "mse"]] = None,
        optimizer: Optional[dict[str, Any]] = None,
        schedule: Optional[dict[str, Any]] = None,
        batch_size: Optional[int] = None,
        epochs: Optional[int] = None,
        seed: Optional[int] = None,
        checkpoint_every: Optional[int] = None,
        raster_sample: Optional[int] = None,
        name: Optional[str] = None,
        tags: Optional[Sequence[str]] = None,
        notes: Optional[str] = None,
        priority: Optional[int] = None,
        idempotency_key: Optional[str] = None,
    ) -> Job:
        """Submits a ``lif`` training. ``dataset`` is ``"mnist10k"``, an uploaded dataset's id
        (a string), or the wire form ``{"builtin" | "id" | "synthetic": …}``; ``layers`` are
        ``{"type": "lif", "units", "leak_init", "trainable_leak", …}`` or ``{"type": "dense",
        "units", "activation"}``. Omitted fields take the server's defaults."""
        if isinstance(dataset, str):
            dataset = {"builtin": dataset} if dataset == "mnist10k" else {"id": dataset}
        spec = _drop_none(
            {
                "dataset": dataset,
                "split": split,
                "encoding": encoding,
                "layers": None if layers is None else list(layers),
                "readout": readout,
                "loss": loss,
                "optimizer": optimizer,
                "schedule": schedule,
                "batch_size": batch_size,
                "epochs": epochs,
                "seed": seed,
                "checkpoint_every": checkpoint_every,
                "raster_sample": raster_sample,
            }
        )
        return self.submit(
            "lif", spec, name=name, tags=tags, notes=notes, priority=priority,
            idempotency_key=idempotency_key,
        )

    # -- datasets and models -------------------------------------------------------------

    def upload_dataset(
        self,
        images: ArrayOrPath,
        labels: ArrayOrPath,
        *,
        name: Optional[str] = None,
        classes: Optional[int] = None,
    ) -> dict[str, Any]:
        """Uploads an image/label pair and returns the dataset's view (its ``id`` goes into
        ``client.lif(dataset=…)``). Each of ``images`` and ``labels`` is either the path of an
        IDX file (raw or gzip) or an array: images (count × rows × cols, or count × features) as
        bytes 0..255 or floats in [0, 1], labels as whole numbers 0..255."""
        image_file = _idx_part(images, "images", images_as_bytes)
        label_file = _idx_part(labels, "labels", labels_as_bytes)
        form = _drop_none({"name": name, "classes": None if classes is None else str(classes)})
        answer = self._http.request(
            "POST",
            "/v1/datasets",
            files={"images": image_file, "labels": label_file},
            data=form,
            retry=False,
        )
        return answer.document()

    def datasets(self) -> list[dict[str, Any]]:
        """The built-in and uploaded datasets."""
        return list(self._http.request("GET", "/v1/datasets").json().get("datasets") or [])

    def delete_dataset(self, id: str) -> None:
        """Deletes an uploaded dataset (409 while queued or running jobs use it)."""
        self._http.request("DELETE", f"/v1/datasets/{id}")

    def predict(self, job: Union[Job, str], inputs: Any) -> Predictions:
        """Classifies ``inputs`` with the trained model of a finished ``lif`` job: one sample
        per row (count × features, or count × rows × cols, flattened), values in [0, 1]. Sent
        in requests of at most 1,000 samples."""
        job_id = job.id if isinstance(job, Job) else str(job)
        array = np.asarray(inputs, dtype=np.float64)
        if array.ndim == 1:
            array = array[None, :]
        array = array.reshape(array.shape[0], -1)
        classes: list[int] = []
        probabilities: list[list[float]] = []
        for start in range(0, max(len(array), 1), MAX_PREDICT_INPUTS):
            chunk = array[start : start + MAX_PREDICT_INPUTS]
            answer = self._http.request(
                "POST",
                f"/v1/models/{job_id}/predict",
                json_body={"inputs": chunk},
                retry=True,
            )
            for p in answer.json()["predictions"]:
                classes.append(int(p["class"]))
                probabilities.append(list(p["probabilities"]))
        return Predictions(np.asarray(classes, dtype=np.int64), np.asarray(probabilities, dtype=np.float64))

    # -- service -------------------------------------------------------------------------

    def openapi(self) -> dict[str, Any]:
        """The server's OpenAPI document."""
        return self._http.request("GET", "/openapi.json").document()

    def me(self) -> dict[str, Any]:
        """Who the token belongs to, with running and queued jobs and quotas."""
        return self._http.request("GET", "/v1/users/me").document()


def _idx_part(value: ArrayOrPath, what: str, convert: Any) -> tuple[str, bytes, str]:
    if isinstance(value, (str, Path)):
        path = Path(value)
        return (path.name, path.read_bytes(), "application/octet-stream")
    array = convert(np.asarray(value))
    return (f"{what}.idx", idx_bytes(array), "application/octet-stream")
