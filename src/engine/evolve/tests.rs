//! Tests of the evolution engine: the science of SCIENCE.md A6 (N-rooks under a Frobenius
//! budget, dense matrices under a box, a Pareto trade-off between I and the mean period),
//! determinism across runs, thread counts and JSON checkpoints, cancellation, validation.

use std::sync::atomic::AtomicBool;

use super::*;
use crate::engine::control::{StopFlag, Unattended};
use crate::engine::flux::attractors::{AttractorOptions, find_attractors};
use crate::engine::flux::exact::{ExactOptions, analyze_exact};

fn run(config: &EvolutionConfig, init: &Init) -> (EvolutionState, Vec<GenerationStats>) {
    let mut state = initialize(config, init, &Unattended).unwrap();
    let mut rows = vec![statistics(config, &state)];
    for _ in 0..config.generations {
        rows.push(step(config, &mut state, &Unattended).unwrap());
    }
    (state, rows)
}

fn gaussian() -> Init {
    Init::Ensemble(EnsembleInit::default())
}

fn objective(objective: Objective, weight: f64) -> ObjectiveSpec {
    ObjectiveSpec { objective, weight }
}

fn nrooks_mi(n: usize, q: f64) -> f64 {
    crate::engine::flux::network::nrooks_mi_bits(n as f64, q)
}

/// N = 6 under the Frobenius budget √6·3 (the budget of an N-rooks matrix with q = 3).
fn frobenius_config() -> EvolutionConfig {
    EvolutionConfig {
        n: 6,
        parents: 20,
        offspring: 60,
        generations: 200,
        mutation: Mutation {
            std: 0.2,
            rate: 1.0,
            adaptive: true,
        },
        constraint: Constraint::Frobenius {
            value: 6f64.sqrt() * 3.0,
        },
        seed: 7,
        ..EvolutionConfig::default()
    }
}

#[test]
fn nrooks_matrices_emerge_under_a_frobenius_budget() {
    let config = frobenius_config();
    let (state, rows) = run(&config, &gaussian());
    let top = best(&state);
    let mi = top.objectives.mi_bits.unwrap();
    let ideal = nrooks_mi(6, 3.0);
    let score = rook_score(&top.genome.weights, 6);
    assert!(score >= 0.9, "rook score {score}");
    assert!(argmax_is_permutation(&top.genome.weights, 6));
    assert!(
        (mi - ideal).abs() <= 0.02 * ideal,
        "I = {mi}, N-rooks {ideal}"
    );
    assert!(
        rows[0].best_rook_score < 0.6,
        "a Gaussian start is far from N-rooks"
    );
    assert!(top.objectives.converged == Some(true));
    // Self-adaptation shrinks the step size as the population closes in on the optimum.
    let last = rows.last().unwrap();
    assert!(
        last.step_size < rows[0].step_size / 10.0,
        "step {}",
        last.step_size
    );
    // The best value never decreases in a (μ+λ) run with an exact objective.
    let bests: Vec<f64> = rows.iter().map(|r| r.mi_bits.unwrap().best).collect();
    assert!(bests.windows(2).all(|w| w[1] >= w[0]));
    assert_eq!(state.evaluations, 20 + 200 * 60);
}

#[test]
fn dense_matrices_beat_nrooks_under_a_box_constraint() {
    // The box landscape is rugged (sign patterns of saturated weights), so single runs end on
    // different peaks: look at eight seeds.
    let ideal = nrooks_mi(6, 3.0);
    let mut results = Vec::new();
    for seed in 1..=8 {
        let config = EvolutionConfig {
            parents: 10,
            offspring: 40,
            generations: 300,
            mutation: Mutation {
                std: 0.3,
                rate: 1.0,
                adaptive: true,
            },
            constraint: Constraint::Box { bound: 3.0 },
            seed,
            ..frobenius_config()
        };
        let (state, _) = run(&config, &gaussian());
        let top = best(&state).clone();
        assert!(top.genome.weights.iter().all(|w| w.abs() <= 3.0));
        results.push(top);
    }
    let mi = |i: &Individual| i.objectives.mi_bits.unwrap();
    let above = results.iter().filter(|i| mi(i) > ideal).count();
    assert!(above >= 6, "{above} of 8 runs beat N-rooks ({ideal})");
    let top = results
        .iter()
        .max_by(|a, b| mi(a).total_cmp(&mi(b)))
        .unwrap();
    assert!(
        mi(top) > 1.1 * ideal,
        "best I = {} vs N-rooks {ideal}",
        mi(top)
    );
    let saturated = top.genome.weights.iter().filter(|w| w.abs() > 2.9).count();
    assert!(
        saturated >= 24,
        "dense ±bound matrix expected, {saturated} of 36 at the bound"
    );
    assert!(rook_score(&top.genome.weights, 6) < 0.5);
}

