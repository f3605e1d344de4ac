//! Which factorised systems precondition a generation's exact offspring solves: every
//! parent's own up to N = 7, a few long-lived hubs from N = 8 on.

use std::sync::Arc;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::config::{EvolutionConfig, Objective};
use super::genome::Genome;
use super::{Factorised, Individual};
use crate::engine::flux::exact::{PRECONDITIONER_MAX_N, Preconditioner};

/// A genome whose system is factorised to precondition the solves of the offspring of the
/// parents nearest to it. It need not stay in the population: it serves until
/// [`HUB_LIFETIME`] generations after it was chosen. Part of the checkpoint (the genome, not
/// the factorisation, a pure function of it), so a resumed run uses the same hubs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hub {
    pub genome: Genome,
    /// The generation whose offspring it first preconditioned.
    pub chosen: u64,
    #[serde(skip)]
    pub factorised: Factorised,
}

/// From this N on, a few hubs precondition every offspring instead of each parent's own LU.
/// A parent's LU (2^N)³/3 costs 8× more per step of N while a product costs 4× more; at
/// N = 8 about half the parents are new each generation, and factorising each of them took a
/// third of the CPU time (AMD EPYC, 2026-12-01). At N = 6, where an LU costs about 2.5 solves,
/// hubs were 8 % slower.
pub(super) const HUBS_FROM_N: usize = 8;

/// Hubs at a time (the best parents when chosen). Measured at N = 8, (16+64), replacing them
/// every [`HUB_LIFETIME`] = 5 generations (Intel Xeon, 2026-12-06; cost in products, an LU
/// counted as the 100 products it takes): one hub 14.07 products per solve, two 13.42, four
/// 12.65 but in smaller lock-step batches; two and four cost the same.
pub(super) const HUBS: usize = 2;

/// Generations a hub serves before the then best parents replace it. The population drifts
/// away from a hub slowly: per 150 generations at N = 8, hubs replaced every generation
/// (whenever the two best parents changed) took 191 LUs for 13.62 products per solve; every
/// 5 generations 60 LUs for 13.42 (the fresh pair serves the first children better), every 8
/// 38 for 13.77, every 15 20 for 15.02. Five costs 10 % less than replacing at every change.
pub(super) const HUB_LIFETIME: u64 = 5;

/// Factorises what preconditions the offspring of `generation`'s `parents` and returns the
/// hubs to keep: up to N = 7 every parent's own system (cached with the parent) and no hubs;
/// from [`HUBS_FROM_N`] on the `previous` hubs, replaced by the [`HUBS`] best parents when
/// there are none or they have served [`HUB_LIFETIME`] generations. Nothing when no exact
/// solve is preconditioned (sampled objectives only, or N > [`PRECONDITIONER_MAX_N`]).
pub(super) fn prepare(
    config: &EvolutionConfig,
    parents: &mut [Individual],
    previous: &[Hub],
    generation: u64,
) -> Vec<Hub> {
    if !preconditioned(config) {
        return Vec::new();
    }
    if config.n < HUBS_FROM_N {
        parents
            .par_iter_mut()
            .filter(|p| p.factorised.0.is_none())
            .for_each(|p| p.factorised = factorise(config, &p.genome));
        return Vec::new();
    }
    let expired = previous
        .first()
        .is_none_or(|h| generation.saturating_sub(h.chosen) >= HUB_LIFETIME);
    let mut hubs: Vec<Hub> = if expired {
        let best = parents.iter().take(HUBS.min(parents.len()));
        let chosen = |p: &Individual| Hub {
            genome: p.genome.clone(),
            chosen: generation,
            factorised: Factorised::default(),
        };
        best.map(chosen).collect()
    } else {
        previous.to_vec()
    };
    hubs.par_iter_mut()
        .filter(|h| h.factorised.0.is_none())
        .for_each(|h| h.factorised = factorise(config, &h.genome));
    hubs
}

/// For every parent, the factorisation that preconditions its offspring: its own (N < 8) or
/// that of the hub nearest to it (squared distance of the weights, the first on ties).
pub(super) fn for_parents<'a>(
    parents: &'a [Individual],
    hubs: &'a [Hub],
) -> Vec<Option<&'a Preconditioner>> {
    let nearest = |p: &Individual| {
        let to = |h: &Hub| squared_distance(&p.genome, &h.genome);
        hubs.iter().min_by(|a, b| to(a).total_cmp(&to(b)))
    };
    parents
        .iter()
        .map(|p| match nearest(p) {
            Some(hub) => hub.factorised.0.as_deref(),
            None => p.factorised.0.as_deref(),
        })
        .collect()
}

/// Whether offspring solves are preconditioned at all.
fn preconditioned(config: &EvolutionConfig) -> bool {
    let exact = config.has(Objective::Mi)
        || (config.has(Objective::Correlation) && !config.correlation_is_sampled());
    exact && config.n <= PRECONDITIONER_MAX_N
}

fn factorise(config: &EvolutionConfig, genome: &Genome) -> Factorised {
    Factorised(Some(Arc::new(Preconditioner::new(&genome.network(config)))))
}

/// Σ (w_a − w_b)² over the weights of two genomes.
pub(super) fn squared_distance(a: &Genome, b: &Genome) -> f64 {
    let d = a
        .weights
        .iter()
        .zip(&b.weights)
        .map(|(x, y)| (x - y) * (x - y));
    d.sum()
}
