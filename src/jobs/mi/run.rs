//! Runs an `mi` job: one network after another, each through the exact or sampled engine and
//! the attractor search; checkpoints the finished networks so a sweep resumes where it stopped.

use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::build::{PlannedNetwork, build_network, network_count};
use super::result::*;
use super::spec::MiSpec;
use super::validate::uses_exact;
use crate::engine::control::{Control, Stopped};
use crate::engine::flux::attractors::{AttractorOptions, AttractorStats, find_attractors};
use crate::engine::flux::correlation::CorrelationOptions;
use crate::engine::flux::exact::{ExactOptions, analyze_exact};
use crate::engine::flux::sampled::{SamplingOptions, analyze_sampled};
use crate::engine::flux::stats::spearman;
use crate::jobs::{
    JobContext, JobError, JobOutcome, Limits, PartControl, read_stored, to_document,
};

/// Most attractors listed per network (largest basins first).
pub const MAX_LISTED_ATTRACTORS: usize = 1_000;
/// Minimum time between two checkpoints of a sweep.
const CHECKPOINT_INTERVAL_MS: u128 = 2_000;

/// The resumable state: results of the networks finished so far, in order.
#[derive(Debug, Serialize, Deserialize)]
struct Checkpoint {
    networks: Vec<NetworkResult>,
    elapsed_ms: u64,
}

pub fn run(
    spec: &Value,
    limits: &Limits,
    checkpoint: Option<Value>,
    ctx: &dyn JobContext,
) -> Result<JobOutcome, JobError> {
    let spec: MiSpec = read_stored(spec.clone(), "stored spec")?;
    let seed = spec.seed.unwrap_or(0);
    let total = network_count(&spec);
    let mut state = match checkpoint {
        Some(v) => read_stored(v, "checkpoint")?,
        None => Checkpoint {
            networks: Vec::new(),
            elapsed_ms: 0,
        },
    };
    let started = Instant::now();
    let mut last_checkpoint = Instant::now();
    let base_elapsed = state.elapsed_ms;
    for index in state.networks.len()..total {
        let control = PartControl {
            ctx,
            part: "network",
            index: index as u64,
            total: total as u64,
        };
        control.progress(0.0, "starting");
        let planned = build_network(&spec, seed, index);
        let result = match analyze_network(&spec, limits, seed, &planned, &control) {
            Ok(r) => r,
            Err(Stopped) => {
                state.elapsed_ms = base_elapsed + started.elapsed().as_millis() as u64;
                ctx.checkpoint(state.networks.len() as u64, to_document(&state)?);
                return Ok(JobOutcome::Stopped);
            }
        };
        ctx.metrics(index as u64, metrics_row(&result));
        state.networks.push(result);
        let finished_all = state.networks.len() == total;
        if !finished_all && last_checkpoint.elapsed().as_millis() >= CHECKPOINT_INTERVAL_MS {
            state.elapsed_ms = base_elapsed + started.elapsed().as_millis() as u64;
            ctx.checkpoint(state.networks.len() as u64, to_document(&state)?);
            last_checkpoint = Instant::now();
        }
        ctx.report(
            state.networks.len() as u64,
            total as u64,
            state.networks.len() as f64 / total as f64,
            "network finished",
        );
        if !finished_all && ctx.should_stop() {
            state.elapsed_ms = base_elapsed + started.elapsed().as_millis() as u64;
            ctx.checkpoint(state.networks.len() as u64, to_document(&state)?);
            return Ok(JobOutcome::Stopped);
        }
    }
    let param = spec.network.sweep.as_ref().map(|s| s.param.as_str());
    let summary = summarize(&state.networks, param);
    let result = MiResult {
        networks: state.networks,
        summary,
        elapsed_ms: base_elapsed + started.elapsed().as_millis() as u64,
    };
    Ok(JobOutcome::Finished(to_document(&result)?))
}

fn metrics_row(r: &NetworkResult) -> Value {
    let mut row = json!({
        "n": r.n,
        "replicate": r.replicate,
        "mi_bits": r.mi_bits,
        "correlation_rms": r.correlation_rms,
        "mean_period": r.attractors.as_ref().and_then(|a| a.mean_period),
    });
    for (k, v) in &r.params {
        row[k] = v.clone();
    }
    row
}

fn summarize(networks: &[NetworkResult], swept: Option<&str>) -> Summary {
    let with_mi: Vec<(f64, f64)> = networks
        .iter()
        .filter_map(|r| r.mi_bits.map(|i| (i, r.correlation_rms)))
        .collect();
    let (mi, c): (Vec<f64>, Vec<f64>) = with_mi.iter().copied().unzip();
    Summary {
        count: networks.len(),
        spearman_mi_vs_correlation: spearman(&mi, &c),
        mi_bits_mean: (!mi.is_empty()).then(|| mi.iter().sum::<f64>() / mi.len() as f64),
        correlation_rms_mean: networks.iter().map(|r| r.correlation_rms).sum::<f64>()
            / networks.len().max(1) as f64,
        sweep: swept.map(|param| super::sweep::sweep_points(networks, param)),
    }
}