fn pareto_config() -> EvolutionConfig {
    EvolutionConfig {
        n: 8,
        parents: 20,
        offspring: 40,
        generations: 100,
        mutation: Mutation {
            std: 0.3,
            rate: 1.0,
            adaptive: false,
        },
        objectives: vec![
            objective(Objective::Mi, 1.0),
            objective(Objective::MeanPeriod, 1.0),
        ],
        mode: Mode::Pareto,
        seed: 3,
        ..EvolutionConfig::default()
    }
}

#[test]
fn pareto_front_trades_information_for_period() {
    let config = pareto_config();
    let (state, rows) = run(&config, &gaussian());
    let front = state.pareto_front.as_ref().unwrap();
    let points: Vec<Vec<f64>> = front
        .iter()
        .map(|i| {
            vec![
                i.objectives.mi_bits.unwrap(),
                i.objectives.mean_period.unwrap(),
            ]
        })
        .collect();
    for a in &points {
        assert!(
            points.iter().all(|b| !dominates(b, a)),
            "{a:?} is dominated"
        );
    }
    let mut distinct: Vec<(f64, f64)> = points.iter().map(|p| (p[1], p[0])).collect();
    distinct.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    distinct.dedup();
    assert!(distinct.len() >= 3, "front {distinct:?}");
    // Along the front, a longer mean period costs information.
    assert!(
        distinct
            .windows(2)
            .all(|w| w[1].0 > w[0].0 && w[1].1 < w[0].1),
        "{distinct:?}"
    );
    let (short, long) = (distinct[0], distinct[distinct.len() - 1]);
    assert!(
        long.0 >= 2.0 * short.0 && short.1 - long.1 > 0.1,
        "{distinct:?}"
    );
    assert!(
        front
            .iter()
            .all(|i| i.rank == Some(0) && i.stationary.is_none())
    );
    assert_eq!(rows.last().unwrap().pareto_front_size, Some(front.len()));
    assert_eq!(best(&state).rank, Some(0));
}

/// Serialises a value to JSON text: equal text means bit-identical floats.
fn json<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap()
}

/// Configurations covering every code path that carries randomness or warm starts.
fn determinism_configs() -> Vec<(EvolutionConfig, Init)> {
    let tournament = EvolutionConfig {
        generations: 8,
        selection: Selection::Tournament { size: 3 },
        evolve_bias: true,
        mutation: Mutation {
            std: 0.2,
            rate: 0.3,
            adaptive: true,
        },
        objectives: vec![
            objective(Objective::Mi, 1.0),
            objective(Objective::Correlation, -0.5),
        ],
        ..frobenius_config()
    };
    let pareto = EvolutionConfig {
        generations: 6,
        ..pareto_config()
    };
    let sampled = EvolutionConfig {
        n: 30,
        parents: 4,
        offspring: 8,
        generations: 4,
        strategy: Strategy::Comma,
        elitism: 1,
        objectives: vec![
            objective(Objective::Correlation, 1.0),
            objective(Objective::MeanPeriod, 0.1),
        ],
        correlation_sampling: CorrelationSampling {
            steps: 300,
            burn_in: 20,
            runs: 2,
        },
        attractor_sampling: AttractorSampling {
            starts: 20,
            max_steps: 500,
        },
        constraint: Constraint::Box { bound: 1.0 },
        seed: 11,
        ..EvolutionConfig::default()
    };
    vec![
        (tournament, gaussian()),
        (pareto, gaussian()),
        (sampled, gaussian()),
    ]
}

