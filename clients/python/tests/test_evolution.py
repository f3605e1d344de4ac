"""evolution jobs: N-rooks emerging, metrics per generation, weights, plots, checkpoints."""

from __future__ import annotations

import math

import numpy as np

import fluxlab


def h2(p: float) -> float:
    return -p * math.log2(p) - (1 - p) * math.log2(1 - p)


def test_evolution_finds_nrooks(client: fluxlab.Client) -> None:
    n = 4
    job = client.evolution(
        n, parents=10, offspring=40, generations=80, mutation={"std": 0.1, "adaptive": True},
        constraint={"type": "frobenius", "value": 3 * math.sqrt(n)}, seed=1, checkpoint_every=20,
        name="rooks",
    )
    w = job.weights()  # waits for the end (the server holds the download until then)
    assert job.refresh().status == "succeeded"
    assert isinstance(w, np.ndarray) and w.shape == (n, n)
    # One dominant weight per row and column, of size about q = 3 (the budget 3·√N).
    dominant = np.abs(w).argmax(axis=1)
    assert sorted(dominant) == list(range(n))
    result = job.result()
    assert result["best"]["is_permutation"] is True and result["best"]["rook_score"] > 0.95
    best = job.networks()  # the best genome's full analysis, one row
    assert len(best) == 1
    sigma = 1 / (1 + math.exp(3))
    assert abs(best.loc[0, "mi_bits"] - n * (1 - h2(sigma))) < 0.1
    metrics = job.metrics()
    assert len(metrics) == 81 and metrics["step"].tolist() == list(range(81))
    assert metrics["best_mi_bits"].iloc[-1] >= metrics["best_mi_bits"].iloc[0]
    checkpoints = job.checkpoints()
    steps = [c["step"] for c in checkpoints]
    assert steps and all(s % 20 == 0 and 0 < s <= 80 for s in steps), steps
    assert all(c["bytes"] > 0 for c in checkpoints)
    assert job.latest_checkpoint()["step"] == max(steps)
    assert set(job.plots()) >= {"fitness", "best_weights", "rook_score"}
    assert "<svg" in job.plot("fitness").data


def test_pareto_front_of_mi_and_period(client: fluxlab.Client) -> None:
    job = client.evolution(
        5, mode="pareto", objectives=[{"name": "mi"}, {"name": "mean_period"}],
        parents=12, offspring=36, generations=30, seed=3,
    )
    front = job.result()["pareto_front"]
    assert len(front) >= 1
    points = [(p["objectives"]["mi_bits"], p["objectives"]["mean_period"]) for p in front]
    # No point of a Pareto front dominates another.
    for a in points:
        for b in points:
            assert not (a[0] >= b[0] and a[1] >= b[1] and a != b)
    assert "pareto" in job.plots()