fn analyze_network(
    spec: &MiSpec,
    limits: &Limits,
    seed: u64,
    planned: &PlannedNetwork,
    control: &dyn Control,
) -> Result<NetworkResult, Stopped> {
    let net = &planned.network;
    let n = net.n();
    let correlation = CorrelationOptions {
        lag: spec.correlation.lag as u8,
        include_diagonal: spec.correlation.include_diagonal,
    };
    let small = n <= MAX_N_WITH_MATRICES;
    let mut result = NetworkResult {
        n,
        params: planned.params.clone(),
        replicate: planned.replicate,
        method: String::new(),
        weights: small.then(|| net.weights.rows().into_iter().map(|r| r.to_vec()).collect()),
        mi_bits: None,
        state_entropy_bits: None,
        conditional_entropy_bits: None,
        correlation_rms: 0.0,
        correlation_matrix: None,
        mean_activity: Vec::new(),
        matrices_omitted: !small,
        convergence: None,
        mi_gaussian_exact_bits: None,
        sampled: None,
        attractors: None,
        warnings: Vec::new(),
    };
    let corr = if uses_exact(spec, n, limits) {
        let options = ExactOptions {
            correlation,
            ..ExactOptions::default()
        };
        let exact = analyze_exact(net, &options, control)?;
        result.method = "exact".into();
        result.mi_gaussian_exact_bits = exact.gaussian_mi_bits;
        let conv = &exact.convergence;
        if conv.converged {
            result.mi_bits = Some(exact.mi_bits);
            result.state_entropy_bits = Some(exact.state_entropy_bits);
            result.conditional_entropy_bits = Some(exact.conditional_entropy_bits);
        } else {
            result.warnings.push(format!(
                "the stationary solver did not converge ({} iterations, residual ‖πT − π‖₁ = {:.3e}); \
                 I, entropies are withheld and C is approximate (I would be {:.6} bits)",
                conv.iterations, conv.residual_l1, exact.mi_bits
            ));
        }
        result.convergence = Some(ConvergenceReport {
            solver: conv.solver.clone(),
            iterations: conv.iterations,
            residual_l1: conv.residual_l1,
            converged: conv.converged,
        });
        exact.correlation
    } else {
        let s = spec.sampling;
        let options = SamplingOptions {
            steps: s.steps as usize,
            burn_in: s.burn_in as usize,
            runs: s.runs as usize,
            correlation,
        };
        let sampled = analyze_sampled(net, &options, seed, planned.index as u64, control)?;
        result.method = "sampled".into();
        let model = &sampled.model;
        result.mi_bits = model.mi_bits;
        result.state_entropy_bits = model.state_entropy_bits;
        result.conditional_entropy_bits = model
            .conditional_entropy_bits
            .is_finite()
            .then_some(model.conditional_entropy_bits);
        result.warnings.extend(sampled.warnings.iter().cloned());
        result.sampled = Some(SampledReport {
            estimator: "model_mixture".into(),
            stderr_bits: model.stderr_bits,
            bias_correction_bits: model.bias_correction_bits,
            recorded_transitions: model.records,
            record_stride: model.stride,
            distinct_states: model.distinct_states,
            batches: model.batches,
            mi_plugin_bits: sampled.mi_plugin_bits,
            mi_miller_madow_bits: sampled.mi_miller_madow_bits,
            miller_madow_stderr_bits: sampled.miller_madow_stderr_bits,
            mi_gaussian_bits: sampled.mi_gaussian_bits,
            correlation_stderr: sampled.correlation_stderr,
            samples: sampled.samples,
            distinct_transitions: sampled.distinct_transitions,
            runs: options.runs,
            steps: options.steps,
            burn_in: options.burn_in,
            warnings: sampled.warnings,
        });
        sampled.correlation
    };
    result.correlation_rms = corr.rms;
    result.mean_activity = corr.mean_activity;
    if small {
        result.correlation_matrix = Some(corr.matrix);
    }
    let settings = spec.attractors.settings();
    if settings.enabled {
        let options = AttractorOptions {
            exhaustive_max_n: limits.attractors_exhaustive_max_n,
            starts: settings.starts as usize,
            max_steps: settings.max_steps as usize,
        };
        let stats = find_attractors(net, &options, seed, planned.index as u64, control)?;
        result.attractors = Some(attractor_report(stats));
    }
    Ok(result)
}

/// Full analysis of one network with default settings (exact where N allows, else sampled;
/// attractors on): used for the best genome of an evolution.
pub fn analyze_one(
    network: crate::engine::flux::network::Network,
    limits: &Limits,
    seed: u64,
    control: &dyn Control,
) -> Result<NetworkResult, Stopped> {
    let spec: MiSpec = serde_json::from_value(json!({"network": {"weights": [[0.0]]}}))
        .expect("a minimal spec parses");
    let planned = PlannedNetwork {
        index: 0,
        params: serde_json::Map::new(),
        replicate: 0,
        network,
    };
    analyze_network(&spec, limits, seed, &planned, control)
}

fn attractor_report(stats: AttractorStats) -> AttractorReport {
    let truncated = stats.list.len() > MAX_LISTED_ATTRACTORS || stats.list.len() < stats.count;
    let found = stats.count > 0;
    AttractorReport {
        method: stats.method.to_string(),
        count: stats.count,
        mean_period: found.then_some(stats.mean_period),
        mean_period_state_weighted: found.then_some(stats.mean_period_state_weighted),
        max_period: found.then_some(stats.max_period),
        cycle_state_fraction: stats.cycle_state_fraction,
        starts: stats.starts,
        unresolved_starts: stats.unresolved_starts,
        list: stats
            .list
            .iter()
            .take(MAX_LISTED_ATTRACTORS)
            .map(|a| AttractorEntry {
                period: a.period,
                basin: a.basin,
            })
            .collect(),
        list_truncated: truncated,
    }
}