#[test]
fn same_config_gives_identical_results_on_one_and_two_threads() {
    for (config, init) in determinism_configs() {
        let on = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| run(&config, &init))
        };
        let (one, rows_one) = on(1);
        let (two, rows_two) = on(2);
        let (again, _) = on(2);
        assert_eq!(json(&one), json(&two), "n = {}", config.n);
        assert_eq!(json(&rows_one), json(&rows_two));
        assert_eq!(json(&two), json(&again));
    }
}

#[test]
fn resuming_from_a_json_checkpoint_is_bit_identical() {
    for (config, init) in determinism_configs() {
        let (straight, straight_rows) = run(&config, &init);
        let mut state = initialize(&config, &init, &Unattended).unwrap();
        let mut rows = Vec::new();
        let half = config.generations / 2;
        for _ in 0..half {
            rows.push(step(&config, &mut state, &Unattended).unwrap());
        }
        let checkpoint = json(&(&config, &state));
        let (config, mut state): (EvolutionConfig, EvolutionState) =
            serde_json::from_str(&checkpoint).unwrap();
        for _ in half..config.generations {
            rows.push(step(&config, &mut state, &Unattended).unwrap());
        }
        assert_eq!(json(&state), json(&straight), "n = {}", config.n);
        assert_eq!(json(&rows), json(&straight_rows[1..]));
        assert_eq!(state, straight);
    }
}

#[test]
fn warm_start_distributions_are_checkpointed_for_small_networks_only() {
    let (state, _) = run(
        &EvolutionConfig {
            generations: 2,
            ..frobenius_config()
        },
        &gaussian(),
    );
    assert!(
        state
            .population
            .iter()
            .all(|i| i.stationary.as_ref().unwrap().len() == 64)
    );
    let sampled = &determinism_configs()[2].0;
    let s = initialize(sampled, &gaussian(), &Unattended).unwrap();
    assert!(s.population.iter().all(|i| i.stationary.is_none()));
}

#[test]
fn a_stopped_step_leaves_the_state_unchanged() {
    let config = frobenius_config();
    let stop = StopFlag(AtomicBool::new(true));
    assert_eq!(
        initialize(&config, &gaussian(), &stop).unwrap_err(),
        Stopped
    );
    let mut state = initialize(&config, &gaussian(), &Unattended).unwrap();
    step(&config, &mut state, &Unattended).unwrap();
    let before = json(&state);
    assert_eq!(step(&config, &mut state, &stop).unwrap_err(), Stopped);
    assert_eq!(json(&state), before);
}

#[test]
fn measured_values_match_the_flux_analyses() {
    let config = EvolutionConfig {
        n: 7,
        generations: 1,
        evolve_bias: true,
        input: Input::Binary,
        objectives: vec![
            objective(Objective::Mi, 1.0),
            objective(Objective::Correlation, 1.0),
            objective(Objective::MeanPeriod, 0.5),
        ],
        period_weighting: PeriodWeighting::State,
        ..frobenius_config()
    };
    let (state, _) = run(&config, &gaussian());
    for individual in &state.population {
        let net = individual.genome.network(&config);
        let exact = analyze_exact(&net, &ExactOptions::default(), &Unattended).unwrap();
        let attractors =
            find_attractors(&net, &AttractorOptions::default(), 0, 0, &Unattended).unwrap();
        let v = &individual.objectives;
        assert!((v.mi_bits.unwrap() - exact.mi_bits).abs() < 1e-9);
        assert!((v.correlation_rms.unwrap() - exact.correlation.rms).abs() < 1e-9);
        assert_eq!(v.mean_period, Some(attractors.mean_period_state_weighted));
        let expected =
            v.mi_bits.unwrap() + v.correlation_rms.unwrap() + 0.5 * v.mean_period.unwrap();
        assert!((individual.fitness - expected).abs() < 1e-12);
    }
}

