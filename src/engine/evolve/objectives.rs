//! Measuring an individual (SCIENCE.md A2, A3, A7): exact I and C from π, sampled C for large
//! N, and the mean attractor period of the deterministic limit; and turning the measured
//! values into a fitness (weighted) or an objective vector (Pareto).

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::config::{EvolutionConfig, Objective, PeriodWeighting};
use super::genome::Genome;
use super::{DOMAIN_EVOLUTION, PURPOSE_ATTRACTORS, PURPOSE_CORRELATION, floats, sampler};
use crate::engine::control::{Control, Stopped};
use crate::engine::flux::attractors::find_attractors;
use crate::engine::flux::exact::{
    ExactOptions, Neighbour, SMALL_MAX_N, analyze_exact, analyze_small_together,
};
use crate::engine::flux::network::Network;
use crate::engine::rng::stream;

/// Largest N whose stationary distribution is kept with each parent to warm-start its
/// children (2^12 doubles = 32 KiB per parent; beyond, a warm start saves under 10 % of a
/// solve and would swell checkpoints to megabytes per parent).
pub const WARM_START_MAX_N: usize = SMALL_MAX_N;

/// The measured objectives of one individual (`None` for those the run does not use).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveValues {
    /// Information flux I in bits (exact).
    #[serde(with = "floats::option")]
    pub mi_bits: Option<f64>,
    /// C, exact or sampled.
    #[serde(with = "floats::option")]
    pub correlation_rms: Option<f64>,
    /// ⟨L⟩_attr or ⟨L⟩_state, as configured.
    #[serde(with = "floats::option")]
    pub mean_period: Option<f64>,
    /// ‖π·T − π‖₁ of the exact solve behind the exact values, so that a solve that missed the
    /// tolerance is visible.
    #[serde(default, with = "floats::option")]
    pub residual_l1: Option<f64>,
    /// Whether that solve reached `mi_tolerance`.
    #[serde(default)]
    pub converged: Option<bool>,
}

impl ObjectiveValues {
    /// The value of one objective.
    pub fn get(&self, objective: Objective) -> Option<f64> {
        match objective {
            Objective::Mi => self.mi_bits,
            Objective::Correlation => self.correlation_rms,
            Objective::MeanPeriod => self.mean_period,
        }
    }
}

/// Weighted sum Σ weight·value over the configured objectives (the fitness in weighted mode,
/// and the tie-breaker that picks the reported best genome of a Pareto front).
pub fn fitness(config: &EvolutionConfig, values: &ObjectiveValues) -> f64 {
    config
        .objectives
        .iter()
        .map(|o| o.weight * values.get(o.objective).unwrap_or(0.0))
        .sum()
}

/// The objective vector for Pareto ranking, oriented so that larger is better (a negative
/// weight means minimise).
pub fn oriented(config: &EvolutionConfig, values: &ObjectiveValues) -> Vec<f64> {
    config
        .objectives
        .iter()
        .map(|o| o.weight.signum() * values.get(o.objective).unwrap_or(0.0))
        .collect()
}

/// An individual's measurement plus its π when it is kept for warm starts.
#[derive(Debug, Clone, Default)]
pub struct Evaluation {
    pub values: ObjectiveValues,
    pub stationary: Option<Vec<f64>>,
}

/// Measures genomes for one generation. Sampled objectives draw their random numbers from
/// streams of (seed, generation), shared by all individuals of the generation.
pub struct Evaluator<'a> {
    pub config: &'a EvolutionConfig,
    pub generation: u64,
    pub control: &'a dyn Control,
}

