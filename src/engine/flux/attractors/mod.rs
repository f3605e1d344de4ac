//! Cyclic attractors of the deterministic (zero-temperature) limit, x_i(t+1) = \[z_i > 0\]
//! (SCIENCE.md A7): the paper's second objective next to the information flux.
//!
//! Up to [`EXHAUSTIVE_MAX_N`] neurons every state is enumerated, which gives exact counts,
//! basins and the fraction of states on cycles. Beyond that, random starts are followed with
//! Brent's cycle detection; basins are then counts of starts and the means are estimates.
//! Bias is included and noise ignored; results do not depend on the thread count.

mod exhaustive;
mod successor;
#[cfg(test)]
mod tests;
mod walk;

use std::collections::HashMap;

use rand::Rng;
use rayon::prelude::*;

use crate::engine::control::{Control, Stopped};
use crate::engine::flux::network::Network;
use crate::engine::rng::{DOMAIN_ATTRACTORS, EngineRng, stream};

use successor::Successor;
use walk::Reached;

/// Largest N enumerated exhaustively: 2^24 states need a 64 MB next-state table.
pub const EXHAUSTIVE_MAX_N: usize = 24;

/// Largest network for either method (the walker keeps N² weights in f64: 32 MB at 2000).
pub const ATTRACTOR_MAX_N: usize = 2000;

/// Most random starts one job may ask for (the tally keeps one state per attractor found).
pub const MAX_STARTS: usize = 1_000_000;
/// Most steps one start may take before it counts as unresolved.
pub const MAX_STEPS_PER_START: usize = 10_000_000;

/// Bound on starts × max_steps × N² for the sampled method. A start takes at most
/// 2·max_steps steps (detection, then one lap of the cycle), each reading up to N²/2 weights;
/// measured at N = 200 (bench/results/sampled.md) about 6·10⁹ units per second per core, so
/// the bound is under two core-hours in the worst case.
pub const MAX_ATTRACTOR_WORK: f64 = 2e13;

/// At most this many attractors are listed (largest basins first); `count` and the means
/// always cover all of them. An autapse-only network at N = 24 has 2^24 fixed points.
pub const MAX_LISTED_ATTRACTORS: usize = 10_000;

/// How to search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttractorOptions {
    /// Enumerate all states when N ≤ this (capped at [`EXHAUSTIVE_MAX_N`]); 0 forces sampling.
    pub exhaustive_max_n: usize,
    /// Random initial states for the sampled method.
    pub starts: usize,
    /// Steps a start may take before its cycle must have been detected.
    pub max_steps: usize,
}

impl Default for AttractorOptions {
    fn default() -> Self {
        AttractorOptions {
            exhaustive_max_n: EXHAUSTIVE_MAX_N,
            starts: 1000,
            max_steps: 10_000,
        }
    }
}

impl AttractorOptions {
    /// True if a network of `n` neurons is enumerated rather than sampled.
    pub fn is_exhaustive(&self, n: usize) -> bool {
        n <= self.exhaustive_max_n.min(EXHAUSTIVE_MAX_N)
    }

    /// Checks the options against the documented bounds for `n` neurons.
    pub fn validate(&self, n: usize) -> Result<(), String> {
        if n == 0 || n > ATTRACTOR_MAX_N {
            return Err(format!(
                "attractors need 1 ≤ N ≤ {ATTRACTOR_MAX_N}, got N = {n}"
            ));
        }
        if self.exhaustive_max_n > EXHAUSTIVE_MAX_N {
            return Err(format!(
                "exhaustive_max_n may be at most {EXHAUSTIVE_MAX_N}, got {}",
                self.exhaustive_max_n
            ));
        }
        if self.is_exhaustive(n) {
            return Ok(());
        }
        if self.starts == 0 || self.starts > MAX_STARTS {
            return Err(format!(
                "starts must be in 1..={MAX_STARTS}, got {}",
                self.starts
            ));
        }
        if self.max_steps == 0 || self.max_steps > MAX_STEPS_PER_START {
            return Err(format!(
                "max_steps must be in 1..={MAX_STEPS_PER_START}, got {}",
                self.max_steps
            ));
        }
        let work = self.starts as f64 * self.max_steps as f64 * (n * n) as f64;
        if work > MAX_ATTRACTOR_WORK {
            return Err(format!(
                "starts × max_steps × N² = {work:.3e} exceeds the limit of {MAX_ATTRACTOR_WORK:.0e}"
            ));
        }
        Ok(())
    }
}