#[test]
fn comma_strategy_with_elitism_keeps_the_best_parent() {
    let config = EvolutionConfig {
        strategy: Strategy::Comma,
        elitism: 1,
        generations: 30,
        ..frobenius_config()
    };
    let (state, rows) = run(&config, &gaussian());
    let bests: Vec<f64> = rows.iter().map(|r| r.mi_bits.unwrap().best).collect();
    assert!(bests.windows(2).all(|w| w[1] >= w[0]));
    assert_eq!(state.population.len(), config.parents);
    let no_elite = EvolutionConfig {
        elitism: 0,
        ..config
    };
    let (state, _) = run(&no_elite, &gaussian());
    assert!(
        state
            .population
            .iter()
            .all(|i| i.born == no_elite.generations)
    );
}

#[test]
fn initial_population_from_weights_or_another_run() {
    let config = EvolutionConfig {
        generations: 3,
        ..frobenius_config()
    };
    let ring: Vec<f64> = (0..36)
        .map(|k| if k % 6 == (k / 6 + 1) % 6 { 3.0 } else { 0.0 })
        .collect();
    let from_weights = initialize(
        &config,
        &Init::Weights {
            weights: ring.clone(),
            bias: None,
        },
        &Unattended,
    )
    .unwrap();
    assert!(
        from_weights
            .population
            .iter()
            .all(|i| i.genome.weights != ring)
    );
    let (previous, _) = run(&config, &gaussian());
    let given = vec![best(&previous).genome.clone()];
    let resumed = initialize(&config, &Init::Population(given.clone()), &Unattended).unwrap();
    assert_eq!(resumed.population.len(), config.parents);
    let same = |g: &Genome| {
        g.weights
            .iter()
            .zip(&given[0].weights)
            .all(|(a, b)| (a - b).abs() < 1e-12)
    };
    assert!(resumed.population.iter().any(|i| same(&i.genome)));
    let previous_mi = best(&previous).objectives.mi_bits.unwrap();
    assert!(best(&resumed).objectives.mi_bits.unwrap() >= previous_mi - 1e-9);
    let larger: Vec<Genome> = previous
        .population
        .iter()
        .map(|i| i.genome.clone())
        .collect();
    let smaller = EvolutionConfig {
        parents: 3,
        ..config
    };
    let kept = initialize(&smaller, &Init::Population(larger), &Unattended).unwrap();
    assert_eq!(kept.population.len(), 3);
    assert_eq!(kept.evaluations, 20);
}

fn fields(errors: &[FieldError]) -> Vec<&str> {
    errors.iter().map(|(f, _)| f.as_str()).collect()
}

#[test]
fn validation_names_the_field_and_the_bound() {
    assert!(validate(&EvolutionConfig::default()).is_empty());
    let too_large = EvolutionConfig {
        n: 17,
        objectives: vec![
            objective(Objective::Correlation, 1.0),
            objective(Objective::Mi, 1.0),
        ],
        ..EvolutionConfig::default()
    };
    let errors = validate(&too_large);
    assert_eq!(fields(&errors), vec!["objectives[1].name"]);
    assert!(errors[0].1.contains("16"), "{}", errors[0].1);
    let bad = EvolutionConfig {
        n: 1001,
        strategy: Strategy::Comma,
        parents: 10,
        offspring: 5,
        elitism: 11,
        selection: Selection::Tournament { size: 0 },
        mutation: Mutation {
            std: -1.0,
            rate: 0.0,
            adaptive: false,
        },
        constraint: Constraint::Frobenius { value: -2.0 },
        objectives: vec![objective(Objective::MeanPeriod, 1.0)],
        mode: Mode::Pareto,
        ..EvolutionConfig::default()
    };
    let errors = validate(&bad);
    let names = fields(&errors);
    for field in [
        "parents",
        "elitism",
        "selection.size",
        "mutation.std",
        "mutation.rate",
        "constraint.value",
        "objectives[0].name",
        "mode",
    ] {
        assert!(names.contains(&field), "{field} missing from {errors:?}");
    }
    let empty = EvolutionConfig {
        objectives: vec![],
        ..EvolutionConfig::default()
    };
    assert_eq!(fields(&validate(&empty)), vec!["objectives"]);
    let heavy = EvolutionConfig {
        n: 1000,
        objectives: vec![objective(Objective::Correlation, 1.0)],
        correlation_sampling: CorrelationSampling {
            steps: 100_000,
            burn_in: 0,
            runs: 1,
        },
        ..EvolutionConfig::default()
    };
    assert_eq!(fields(&validate(&heavy)), vec!["correlation_sampling"]);
}

