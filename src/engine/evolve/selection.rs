//! Who reproduces and who survives. Populations are kept sorted best first (by fitness, or by
//! NSGA-II rank and then crowding distance), so a tournament is won by the smallest index drawn.

use rand::RngExt;

use super::config::{EvolutionConfig, Mode, Selection};
use super::nsga2::{crowding_distances, non_dominated_fronts};
use super::objectives::oriented;
use super::{DOMAIN_EVOLUTION, Individual, PURPOSE_PARENT};
use crate::engine::rng::stream;

/// Index (into the sorted population) of the parent of offspring `k` of `generation`.
pub fn choose_parent(
    config: &EvolutionConfig,
    population: usize,
    generation: u64,
    k: usize,
) -> usize {
    match config.selection {
        Selection::Truncation => k % population,
        Selection::Tournament { size } => {
            let path = [DOMAIN_EVOLUTION, generation, k as u64, PURPOSE_PARENT];
            let mut rng = stream(config.seed, &path);
            (0..size)
                .map(|_| rng.random_range(0..population))
                .min()
                .expect("a tournament has at least one entrant")
        }
    }
}

/// The next population: the `config.parents` best of `pool`, sorted best first, with rank and
/// crowding filled in Pareto mode. Earlier pool members win exact ties.
pub fn survivors(config: &EvolutionConfig, pool: Vec<Individual>) -> Vec<Individual> {
    match config.mode {
        Mode::Weighted => by_fitness(config.parents, pool),
        Mode::Pareto => by_fronts(config, pool),
    }
}

fn by_fitness(keep: usize, mut pool: Vec<Individual>) -> Vec<Individual> {
    pool.sort_by(|a, b| b.fitness.total_cmp(&a.fitness));
    pool.truncate(keep);
    pool
}

/// NSGA-II survivor selection: whole fronts while they fit, then the most isolated members
/// (largest crowding distance) of the first front that does not.
fn by_fronts(config: &EvolutionConfig, pool: Vec<Individual>) -> Vec<Individual> {
    let points: Vec<Vec<f64>> = pool
        .iter()
        .map(|i| oriented(config, &i.objectives))
        .collect();
    let mut keyed: Vec<(usize, f64, usize)> = Vec::with_capacity(config.parents);
    for (rank, front) in non_dominated_fronts(&points).iter().enumerate() {
        if keyed.len() >= config.parents {
            break;
        }
        let crowding = crowding_distances(&points, front);
        let mut members: Vec<(usize, f64, usize)> = front
            .iter()
            .zip(&crowding)
            .map(|(&index, &d)| (rank, d, index))
            .collect();
        members.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.2.cmp(&b.2)));
        members.truncate(config.parents - keyed.len());
        keyed.extend(members);
    }
    let mut slots: Vec<Option<Individual>> = pool.into_iter().map(Some).collect();
    keyed
        .into_iter()
        .map(|(rank, crowding, index)| {
            let mut individual = slots[index].take().expect("each pool member is kept once");
            individual.rank = Some(rank);
            individual.crowding = Some(crowding);
            individual
        })
        .collect()
}

/// The non-dominated members of a sorted Pareto population, without their warm-start data.
pub fn first_front(population: &[Individual]) -> Vec<Individual> {
    population
        .iter()
        .filter(|i| i.rank == Some(0))
        .map(|i| Individual {
            stationary: None,
            factorised: super::Factorised::default(),
            ..i.clone()
        })
        .collect()
}