impl Evaluator<'_> {
    /// All configured objectives of each genome; `near` holds its parent's π (N ≤ 12) and a
    /// nearby factorisation (N ≤ 8), when known. Small exact solves that share a
    /// factorisation run in lock step ([`analyze_small_together`]), with the results each
    /// would get alone.
    pub fn evaluate(&self, jobs: &[(&Genome, Neighbour)]) -> Result<Vec<Evaluation>, Stopped> {
        if self.control.should_stop() {
            return Err(Stopped);
        }
        let config = self.config;
        let nets: Vec<Network> = jobs.iter().map(|(g, _)| g.network(config)).collect();
        let mut measured: Vec<Evaluation> = vec![Evaluation::default(); jobs.len()];
        if self.needs_exact() {
            let nears = jobs.iter().map(|&(_, near)| near);
            self.exact(&nets, nears, &mut measured)?;
        }
        for (net, m) in nets.iter().zip(&mut measured) {
            if config.correlation_is_sampled() {
                m.values.correlation_rms = Some(self.sampled_correlation(net));
            }
            if config.has(Objective::MeanPeriod) {
                m.values.mean_period = Some(self.mean_period(net)?);
            }
        }
        Ok(measured)
    }

    fn needs_exact(&self) -> bool {
        let c = self.config;
        c.has(Objective::Mi) || (c.has(Objective::Correlation) && !c.correlation_is_sampled())
    }

    /// I and (if asked) C from π into `measured`, with π kept when it is worth keeping for
    /// warm starts.
    fn exact<'n>(
        &self,
        nets: &[Network],
        nears: impl Iterator<Item = Neighbour<'n>>,
        measured: &mut [Evaluation],
    ) -> Result<(), Stopped> {
        let config = self.config;
        let want_c = config.has(Objective::Correlation);
        let want_mi = config.has(Objective::Mi);
        let options = ExactOptions {
            tolerance: config.mi_tolerance,
            correlation: config.correlation.into(),
            ..ExactOptions::default()
        };
        if config.n <= SMALL_MAX_N {
            let states = 1 << config.n;
            let items: Vec<(&Network, Neighbour)> = nets
                .iter()
                .zip(nears)
                .map(|(net, near)| {
                    let near = Neighbour {
                        pi: near.pi.filter(|w| w.len() == states),
                        preconditioner: near.preconditioner.filter(|p| p.states() == states),
                    };
                    (net, near)
                })
                .collect();
            let results = analyze_small_together(&items, &options, want_c);
            for (r, m) in results.into_iter().zip(measured) {
                m.values.mi_bits = want_mi.then_some(r.mi_bits);
                m.values.correlation_rms = r.correlation.map(|c| c.rms);
                m.values.residual_l1 = Some(r.convergence.residual_l1);
                m.values.converged = Some(r.convergence.converged);
                m.stationary = (config.n <= WARM_START_MAX_N).then_some(r.pi);
            }
            return Ok(());
        }
        for (net, m) in nets.iter().zip(measured) {
            let r = analyze_exact(net, &options, self.control)?;
            m.values.mi_bits = want_mi.then_some(r.mi_bits);
            m.values.correlation_rms = want_c.then_some(r.correlation.rms);
            m.values.residual_l1 = Some(r.convergence.residual_l1);
            m.values.converged = Some(r.convergence.converged);
        }
        Ok(())
    }

    /// C by simulation with the generation's common random numbers.
    fn sampled_correlation(&self, net: &Network) -> f64 {
        let (seed, generation) = (self.config.seed, self.generation);
        sampler::sampled_correlation(
            net,
            &self.config.correlation_sampling,
            self.config.correlation.into(),
            |run| {
                stream(
                    seed,
                    &[DOMAIN_EVOLUTION, generation, run, PURPOSE_CORRELATION],
                )
            },
        )
    }

    /// The configured mean period; beyond N = 24 from random starts shared by the generation.
    fn mean_period(&self, net: &Network) -> Result<f64, Stopped> {
        let config = self.config;
        let path = [DOMAIN_EVOLUTION, self.generation, 0, PURPOSE_ATTRACTORS];
        let starts_seed = stream(config.seed, &path).next_u64();
        let stats = find_attractors(
            net,
            &config.attractor_options(),
            starts_seed,
            0,
            self.control,
        )?;
        Ok(match config.period_weighting {
            PeriodWeighting::Attractor => stats.mean_period,
            PeriodWeighting::State => stats.mean_period_state_weighted,
        })
    }
}
