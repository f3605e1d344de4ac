"""Tags, notes, PATCH, the name/tag filters of the listing, and idempotent submission."""

from __future__ import annotations

import uuid

import pytest

import fluxlab

ROOKS = {"nrooks": {"n": 3, "q": 2.0, "permutation": "ring", "signs": "positive"}}


def test_tags_notes_and_filters(client: fluxlab.Client) -> None:
    tag = f"sweep-{uuid.uuid4().hex[:8]}"
    name = f"labelled {tag}"
    a = client.mi(ROOKS, name=name, tags=[tag, "a"], notes="first try")
    b = client.mi(ROOKS, tags=[tag])
    client.mi(ROOKS, name=name)  # same name, no tag
    assert a.tags == [tag, "a"] and a.notes == "first try" and b.tags == [tag]
    assert {j.id for j in client.jobs(tag=tag)} == {a.id, b.id}
    assert {j.id for j in client.jobs(tag=tag, name=name)} == {a.id}
    assert len(list(client.jobs(name=name))) == 2
    assert a.update(tags=["b"], notes="second thoughts") is a
    assert a.tags == ["b"] and a.notes == "second thoughts"
    assert client.job(a.id).tags == ["b"]
    assert a.update(notes=None).notes is None and a.tags == ["b"]
    assert {j.id for j in client.jobs(tag=tag)} == {b.id}
    with pytest.raises(fluxlab.ProblemError) as e:
        a.update(tags=["no spaces allowed"])
    assert e.value.status == 422 and e.value.errors[0].field.startswith("tags")


def test_idempotent_submission(client: fluxlab.Client) -> None:
    key = f"run-{uuid.uuid4()}"
    first = client.mi(ROOKS, seed=1, idempotency_key=key)
    again = client.mi(ROOKS, seed=1, idempotency_key=key)
    assert again.id == first.id
    other = client.mi(ROOKS, seed=1, idempotency_key=f"{key}-other")
    assert other.id != first.id
    with pytest.raises(fluxlab.ProblemError) as e:
        client.mi(ROOKS, seed=2, idempotency_key=key)  # same key, another body
    assert e.value.status == 422
