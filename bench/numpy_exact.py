"""Reference timing for the exact analysis: a straightforward NumPy implementation.

Builds the dense 2^N x 2^N kernel T, solves (T^T - I) pi = 0 with the last equation replaced
by sum(pi) = 1 (numpy.linalg.solve), and computes I = H(pi) - sum_x pi(x) sum_i h2(p_i(x)).
It solves the same networks as the Rust benchmark: run `cargo bench --bench exact` first,
which writes the weight matrices and its own results to a JSON file.

Usage: python bench/numpy_exact.py [path/to/fluxlab_exact_bench.json] [--sizes 10,12]
Not part of the test suite.
"""

import argparse
import json
import os
import tempfile
import time

import numpy as np


def firing_probabilities(weights):
    """p_i(x) for every state index (rows) and neuron (columns): symmetric input, zero bias."""
    n = weights.shape[0]
    bits = (np.arange(2**n)[:, None] >> np.arange(n)) & 1
    net_input = (2.0 * bits - 1.0) @ weights.T
    return bits, 1.0 / (1.0 + np.exp(-net_input))


def transition_matrix(bits, probabilities):
    """Dense T[x, y] = prod_i p_i(x)^y_i (1 - p_i(x))^(1 - y_i)."""
    states, n = bits.shape
    kernel = np.ones((states, states))
    for i in range(n):
        fires = bits[:, i][None, :] == 1
        p = probabilities[:, i][:, None]
        kernel *= np.where(fires, p, 1.0 - p)
    return kernel


def stationary(kernel):
    """pi with pi T = pi and sum(pi) = 1 (normalisation replaces the last equation)."""
    states = kernel.shape[0]
    system = kernel.T - np.eye(states)
    system[-1, :] = 1.0
    rhs = np.zeros(states)
    rhs[-1] = 1.0
    return np.linalg.solve(system, rhs)


def entropy_bits(p):
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def information_flux(pi, probabilities):
    p = np.clip(probabilities, 1e-300, 1.0 - 1e-16)
    h2 = -(p * np.log2(p) + (1.0 - p) * np.log2(1.0 - p))
    return entropy_bits(pi) - float(pi @ h2.sum(axis=1))


def analyse(weights):
    """Returns (I, residual, seconds for kernel, seconds for solve, total seconds)."""
    start = time.perf_counter()
    bits, probabilities = firing_probabilities(weights)
    kernel = transition_matrix(bits, probabilities)
    built = time.perf_counter()
    pi = stationary(kernel)
    solved = time.perf_counter()
    mi = information_flux(pi, probabilities)
    end = time.perf_counter()
    residual = float(np.abs(pi @ kernel - pi).sum())
    return mi, residual, built - start, solved - built, end - start


def main():
    default = os.path.join(tempfile.gettempdir(), "fluxlab_exact_bench.json")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default=os.environ.get("FLUXLAB_BENCH_JSON", default))
    parser.add_argument("--sizes", default="10,12")
    args = parser.parse_args()
    sizes = {int(s) for s in args.sizes.split(",")}
    with open(args.path) as f:
        networks = json.load(f)["networks"]
    print(f"NumPy {np.__version__}, dense kernel + numpy.linalg.solve")
    header = ("N", "kernel s", "solve s", "total s", "residual", "I (bits)", "|I-I_rust|", "rust s", "speed-up")
    print("{:>3} {:>9} {:>9} {:>9} {:>10} {:>12} {:>11} {:>9} {:>9}".format(*header))
    for record in networks:
        if record["n"] not in sizes:
            continue
        weights = np.array(record["weights"], dtype=float)
        mi, residual, build_s, solve_s, total = analyse(weights)
        print(
            f"{record['n']:>3} {build_s:>9.3f} {solve_s:>9.3f} {total:>9.3f} {residual:>10.2e} "
            f"{mi:>12.8f} {abs(mi - record['mi_bits']):>11.2e} {record['seconds']:>9.4f} "
            f"{total / record['seconds']:>8.1f}x"
        )


if __name__ == "__main__":
    main()