#[test]
fn init_validation_checks_shapes_and_bias() {
    let config = frobenius_config();
    let wrong = Init::Weights {
        weights: vec![0.0; 35],
        bias: Some(vec![0.0; 6]),
    };
    assert_eq!(
        fields(&validate_init(&config, &wrong)),
        vec!["init.bias", "init.weights"]
    );
    let empty = Init::Population(vec![]);
    assert_eq!(
        fields(&validate_init(&config, &empty)),
        vec!["init.population"]
    );
    assert!(validate_init(&config, &gaussian()).is_empty());
}

/// `base` run for two generations, and the population it ends with.
fn after_two_generations(base: EvolutionConfig) -> (EvolutionConfig, Vec<Individual>) {
    let config = EvolutionConfig {
        generations: 2,
        ..base
    };
    let (state, _) = run(&config, &gaussian());
    (config, state.population)
}

#[test]
fn from_n_8_the_best_parents_become_hubs_that_serve_their_lifetime() {
    let (config, mut parents) = after_two_generations(pareto_config());
    let hubs = hubs::prepare(&config, &mut parents, &[], 7);
    assert_eq!(hubs.len(), hubs::HUBS);
    for (hub, parent) in hubs.iter().zip(&parents) {
        assert_eq!((&hub.genome, hub.chosen), (&parent.genome, 7));
        assert!(hub.factorised.0.is_some());
    }
    assert!(parents.iter().all(|p| p.factorised.0.is_none()));
    let assigned = hubs::for_parents(&parents, &hubs);
    for (p, pre) in parents.iter().zip(&assigned) {
        let d = |h: &Hub| hubs::squared_distance(&p.genome, &h.genome);
        let nearest = if d(&hubs[1]) < d(&hubs[0]) { 1 } else { 0 };
        let expected = hubs[nearest].factorised.0.as_deref().unwrap();
        assert!(std::ptr::eq(pre.unwrap(), expected));
    }
    // Kept while they serve (even after leaving the population), replaced once they expire;
    // a hub read from a checkpoint has no factorisation and gets it back.
    let mut stored: Vec<Hub> = serde_json::from_str(&json(&hubs)).unwrap();
    stored[0].genome.weights[0] += 1.0;
    let kept = hubs::prepare(&config, &mut parents, &stored, 7 + hubs::HUB_LIFETIME - 1);
    assert_eq!(kept, stored);
    assert!(
        kept.iter()
            .all(|h| h.factorised.0.is_some() && h.chosen == 7)
    );
    let renewed = hubs::prepare(&config, &mut parents, &stored, 7 + hubs::HUB_LIFETIME);
    assert_eq!(renewed[0].genome, parents[0].genome);
    assert_eq!(renewed[0].chosen, 7 + hubs::HUB_LIFETIME);
}

#[test]
fn below_n_8_every_parent_preconditions_its_own_offspring() {
    let (config, mut parents) = after_two_generations(frobenius_config());
    for p in &mut parents {
        p.factorised = Factorised(None);
    }
    assert!(hubs::prepare(&config, &mut parents, &[], 3).is_empty());
    let assigned = hubs::for_parents(&parents, &[]);
    for (p, pre) in parents.iter().zip(&assigned) {
        assert!(std::ptr::eq(
            pre.unwrap(),
            p.factorised.0.as_deref().unwrap()
        ));
    }
}
