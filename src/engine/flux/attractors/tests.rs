//! Attractor checks: the SCIENCE.md ring table, autapses, agreement of the sampled method
//! and the Gray-code table with a brute-force reference, large rings, determinism, stop.

use std::collections::BTreeMap;

use ndarray::Array2;

use super::*;
use crate::engine::control::{StopFlag, Unattended};
use crate::engine::flux::ensemble::{Gaussian, NRooks, Permutation, Signs};
use crate::engine::flux::network::InputMode;

fn ring(n: usize, negatives: usize) -> Network {
    let spec = NRooks {
        n,
        q: 1.0,
        permutation: Permutation::Ring,
        signs: Signs::Given(
            (0..n)
                .map(|j| if j < negatives { -1.0 } else { 1.0 })
                .collect(),
        ),
    };
    Network::new(spec.sample(&mut stream(0, &[])))
}

fn gaussian(n: usize, seed: u64) -> Network {
    let spec = Gaussian::iid(n, 1.0);
    Network::new(spec.sample(&mut stream(seed, &[7])))
}

fn sampled(starts: usize, max_steps: usize) -> AttractorOptions {
    AttractorOptions {
        exhaustive_max_n: 0,
        starts,
        max_steps,
    }
}

/// Brute force with `Network::deterministic_next_index`: smallest cycle state → (period,
/// basin) for every attractor.
fn reference(net: &Network) -> BTreeMap<u64, (u64, u64)> {
    let size = 1u64 << net.n();
    let mut z = vec![0.0; net.n()];
    let next: Vec<u64> = (0..size)
        .map(|s| net.deterministic_next_index(s, &mut z))
        .collect();
    let mut found = BTreeMap::new();
    for s in 0..size {
        let mut x = s;
        for _ in 0..size {
            x = next[x as usize];
        }
        let (mut y, mut period, mut min) = (next[x as usize], 1, x);
        while y != x {
            min = min.min(y);
            y = next[y as usize];
            period += 1;
        }
        found.entry(min).or_insert((period, 0)).1 += 1;
    }
    found
}

fn assert_close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-3, "{a} vs {b}");
}

#[test]
fn ring_check_table() {
    // (N, negatives) → count, ⟨L⟩_attr, ⟨L⟩_state, max (SCIENCE.md A7 check values).
    let table = [
        (3, 0, 4, 2.0, 2.5, 3),
        (4, 0, 6, 2.667, 3.375, 4),
        (5, 0, 8, 4.0, 4.75, 5),
        (6, 0, 14, 4.571, 5.438, 6),
        (8, 0, 36, 7.111, 7.711, 8),
        (3, 1, 2, 4.0, 5.0, 6),
        (4, 1, 2, 8.0, 8.0, 8),
        (5, 1, 4, 8.0, 9.5, 10),
        (6, 1, 6, 10.667, 11.5, 12),
        (8, 1, 16, 16.0, 16.0, 16),
    ];
    for (n, neg, count, attr, state, max) in table {
        let s = find_attractors(
            &ring(n, neg),
            &AttractorOptions::default(),
            0,
            0,
            &Unattended,
        )
        .unwrap();
        assert_eq!(s.method, "exhaustive");
        assert_eq!(s.count, count, "N = {n}, {neg} negative");
        assert!(
            (s.mean_period - attr).abs() < 1e-3,
            "N = {n}: {}",
            s.mean_period
        );
        assert!(
            (s.mean_period_state_weighted - state).abs() < 1e-3,
            "N = {n}"
        );
        assert_eq!(s.max_period, max);
        // A ring is a permutation of the states: every state lies on a cycle.
        assert_eq!(s.cycle_state_fraction, Some(1.0));
        assert_eq!(s.list.iter().map(|a| a.basin).sum::<u64>(), 1 << n);
    }
}

#[test]
fn autapses_make_every_state_a_fixed_point() {
    let net = Network::new(Array2::eye(10) * 2.0);
    let s = find_attractors(&net, &AttractorOptions::default(), 0, 0, &Unattended).unwrap();
    assert_eq!(s.count, 1024);
    assert_eq!((s.mean_period, s.max_period), (1.0, 1));
    assert_eq!(s.cycle_state_fraction, Some(1.0));
    assert!(s.list.iter().all(|a| *a
        == Attractor {
            period: 1,
            basin: 1
        }));
    // More attractors than are listed: the count and means still cover all of them.
    let big = Network::new(Array2::eye(14) * 2.0);
    let s = find_attractors(&big, &AttractorOptions::default(), 0, 0, &Unattended).unwrap();
    assert_eq!(s.count, 1 << 14);
    assert_eq!(s.list.len(), MAX_LISTED_ATTRACTORS);
}

#[test]
fn exhaustive_matches_brute_force_including_ties() {
    let mut nets = vec![gaussian(10, 1), gaussian(9, 2)];
    nets[1].bias = (0..9).map(|i| (i as f64 - 4.0) / 3.0).collect();
    nets[1].input = InputMode::Binary;
    // Weights in {−1, 0, 1}: many net inputs are exactly 0, and 0 means "off".
    let mut ties = gaussian(8, 3);
    ties.weights
        .mapv_inplace(|w| (w * 1.5).round().clamp(-1.0, 1.0));
    nets.push(ties);
    // Multiples of 0.1: sums of decimals that "should" cancel come out as ±1e-17 or 0 depending
    // on the order of a float sum; both sides decide them by the exact sum of the f64 values.
    let mut decimals = gaussian(10, 5);
    decimals.weights.mapv_inplace(|w| (w * 3.0).round() / 10.0);
    nets.push(decimals);
    for net in &nets {
        let expected = reference(net);
        let s = find_attractors(net, &AttractorOptions::default(), 0, 0, &Unattended).unwrap();
        assert_eq!(s.count, expected.len());
        let mut got: Vec<(u64, u64)> = s.list.iter().map(|a| (a.period, a.basin)).collect();
        let mut want: Vec<(u64, u64)> = expected.values().copied().collect();
        got.sort();
        want.sort();
        assert_eq!(got, want);
        let on_cycles: u64 = want.iter().map(|p| p.0).sum();
        assert_eq!(
            s.cycle_state_fraction,
            Some(on_cycles as f64 / (1u64 << net.n()) as f64)
        );
    }
}

