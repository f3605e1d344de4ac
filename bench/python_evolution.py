"""A straightforward Python/NumPy evolution loop, the reference for benches/evolution.rs.

The same strategy and population as the Rust benchmark: (16+64) evolution strategy, Gaussian
mutation with std 0.1 on every weight, Frobenius budget sqrt(N)*3, fitness = the exact
information flux I (SCIENCE.md A2) from a dense 2^N x 2^N transition matrix and
numpy.linalg.solve. It reports evaluations per second (wall clock and per CPU-second), and
checks that its I agrees with the Rust engine on the best N = 8 genome the Rust benchmark wrote
(FLUXLAB_BENCH_JSON, default $TMPDIR/fluxlab_evolution_bench.json).

Run: python3 -m venv /tmp/evvenv && /tmp/evvenv/bin/pip install numpy
     /tmp/evvenv/bin/python bench/python_evolution.py [generations]
"""

import json
import os
import sys
import tempfile
import time

import numpy as np

N = 8
PARENTS, OFFSPRING = 16, 64
MUTATION_STD = 0.1
BUDGET = np.sqrt(N) * 3.0


def states(n):
    """Symmetric inputs y (2^N x N, +-1) and bits x (0/1) of every state s = sum x_n 2^n."""
    s = np.arange(1 << n)
    bits = (s[:, None] >> np.arange(n)[None, :]) & 1
    return 2.0 * bits - 1.0, bits.astype(float)


Y, X = states(N)


def information_flux(w):
    """I = H(pi) - sum_x pi(x) sum_i h2(p_i(x)) in bits, with pi from a dense solve."""
    m = 1 << N
    p = 1.0 / (1.0 + np.exp(-(Y @ w.T)))  # p[x, i] = P(x_i(t+1) = 1 | x)
    log_p, log_q = np.log(p), np.log1p(-p)
    t = np.exp(log_p @ X.T + log_q @ (1.0 - X).T)  # t[x, y] = T(y | x)
    a = np.eye(m) - t.T + 1.0 / m
    pi = np.linalg.solve(a, np.full(m, 1.0 / m))
    pi = np.clip(pi, 0.0, None)
    pi /= pi.sum()
    nz = pi[pi > 0]
    state_entropy = -(nz * np.log2(nz)).sum()
    h2 = -(p * log_p + (1.0 - p) * log_q).sum(axis=1) / np.log(2.0)
    return max(state_entropy - pi @ h2, 0.0)


def constrain(w):
    return w * (BUDGET / np.linalg.norm(w))


def evolve(generations, rng):
    parents = [constrain(rng.normal(0.0, 3.0 / np.sqrt(N), (N, N))) for _ in range(PARENTS)]
    fitness = [information_flux(w) for w in parents]
    evaluations = len(parents)
    for _ in range(generations):
        children = [
            constrain(parents[k % PARENTS] + rng.normal(0.0, MUTATION_STD, (N, N)))
            for k in range(OFFSPRING)
        ]
        child_fitness = [information_flux(w) for w in children]
        evaluations += len(children)
        pool = list(zip(child_fitness + fitness, children + parents))
        pool.sort(key=lambda item: -item[0])
        fitness = [f for f, _ in pool[:PARENTS]]
        parents = [w for _, w in pool[:PARENTS]]
    return fitness[0], evaluations


def check_against_rust():
    path = os.environ.get(
        "FLUXLAB_BENCH_JSON", os.path.join(tempfile.gettempdir(), "fluxlab_evolution_bench.json")
    )
    if not os.path.exists(path):
        print(f"(no Rust results at {path}: run cargo bench --bench evolution first)")
        return
    with open(path) as f:
        runs = json.load(f)["runs"]
    record = next(r for r in runs if r["n"] == N and r["objective"] == "mi")
    w = np.array(record["best_weights"]).reshape(N, N)
    mine, theirs = information_flux(w), record["best_mi_bits"]
    print(f"best Rust genome: I = {mine:.12f} here, {theirs:.12f} in Rust, |diff| = {abs(mine - theirs):.1e}")
    rust_rate = record.get("evaluations_per_second")
    rust_cpu_rate = record.get("evaluations_per_cpu_second")
    return rust_rate, rust_cpu_rate


def main():
    generations = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    rng = np.random.default_rng(2024)
    wall, cpu = time.perf_counter(), time.process_time()
    best, evaluations = evolve(generations, rng)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"numpy {np.__version__}, N = {N}, ({PARENTS}+{OFFSPRING}), {generations} generations")
    print(
        f"{evaluations} evaluations in {wall:.2f} s wall ({evaluations / wall:.0f}/s), "
        f"{cpu:.2f} s CPU ({evaluations / cpu:.0f} per CPU-second); best I = {best:.6f} bits"
    )
    rates = check_against_rust()
    if rates and rates[0]:
        print(
            f"Rust/Python: {rates[0] / (evaluations / wall):.1f}x wall clock, "
            f"{rates[1] / (evaluations / cpu):.1f}x per CPU-second"
        )


if __name__ == "__main__":
    main()
