"""The HTTP layer of the client: one httpx connection pool, a timeout on every request, answers
read with a size bound, problem documents turned into ``ProblemError``, and a bounded retry of
429/503 answers where a retry cannot duplicate anything."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Optional

import httpx
import numpy as np

from ._errors import ProblemError, ResponseTooLarge

#: Longest ``?wait=`` the server accepts on the GETs of a job, its result and artifacts.
MAX_WAIT_SECS = 300.0


@dataclass
class Answer:
    """A fully read answer."""

    status: int
    headers: httpx.Headers
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def document(self) -> dict[str, Any]:
        """The body as a JSON object (anything else is an error)."""
        value = json.loads(self.body)
        if not isinstance(value, dict):
            raise ValueError(f"expected a JSON object, got {type(value).__name__}")
        return value


def jsonable(value: Any) -> Any:
    """``value`` with NumPy arrays and scalars (also inside dicts and lists) as plain Python."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def read_bounded(chunks: Iterator[bytes], limit: int) -> bytes:
    """Joins ``chunks``, refusing more than ``limit`` bytes."""
    parts: list[bytes] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise ResponseTooLarge(f"the answer is larger than max_response_bytes = {limit}")
        parts.append(chunk)
    return b"".join(parts)


def lines_bounded(chunks: Iterator[bytes], limit: int) -> Iterator[str]:
    """Splits a byte stream into text lines, refusing a line longer than ``limit`` bytes."""
    pending = b""
    for chunk in chunks:
        pending += chunk
        while True:
            cut = pending.find(b"\n")
            if cut < 0:
                break
            yield pending[:cut].decode("utf-8", "replace")
            pending = pending[cut + 1 :]
        if len(pending) > limit:
            raise ResponseTooLarge(f"a line of the event stream is longer than {limit} bytes")
    if pending:
        yield pending.decode("utf-8", "replace")


class Http:
    """Sends requests with a bearer token and bounded reads."""

    def __init__(
        self,
        url: str,
        token: Optional[str],
        timeout: float,
        max_response_bytes: int,
        retries: int,
        transport: Optional[httpx.BaseTransport] = None,
    ) -> None:
        headers = {"accept": "application/json, application/problem+json;q=0.9, */*;q=0.1"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.max_response_bytes = max_response_bytes
        self.retries = retries
        self.client = httpx.Client(
            base_url=self.url,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            transport=transport,
            follow_redirects=False,
        )

    def close(self) -> None:
        self.client.close()

    def timeout_for(self, wait: Optional[float]) -> httpx.Timeout:
        """The timeout of a request that the server may hold for ``wait`` seconds."""
        read = self.timeout + (wait or 0.0)
        return httpx.Timeout(read, connect=min(self.timeout, 10.0))

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Optional[Mapping[str, Any]] = None,
        json_body: Any = None,
        files: Any = None,
        data: Optional[Mapping[str, str]] = None,
        headers: Optional[Mapping[str, str]] = None,
        wait: Optional[float] = None,
        retry: Optional[bool] = None,
        max_bytes: Optional[int] = None,
    ) -> Answer:
        """Sends one request and reads its answer; 4xx/5xx raise ``ProblemError``. 429 and 503
        (with ``Retry-After``) are retried up to ``retries`` times when ``retry`` is true (by
        default for GET and DELETE)."""
        send_headers = dict(headers or {})
        content: Optional[bytes] = None
        if json_body is not None:
            content = json.dumps(jsonable(json_body), allow_nan=False).encode()
            send_headers["content-type"] = "application/json"
        query = {k: v for k, v in (params or {}).items() if v is not None}
        if retry is None:
            retry = method in ("GET", "DELETE", "HEAD")
        limit = max_bytes if max_bytes is not None else self.max_response_bytes
        attempt = 0
        while True:
            request = self.client.build_request(
                method,
                path,
                params=query,
                content=content,
                files=files,
                data=data,
                headers=send_headers,
                timeout=self.timeout_for(wait),
            )
            response = self.client.send(request, stream=True)
            try:
                body = read_bounded(response.iter_bytes(), limit)
            finally:
                response.close()
            if response.status_code < 400:
                return Answer(response.status_code, response.headers, body)
            delay = retry_after(response.headers)
            if retry and response.status_code in (429, 503) and attempt < self.retries and delay is not None:
                attempt += 1
                time.sleep(delay)
                continue
            raise ProblemError.from_body(
                response.status_code, response.reason_phrase, body, response.headers
            )

    def stream(self, path: str, read_timeout: float) -> httpx.Response:
        """Opens a streaming GET (server-sent events); the caller closes it. A 4xx/5xx raises."""
        request = self.client.build_request(
            "GET",
            path,
            headers={"accept": "text/event-stream"},
            timeout=httpx.Timeout(read_timeout, connect=min(self.timeout, 10.0)),
        )
        response = self.client.send(request, stream=True)
        if response.status_code >= 400:
            try:
                body = read_bounded(response.iter_bytes(), 1024 * 1024)
            finally:
                response.close()
            raise ProblemError.from_body(
                response.status_code, response.reason_phrase, body, response.headers
            )
        return response


def retry_after(headers: httpx.Headers) -> Optional[float]:
    """Seconds of a ``Retry-After`` header (at most 30), 1 when absent, None when unreadable."""
    value = headers.get("retry-after")
    if value is None:
        return 1.0
    try:
        return min(max(float(value), 0.0), 30.0)
    except ValueError:
        return None
