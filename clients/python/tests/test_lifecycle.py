"""Waiting, cancel/resume/delete, listing, errors and the client's bounds."""

from __future__ import annotations

import itertools
import time

import pytest

import fluxlab


def test_cancel_resume_delete(client: fluxlab.Client, long_evolution: fluxlab.Job) -> None:
    job = long_evolution
    deadline = time.monotonic() + 30
    while job.refresh().status != "running":
        assert time.monotonic() < deadline, job.status
        time.sleep(0.1)
    # Still running: a short server-side wait answers (202) with the job view, not an error.
    assert job.refresh(wait=0.5).status == "running"
    with pytest.raises(fluxlab.WaitTimeout):
        job.wait(timeout=1.0, progress=False)
    assert job.cancel() is job
    assert job.wait(timeout=30, progress=False).status == "cancelled"
    with pytest.raises(fluxlab.ProblemError) as e:
        job.result()
    assert e.value.status == 409 and e.value.job_status == "cancelled"
    assert job.resume().status in ("queued", "running")
    job.cancel().wait(timeout=30, progress=False)
    assert job.checkpoints(), "a cancelled evolution keeps its checkpoints"
    job.delete()
    with pytest.raises(fluxlab.ProblemError) as e:
        client.job(job.id)
    assert e.value.status == 404 and e.value.title


def test_jobs_pages_lazily_with_filters(client: fluxlab.Client) -> None:
    ids = [
        client.mi({"nrooks": {"n": 3, "q": 1.0 + k}}, name="paging").wait(progress=False).id
        for k in range(5)
    ]
    pages = 0
    request = client._http.request

    def counting(method, path, **kw):  # type: ignore[no-untyped-def]
        nonlocal pages
        if path == "/v1/jobs" and method == "GET":
            pages += 1
        return request(method, path, **kw)

    client._http.request = counting  # type: ignore[method-assign]
    listed = client.jobs(kind="mi", status="succeeded", page_size=2)
    first = list(itertools.islice(listed, 3))
    assert len(first) == 3 and pages == 2  # two pages of two for three jobs
    every = [j.id for j in client.jobs(kind="mi", status="succeeded", page_size=2)]
    assert set(ids) <= set(every) and len(every) == len(set(every))
    assert all(isinstance(j, fluxlab.Job) and j.status == "succeeded" for j in first)
    assert not [j for j in client.jobs(kind="lif", status="succeeded") if j.id in ids]
    # A listing carries no spec; asking for it fetches the job.
    assert first[0].spec["network"]["nrooks"]["n"] == 3


def test_problem_errors(client: fluxlab.Client, server) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(fluxlab.ProblemError) as e:
        client.mi({"ensemble": {"n": 0}})
    p = e.value
    assert p.status == 422 and p.title and p.detail
    assert any(err.field.startswith("spec.network.ensemble.n") for err in p.errors), p.errors
    assert "spec.network.ensemble.n" in str(p)
    with pytest.raises(fluxlab.ProblemError) as e:
        client.submit("nope", {})  # type: ignore[arg-type]
    assert e.value.status == 422
    with pytest.raises(fluxlab.ProblemError) as e:
        client.job("01a24ef0-0000-7000-8000-000000000000")
    assert e.value.status == 404
    with fluxlab.Client(server.url, token="") as anonymous:
        with pytest.raises(fluxlab.ProblemError) as e:
            list(anonymous.jobs())
        assert e.value.status == 401 and "www-authenticate" in e.value.headers
    with fluxlab.Client(server.url, token=server.token, max_response_bytes=1000) as small:
        with pytest.raises(fluxlab.ResponseTooLarge):
            small.openapi()


def test_from_job_of_another_kind_is_refused(client: fluxlab.Client) -> None:
    # An init.from_job that names a job of the wrong kind is refused at submission.
    mi = client.mi({"nrooks": {"n": 3, "q": 1}}).wait(progress=False)
    with pytest.raises(fluxlab.ProblemError) as e:
        client.evolution(3, init={"from_job": mi.id})
    assert e.value.status == 422 and any("from_job" in err.field for err in e.value.errors)