/// One attractor: its period and its basin (states for the exhaustive method, starts for
/// the sampled one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attractor {
    pub period: u64,
    pub basin: u64,
}

/// Summary of the attractor landscape (A7).
#[derive(Debug, Clone, PartialEq)]
pub struct AttractorStats {
    /// "exhaustive" or "sampled".
    pub method: &'static str,
    /// Number of distinct attractors found.
    pub count: usize,
    /// ⟨L⟩_attr: mean period over attractors (0 when none was found).
    pub mean_period: f64,
    /// ⟨L⟩_state: Σ_k basin_k·period_k / Σ_k basin_k, i.e. over 2^N states or over the
    /// resolved starts (0 when none was found).
    pub mean_period_state_weighted: f64,
    /// The longest period found (0 when none was found).
    pub max_period: u64,
    /// Fraction of all 2^N states lying on a cycle (exhaustive method only).
    pub cycle_state_fraction: Option<f64>,
    /// Attractors by basin (largest first), then period, then a canonical order; at most
    /// [`MAX_LISTED_ATTRACTORS`].
    pub list: Vec<Attractor>,
    /// Random starts used (sampled method only).
    pub starts: Option<u64>,
    /// Starts whose cycle was not detected within `max_steps` (excluded from the basins).
    pub unresolved_starts: u64,
}

/// Finds the attractors of `net`'s deterministic limit: exhaustively for N ≤
/// `options.exhaustive_max_n` (capped at 24), else from `options.starts` random starts drawn
/// from the stream `[DOMAIN_ATTRACTORS, network_index]`. Polls `control` regularly.
///
/// # Panics
/// If N is 0, or if sampling is needed and `starts` or `max_steps` is 0.
pub fn find_attractors(
    net: &Network,
    options: &AttractorOptions,
    seed: u64,
    network_index: u64,
    control: &dyn Control,
) -> Result<AttractorStats, Stopped> {
    let n = net.n();
    assert!(n >= 1, "a network needs at least one neuron");
    let successor = Successor::new(net);
    if options.is_exhaustive(n) {
        let table = exhaustive::next_state_table(&successor, control)?;
        let cycles = exhaustive::cycles(table, control)?;
        control.progress(1.0, "attractors found");
        return Ok(exhaustive_stats(n, cycles));
    }
    assert!(options.starts >= 1 && options.max_steps >= 1);
    let mut rng = stream(seed, &[DOMAIN_ATTRACTORS, network_index]);
    let tally = sample_starts(&successor, options, &mut rng, control)?;
    control.progress(1.0, "attractors found");
    Ok(sampled_stats(options.starts as u64, tally))
}

/// Starts processed per parallel batch (their states are drawn in order beforehand).
const START_BATCH: usize = 64;

/// Walks every start, in parallel batches, tallying the outcomes in start order.
fn sample_starts(
    successor: &Successor,
    options: &AttractorOptions,
    rng: &mut EngineRng,
    control: &dyn Control,
) -> Result<Tally, Stopped> {
    let words = successor.n.div_ceil(64);
    let mut tally = Tally::default();
    let mut done = 0;
    while done < options.starts {
        if control.should_stop() {
            return Err(Stopped);
        }
        let batch = START_BATCH.min(options.starts - done);
        let starts: Vec<Vec<u64>> = (0..batch)
            .map(|_| random_state(rng, successor.n, words))
            .collect();
        let part: Vec<Option<Reached>> = starts
            .par_iter()
            .map(|s| walk::walk(successor, s, options.max_steps as u64, control))
            .collect::<Result<_, _>>()?;
        part.into_iter().for_each(|outcome| tally.add(outcome));
        done += batch;
        control.progress(
            done as f64 / options.starts as f64,
            "following random starts",
        );
    }
    Ok(tally)
}