#[test]
fn sampled_method_finds_the_exhaustive_attractors() {
    for net in [ring(8, 0), ring(8, 1), gaussian(10, 4)] {
        let expected = reference(&net);
        let mut rng = stream(5, &[DOMAIN_ATTRACTORS, 0]);
        let options = sampled(4000, 5000);
        let tally = sample_starts(&Successor::new(&net), &options, &mut rng, &Unattended).unwrap();
        assert_eq!(tally.unresolved, 0);
        let states = (1u64 << net.n()) as f64;
        let mut basins: BTreeMap<u64, u64> = BTreeMap::new();
        for (attractor, canonical) in &tally.found {
            let (period, _) = expected[&canonical[0]];
            assert_eq!(attractor.period, period);
            basins.insert(canonical[0], attractor.basin);
        }
        // Every attractor whose basin holds ≥ 1/256 of the states is found (misses have
        // probability < e^-15), with a basin share within a few standard errors.
        for (min, (_, basin)) in &expected {
            let share = *basin as f64 / states;
            let hits = basins.get(min).copied().unwrap_or(0) as f64 / 4000.0;
            if share >= 1.0 / 256.0 {
                assert!(hits > 0.0, "attractor {min} missed");
            }
            assert!((hits - share).abs() < 5.0 * (share / 4000.0).sqrt() + 1e-3);
        }
        let s = find_attractors(&net, &sampled(4000, 5000), 5, 0, &Unattended).unwrap();
        assert_eq!(s.method, "sampled");
        assert_eq!(s.count, basins.len());
        assert_eq!((s.starts, s.unresolved_starts), (Some(4000), 0));
        assert_eq!(s.cycle_state_fraction, None);
    }
}

#[test]
fn sampled_state_weighted_mean_matches_exhaustive_on_a_ring() {
    let net = ring(8, 0);
    let exact = find_attractors(&net, &AttractorOptions::default(), 0, 0, &Unattended).unwrap();
    let est = find_attractors(&net, &sampled(4000, 1000), 1, 0, &Unattended).unwrap();
    assert_eq!(est.count, exact.count);
    assert_close(est.mean_period, exact.mean_period);
    assert!((est.mean_period_state_weighted - exact.mean_period_state_weighted).abs() < 0.1);
}

#[test]
fn large_rings_have_the_known_periods() {
    for (negatives, longest) in [(0, 200), (1, 400)] {
        let net = ring(200, negatives);
        let s = find_attractors(&net, &sampled(40, 2000), 3, 0, &Unattended).unwrap();
        assert_eq!(s.unresolved_starts, 0);
        // Rotation (with one inversion: its square is rotation by two with complement) of a
        // random 200-bit string almost surely has the full period.
        assert_eq!(s.max_period, longest);
        assert!(s.list.iter().all(|a| 2 * 200 % a.period == 0));
        assert_eq!(s.count, 40);
    }
}

#[test]
fn unresolved_starts_are_counted() {
    let net = ring(200, 1);
    let s = find_attractors(&net, &sampled(10, 100), 3, 0, &Unattended).unwrap();
    assert_eq!((s.unresolved_starts, s.count), (10, 0));
    assert_eq!(s.mean_period, 0.0);
}

#[test]
fn results_do_not_depend_on_thread_count() {
    let net = gaussian(40, 6);
    let options = sampled(200, 3000);
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let two = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let a = one.install(|| find_attractors(&net, &options, 9, 2, &Unattended).unwrap());
    let b = two.install(|| find_attractors(&net, &options, 9, 2, &Unattended).unwrap());
    assert_eq!(a, b);
    let small = gaussian(16, 6);
    let defaults = AttractorOptions::default();
    let c = one.install(|| find_attractors(&small, &defaults, 0, 0, &Unattended).unwrap());
    let d = two.install(|| find_attractors(&small, &defaults, 0, 0, &Unattended).unwrap());
    assert_eq!(c, d);
}

#[test]
fn stop_flag_stops_both_methods() {
    let flag = StopFlag::default();
    flag.0.store(true, std::sync::atomic::Ordering::Relaxed);
    let net = gaussian(16, 7);
    let defaults = AttractorOptions::default();
    assert_eq!(find_attractors(&net, &defaults, 0, 0, &flag), Err(Stopped));
    assert_eq!(
        find_attractors(&net, &sampled(100, 10_000_000), 0, 0, &flag),
        Err(Stopped)
    );
}

#[test]
fn validation_enforces_the_documented_bounds() {
    let defaults = AttractorOptions::default();
    assert!(defaults.validate(24).is_ok());
    assert!(defaults.validate(1000).is_ok());
    assert!(defaults.validate(ATTRACTOR_MAX_N + 1).is_err());
    assert!(
        AttractorOptions {
            exhaustive_max_n: 25,
            ..defaults
        }
        .validate(10)
        .is_err()
    );
    assert!(sampled(0, 10).validate(100).is_err());
    assert!(sampled(1_000_000, 10_000_000).validate(100).is_err());
}
