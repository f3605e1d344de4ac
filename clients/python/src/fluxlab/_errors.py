"""Errors raised by the client: a problem document of the server, or a client-side limit."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping, Optional


class FluxlabError(Exception):
    """Base class of every error this package raises."""


@dataclass
class FieldError:
    """One entry of a problem's ``errors[]``: the field and what is wrong with it."""

    field: str
    message: str


class ProblemError(FluxlabError):
    """An ``application/problem+json`` answer (RFC 9457) of the server, or any other 4xx/5xx.

    ``status`` is the HTTP status, ``title`` and ``detail`` the problem's text, ``errors`` the
    per-field list (field name, message), ``job_status`` the job's status on a 409 about a job.
    """

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        errors: Optional[list[FieldError]] = None,
        type: str = "about:blank",
        job_status: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
    ) -> None:
        self.status = status
        self.title = title
        self.detail = detail
        self.errors: list[FieldError] = list(errors or [])
        self.type = type
        self.job_status = job_status
        self.headers: dict[str, str] = dict(headers or {})
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.status} {self.title}: {self.detail}"
        if self.errors:
            text += "".join(f"\n  {e.field}: {e.message}" for e in self.errors)
        return text

    @classmethod
    def from_body(cls, status: int, reason: str, body: bytes, headers: Mapping[str, str]) -> "ProblemError":
        """Builds the error from an answer's body; a body that is not a problem document becomes
        the detail (cut to 500 characters)."""
        doc: Any = None
        try:
            doc = json.loads(body)
        except ValueError:
            pass
        if isinstance(doc, dict) and "title" in doc:
            errors = [
                FieldError(str(e.get("field", "")), str(e.get("message", "")))
                for e in doc.get("errors") or []
                if isinstance(e, dict)
            ]
            return cls(
                status=int(doc.get("status", status)),
                title=str(doc.get("title", reason)),
                detail=str(doc.get("detail", "")),
                errors=errors,
                type=str(doc.get("type", "about:blank")),
                job_status=doc.get("job_status"),
                headers=headers,
            )
        text = body[:500].decode("utf-8", "replace")
        return cls(status=status, title=reason or "error", detail=text, headers=headers)


class ResponseTooLarge(FluxlabError):
    """An answer was larger than the client's ``max_response_bytes``."""


class WaitTimeout(FluxlabError):
    """``Job.wait(timeout=…)`` or a waiting download ran out of time before the job ended."""
