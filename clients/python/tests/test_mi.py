"""mi jobs through the client: submit, wait with a bar, events, result tables and arrays."""

from __future__ import annotations

import math

import numpy as np
import pytest

import fluxlab

NROOKS = {"nrooks": {"n": 4, "q": 2, "permutation": "ring", "signs": "positive"}}


def test_nrooks_flux_matches_the_closed_form(
    client: fluxlab.Client, capsys: pytest.CaptureFixture[str]
) -> None:
    job = client.mi(NROOKS, method="exact", seed=1, name="rooks check")
    assert isinstance(job, fluxlab.Job) and job.kind == "mi" and job.name == "rooks check"
    assert job.wait(progress=True) is job
    assert job.status == "succeeded" and job.done
    bar = capsys.readouterr().err
    assert job.id[:8] in bar and "succeeded" in bar
    df = job.networks()
    assert len(df) == 1 and df.index.name == "network"
    # I = N·(1 − h2(σ(−q))) and C = (1 − 2σ(−q))/√N (SCIENCE.md check values).
    assert df.loc[0, "mi_bits"] == pytest.approx(1.89174, abs=1e-5)
    assert df.loc[0, "correlation_rms"] == pytest.approx(0.38080, abs=1e-5)
    assert df.loc[0, "state_entropy_bits"] == pytest.approx(4.0, abs=1e-9)
    assert df.loc[0, "method"] == "exact" and df.loc[0, "solver_converged"]
    assert math.isnan(df.loc[0, "mi_plugin_bits"])  # exact: no sampled estimate
    assert df.loc[0, "attractors_count"] >= 1


def test_sweep_frame_has_one_row_per_network(client: fluxlab.Client) -> None:
    job = client.mi(
        {"ensemble": {"n": 5, "replicates": 2}, "sweep": {"param": "std", "values": [0.25, 3.0]}},
        seed=11,
    )
    df = job.networks(matrices=True)  # waits for the end by itself
    assert list(df["std"]) == [0.25, 0.25, 3.0, 3.0]
    assert list(df["replicate"]) == [0, 1, 0, 1]
    result = job.result()
    assert df["mi_bits"].tolist() == [n["mi_bits"] for n in result["networks"]]
    assert (df["mi_bits"] > 0).all() and (df["mi_bits"] <= 5).all()
    # Stronger weights carry more information (the paper's main trend), per replicate.
    assert df.loc[2, "mi_bits"] > df.loc[0, "mi_bits"] and df.loc[3, "mi_bits"] > df.loc[1, "mi_bits"]
    w = job.weights()
    assert isinstance(w, np.ndarray) and w.shape == (4, 5, 5)
    np.testing.assert_allclose(w[3], df.loc[3, "weights"])
    assert df.loc[0, "correlation_matrix"].shape == (5, 5)


def test_sampled_estimates_and_errors_become_columns(client: fluxlab.Client) -> None:
    job = client.mi(
        {"ensemble": {"n": 20, "std": 0.3}},
        method="sampled", sampling={"steps": 2000, "burn_in": 100, "runs": 4}, seed=2,
    )
    row = job.networks().iloc[0]
    assert row["method"] == "sampled"
    assert row["sampled_runs"] == 4 and row["sampled_steps"] == 2000
    assert np.isfinite(row["mi_gaussian_bits"]) and row["mi_stderr_bits"] >= 0
    assert row["correlation_stderr"] >= 0 and row["correlation_rms"] > 0
    # 2^20 states, 8,000 samples: the plug-in estimates are flagged as undersampled, while the
    # model-based I (which needs no transition counts) is given with its error bar.
    assert len(row["warnings"]) == 1 and "undersampled" in row["warnings"][0].lower()
    assert np.isfinite(row["mi_bits"]) and 0 < row["mi_stderr_bits"] < 0.1
    assert row["mi_plugin_bits"] > row["mi_bits"] + 1


def test_events_stream_from_snapshot_to_done(client: fluxlab.Client) -> None:
    job = client.mi({"ensemble": {"n": 8, "replicates": 3}}, seed=4)
    events = list(job.events())
    names = [e.event for e in events]
    assert names[0] == "snapshot" and names[-1] == "done"
    assert events[-1].data["id"] == job.id and events[-1].data["status"] == "succeeded"
    assert job.status == "succeeded"  # the view follows the stream
    # A finished job's stream is the snapshot and done at once.
    assert [e.event for e in job.events()] == ["snapshot", "done"]


def test_metrics_plots_and_refresh(client: fluxlab.Client) -> None:
    job = client.mi(
        {"ensemble": {"n": 6, "replicates": 2}, "sweep": {"param": "std", "values": [0.5, 1.0, 2.0]}},
        seed=9,
    ).wait(progress=False)
    metrics = job.metrics()
    assert len(metrics) == 6 and {"mi_bits", "correlation_rms", "std"} <= set(metrics.columns)
    assert job.refresh() is job and job.status == "succeeded"
    assert job.refresh(wait=5).progress["fraction"] == pytest.approx(1.0)
    names = job.plots()
    assert "ic_scatter" in names
    svg = job.plot("ic_scatter", width=300, height=200)
    assert isinstance(svg, fluxlab.Svg) and "<svg" in svg._repr_svg_()
    assert 'width="300"' in svg.data
    with pytest.raises(fluxlab.ProblemError) as e:
        job.plot("no_such_plot")
    assert e.value.status == 404 and "ic_scatter" in e.value.detail


def test_wait_falls_back_to_long_polls_when_the_stream_breaks(
    client: fluxlab.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpx

    def broken(path: str, read_timeout: float) -> httpx.Response:
        raise httpx.ConnectError("no event stream here")

    monkeypatch.setattr(client._http, "stream", broken)
    job = client.mi({"ensemble": {"n": 9, "replicates": 4}}, seed=21)
    assert job.wait(progress=True, timeout=60).status == "succeeded"
    assert len(job.networks()) == 4


def test_downloads(client: fluxlab.Client, tmp_path) -> None:  # type: ignore[no-untyped-def]
    job = client.mi({"ensemble": {"n": 4, "replicates": 2}}, seed=5)
    path = job.download("metrics.csv", tmp_path / "m.csv")  # waits for the end first
    lines = path.read_text().strip().splitlines()
    assert len(lines) == 3 and "mi_bits" in lines[0]
    doc = job.artifact("weights.json")
    assert doc.startswith(b"{") or doc.startswith(b"[")
    with pytest.raises(fluxlab.ProblemError) as e:
        job.artifact("nope.bin")
    assert e.value.status == 404


def test_provenance_traces_the_result(client: fluxlab.Client) -> None:
    job = client.mi({"nrooks": {"n": 3, "q": 1.5}})  # no seed: the server picks and records one
    p = job.provenance()
    assert p["fluxlab_version"] and p["git_commit"]
    assert isinstance(p["seed"], int) and p["spec"]["seed"] == p["seed"] == job.spec["seed"]
    assert p["threads"] >= 1 and p["engine"]
    # Rerunning the recorded spec gives the same numbers.
    again = client.submit("mi", p["spec"])
    assert again.result()["networks"][0]["mi_bits"] == job.result()["networks"][0]["mi_bits"]
