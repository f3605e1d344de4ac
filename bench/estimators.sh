#!/usr/bin/env bash
# Coverage and bias of the sampled estimators of I against exact I (docs/estimators.md).
# Writes bench/results/estimators.{md,csv,svg}. Defaults: 20 networks per setting, N = 6..14,
# 10^4, 10^5 and 10^6 steps × 4 runs, strong (std 1) and weak (std 1/√N) Gaussian coupling.
# Override with ESTIMATORS_NETWORKS, ESTIMATORS_N, ESTIMATORS_STEPS (comma lists), e.g.
#   ESTIMATORS_N=8,10 ESTIMATORS_STEPS=100000 bench/estimators.sh
# PROFILE=release (default dev, which is optimised, see Cargo.toml) picks the build profile.
set -euo pipefail
cd "$(dirname "$0")/.."
export ESTIMATORS_OUT="${ESTIMATORS_OUT:-bench/results}"
cargo bench --bench estimators --profile "${PROFILE:-dev}"