/// A uniformly random state as a bitset (one draw per 64 neurons).
fn random_state(rng: &mut EngineRng, n: usize, words: usize) -> Vec<u64> {
    let mut state: Vec<u64> = (0..words).map(|_| rng.next_u64()).collect();
    if !n.is_multiple_of(64) {
        state[words - 1] &= (1u64 << (n % 64)) - 1;
    }
    state
}

/// Means over a list of (period, basin) pairs, all attractors included.
struct Means {
    mean_period: f64,
    state_weighted: f64,
    max_period: u64,
}

fn means(attractors: &[Attractor]) -> Means {
    let count = attractors.len() as f64;
    let total_basin: u64 = attractors.iter().map(|a| a.basin).sum();
    let weighted: f64 = attractors.iter().map(|a| (a.basin * a.period) as f64).sum();
    Means {
        mean_period: if count > 0.0 {
            attractors.iter().map(|a| a.period as f64).sum::<f64>() / count
        } else {
            0.0
        },
        state_weighted: if total_basin > 0 {
            weighted / total_basin as f64
        } else {
            0.0
        },
        max_period: attractors.iter().map(|a| a.period).max().unwrap_or(0),
    }
}

fn exhaustive_stats(n: usize, mut cycles: Vec<exhaustive::Cycle>) -> AttractorStats {
    cycles.sort_by_key(|c| (std::cmp::Reverse(c.basin), c.period, c.order));
    let list: Vec<Attractor> = cycles
        .iter()
        .map(|c| Attractor {
            period: u64::from(c.period),
            basin: u64::from(c.basin),
        })
        .collect();
    let m = means(&list);
    let on_cycles: u64 = list.iter().map(|a| a.period).sum();
    AttractorStats {
        method: "exhaustive",
        count: list.len(),
        mean_period: m.mean_period,
        mean_period_state_weighted: m.state_weighted,
        max_period: m.max_period,
        cycle_state_fraction: Some(on_cycles as f64 / (1u64 << n) as f64),
        list: truncate(list),
        starts: None,
        unresolved_starts: 0,
    }
}

fn sampled_stats(starts: u64, tally: Tally) -> AttractorStats {
    let unresolved = tally.unresolved;
    let list = tally.into_sorted();
    let m = means(&list);
    AttractorStats {
        method: "sampled",
        count: list.len(),
        mean_period: m.mean_period,
        mean_period_state_weighted: m.state_weighted,
        max_period: m.max_period,
        cycle_state_fraction: None,
        list: truncate(list),
        starts: Some(starts),
        unresolved_starts: unresolved,
    }
}

/// The attractors reached so far, in order of discovery, each with its canonical (smallest)
/// state; memory grows with the number of distinct attractors, not of starts.
#[derive(Default)]
struct Tally {
    index: HashMap<Vec<u64>, usize>,
    found: Vec<(Attractor, Vec<u64>)>,
    unresolved: u64,
}

impl Tally {
    fn add(&mut self, outcome: Option<Reached>) {
        let Some(r) = outcome else {
            self.unresolved += 1;
            return;
        };
        let found = &mut self.found;
        let k = *self.index.entry(r.canonical.clone()).or_insert_with(|| {
            found.push((
                Attractor {
                    period: r.period,
                    basin: 0,
                },
                r.canonical,
            ));
            found.len() - 1
        });
        found[k].0.basin += 1;
    }

    /// Sorted like the exhaustive list, ties broken by the canonical state.
    fn into_sorted(mut self) -> Vec<Attractor> {
        self.found.sort_by(|(a, ka), (b, kb)| {
            (b.basin, a.period)
                .cmp(&(a.basin, b.period))
                .then_with(|| ka.iter().rev().cmp(kb.iter().rev()))
        });
        self.found.into_iter().map(|(a, _)| a).collect()
    }
}

fn truncate(mut list: Vec<Attractor>) -> Vec<Attractor> {
    list.truncate(MAX_LISTED_ATTRACTORS);
    list
}
