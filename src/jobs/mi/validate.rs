//! Semantic checks of an `mi` spec: every problem names its field and the bound it broke.

use super::spec::{Method, MiSpec, NetworkSpec, PermutationSpec, SignsSpec};
use crate::jobs::{FieldError, Limits};

use crate::engine::flux::attractors::AttractorOptions;
use crate::engine::flux::exact::EXACT_SHARED_NOISE_MAX_N;
use crate::engine::flux::sampled::SamplingOptions;

/// Most sweep values.
pub const MAX_SWEEP_VALUES: usize = 1_000;
/// Largest noise standard deviation.
pub const MAX_NOISE_STD: f64 = 100.0;
/// Most random starts and longest walk of the sampled attractor search.
pub const MAX_ATTRACTOR_STARTS: i64 = 100_000;
pub const MAX_ATTRACTOR_WALK: i64 = 10_000_000;

/// Sweepable parameters per construction.
pub const GAUSSIAN_SWEEP_PARAMS: [&str; 5] = ["std", "mean", "density", "balance", "noise_std"];
pub const NROOKS_SWEEP_PARAMS: [&str; 2] = ["q", "noise_std"];

/// Collects errors while walking the spec.
struct Check<'a> {
    errors: Vec<FieldError>,
    limits: &'a Limits,
}

impl Check<'_> {
    fn fail(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    fn finite_within(&mut self, field: &str, value: f64, min: f64, max: f64) {
        if !value.is_finite() {
            self.fail(field, "must be a finite number");
        } else if value < min || value > max {
            self.fail(
                field,
                format!("must be between {min} and {max}, got {value}"),
            );
        }
    }

    fn count(&mut self, field: &str, value: i64, min: i64, max: usize) -> usize {
        if value < min || value > max as i64 {
            self.fail(
                field,
                format!("must be between {min} and {max}, got {value}"),
            );
            return 0;
        }
        value as usize
    }
}

/// Checks the spec and returns N (0 when it could not be determined).
pub fn check(spec: &MiSpec, limits: &Limits) -> Result<usize, Vec<FieldError>> {
    let mut c = Check {
        errors: Vec::new(),
        limits,
    };
    let n = check_network(&mut c, &spec.network);
    if n > 0 {
        check_method(&mut c, spec, n);
    }
    let lag = spec.correlation.lag;
    if lag != 0 && lag != 1 {
        c.fail("spec.correlation.lag", format!("must be 0 or 1, got {lag}"));
    }
    let attractors = spec.attractors.settings();
    let starts = c.count(
        "spec.attractors.starts",
        attractors.starts,
        1,
        MAX_ATTRACTOR_STARTS as usize,
    );
    let walk = c.count(
        "spec.attractors.max_steps",
        attractors.max_steps,
        1,
        MAX_ATTRACTOR_WALK as usize,
    );
    if attractors.enabled && n > 0 && starts > 0 && walk > 0 {
        let options = AttractorOptions {
            exhaustive_max_n: limits.attractors_exhaustive_max_n,
            starts,
            max_steps: walk,
        };
        if let Err(message) = options.validate(n) {
            c.fail("spec.attractors", message);
        }
    }
    if c.errors.is_empty() {
        Ok(n)
    } else {
        Err(c.errors)
    }
}

fn check_network(c: &mut Check, net: &NetworkSpec) -> usize {
    let sources = [
        net.weights.is_some(),
        net.ensemble.is_some(),
        net.nrooks.is_some(),
    ];
    if sources.iter().filter(|s| **s).count() != 1 {
        c.fail(
            "spec.network",
            "give exactly one of `weights`, `ensemble` or `nrooks`",
        );
        return 0;
    }
    let max_n = c.limits.sampled_max_n;
    let n = if let Some(w) = &net.weights {
        check_weights(c, w)
    } else if let Some(e) = &net.ensemble {
        let n = c.count("spec.network.ensemble.n", e.n, 1, max_n);
        c.finite_within(
            "spec.network.ensemble.std",
            e.std,
            0.0,
            c.limits.max_abs_weight,
        );
        c.finite_within(
            "spec.network.ensemble.mean",
            e.mean,
            -c.limits.max_abs_weight,
            c.limits.max_abs_weight,
        );
        check_density(c, "spec.network.ensemble.density", e.density);
        if let Some(b) = e.balance {
            c.finite_within("spec.network.ensemble.balance", b, -1.0, 1.0);
        }
        c.count(
            "spec.network.ensemble.replicates",
            e.replicates,
            1,
            c.limits.max_networks,
        );
        n
    } else if let Some(r) = &net.nrooks {
        let n = c.count("spec.network.nrooks.n", r.n, 1, max_n);
        let bound = c.limits.max_abs_weight;
        c.finite_within("spec.network.nrooks.q", r.q, -bound, bound);
        c.count(
            "spec.network.nrooks.replicates",
            r.replicates,
            1,
            c.limits.max_networks,
        );
        if n > 0 {
            check_permutation(c, &r.permutation, n);
            check_signs(c, &r.signs, n);
        }
        n
    } else {
        0
    };
    if let Some(sweep) = &net.sweep {
        check_sweep(c, net, sweep);
    }
    if let Some(bias) = &net.bias {
        if n > 0 && bias.len() != n {
            c.fail(
                "spec.network.bias",
                format!("must have one entry per neuron ({n}), got {}", bias.len()),
            );
        }
        let bound = c.limits.max_abs_weight;
        for (i, b) in bias.iter().enumerate() {
            c.finite_within(&format!("spec.network.bias[{i}]"), *b, -bound, bound);
        }
    }
    c.finite_within("spec.network.noise.std", net.noise.std, 0.0, MAX_NOISE_STD);
    n
}

fn check_density(c: &mut Check, field: &str, d: f64) {
    if !d.is_finite() || d <= 0.0 || d > 1.0 {
        c.fail(field, format!("must be in (0, 1], got {d}"));
    }
}

fn check_weights(c: &mut Check, w: &[Vec<f64>]) -> usize {
    let n = w.len();
    let max_n = c.limits.sampled_max_n;
    if n == 0 {
        c.fail("spec.network.weights", "must be a non-empty square matrix");
        return 0;
    }
    if n > max_n {
        c.fail(
            "spec.network.weights",
            format!("N = {n} exceeds the largest network, N ≤ {max_n}"),
        );
        return 0;
    }
    let bound = c.limits.max_abs_weight;
    let before = c.errors.len();
    for (i, row) in w.iter().enumerate() {
        if row.len() != n {
            c.fail(
                format!("spec.network.weights[{i}]"),
                format!(
                    "matrix must be square: row {i} has {} entries, expected {n}",
                    row.len()
                ),
            );
            continue;
        }
        for (j, v) in row.iter().enumerate() {
            if !v.is_finite() || v.abs() > bound {
                c.fail(
                    format!("spec.network.weights[{i}][{j}]"),
                    format!("must be a finite number with |w| ≤ {bound}, got {v}"),
                );
            }
        }
        if c.errors.len() - before > 20 {
            break;
        }
    }
    n
}

fn check_permutation(c: &mut Check, p: &PermutationSpec, n: usize) {
    let field = "spec.network.nrooks.permutation";
    match p {
        PermutationSpec::Named(name) if name == "random" || name == "ring" => {}
        PermutationSpec::Named(name) => c.fail(
            field,
            format!("must be \"random\", \"ring\" or a list, got \"{name}\""),
        ),
        PermutationSpec::Given(list) => {
            let targets: Vec<usize> = list.iter().map(|&t| t.max(0) as usize).collect();
            if list.len() != n
                || list.iter().any(|&t| t < 0)
                || !crate::engine::flux::ensemble::is_permutation(&targets)
            {
                c.fail(
                    field,
                    format!("must list each of the neurons 0..{} exactly once", n - 1),
                );
            }
        }
    }
}

fn check_signs(c: &mut Check, s: &SignsSpec, n: usize) {
    let field = "spec.network.nrooks.signs";
    match s {
        SignsSpec::Named(name) if name == "random" || name == "positive" => {}
        SignsSpec::Named(name) => c.fail(
            field,
            format!("must be \"random\", \"positive\" or a list, got \"{name}\""),
        ),
        SignsSpec::Given(list) => {
            if list.len() != n || list.iter().any(|&v| v != 1.0 && v != -1.0) {
                c.fail(field, format!("must list {n} signs, each 1 or -1"));
            }
        }
    }
}

fn check_sweep(c: &mut Check, net: &NetworkSpec, sweep: &super::spec::SweepSpec) {
    let allowed: &[&str] = if net.ensemble.is_some() {
        &GAUSSIAN_SWEEP_PARAMS
    } else if net.nrooks.is_some() {
        &NROOKS_SWEEP_PARAMS
    } else {
        c.fail(
            "spec.network.sweep",
            "a sweep needs an `ensemble` or `nrooks` network to repeat",
        );
        return;
    };
    if !allowed.contains(&sweep.param.as_str()) {
        c.fail(
            "spec.network.sweep.param",
            format!(
                "must be one of {}, got \"{}\"",
                allowed.join(", "),
                sweep.param
            ),
        );
        return;
    }
    if sweep.values.is_empty() || sweep.values.len() > MAX_SWEEP_VALUES {
        c.fail(
            "spec.network.sweep.values",
            format!(
                "must hold 1 to {MAX_SWEEP_VALUES} values, got {}",
                sweep.values.len()
            ),
        );
        return;
    }
    let bound = c.limits.max_abs_weight;
    for (i, &v) in sweep.values.iter().enumerate() {
        let field = format!("spec.network.sweep.values[{i}]");
        match sweep.param.as_str() {
            "std" => c.finite_within(&field, v, 0.0, bound),
            "density" => check_density(c, &field, v),
            "balance" => c.finite_within(&field, v, -1.0, 1.0),
            "noise_std" => c.finite_within(&field, v, 0.0, MAX_NOISE_STD),
            _ => c.finite_within(&field, v, -bound, bound),
        }
    }
    let replicates = net
        .ensemble
        .as_ref()
        .map(|e| e.replicates)
        .or(net.nrooks.as_ref().map(|r| r.replicates))
        .unwrap_or(1)
        .max(1) as usize;
    let total = replicates * sweep.values.len();
    if total > c.limits.max_networks {
        c.fail(
            "spec.network.sweep.values",
            format!(
                "{total} networks (values × replicates) exceed the limit of {}",
                c.limits.max_networks
            ),
        );
    }
}

/// Whether the exact method will be used for an N-neuron network with this spec.
pub fn uses_exact(spec: &MiSpec, n: usize, limits: &Limits) -> bool {
    let shared = spec.network.noise.shared && spec.network.noise.std > 0.0
        || spec
            .network
            .sweep
            .as_ref()
            .is_some_and(|s| s.param == "noise_std" && spec.network.noise.shared);
    let exact_max = if shared {
        EXACT_SHARED_NOISE_MAX_N.min(limits.exact_max_n)
    } else {
        limits.exact_max_n
    };
    match spec.method {
        Method::Exact => true,
        Method::Sampled => false,
        Method::Auto => n <= exact_max,
    }
}

fn check_method(c: &mut Check, spec: &MiSpec, n: usize) {
    let limits = c.limits;
    let shared = spec.network.noise.shared;
    if spec.method == Method::Exact {
        let max = if shared {
            EXACT_SHARED_NOISE_MAX_N.min(limits.exact_max_n)
        } else {
            limits.exact_max_n
        };
        if n > max {
            let why = if shared { " with shared noise" } else { "" };
            c.fail(
                "spec.method",
                format!("method `exact` supports N ≤ {max}{why}, the network has N = {n}; use `sampled` or `auto`"),
            );
        }
    }
    if uses_exact(spec, n, limits) {
        return;
    }
    let before = c.errors.len();
    let s = spec.sampling;
    let steps = c.count("spec.sampling.steps", s.steps, 1, limits.max_steps);
    let burn = c.count("spec.sampling.burn_in", s.burn_in, 0, limits.max_steps);
    let runs = c.count("spec.sampling.runs", s.runs, 1, limits.max_runs);
    let total = (steps as u64).saturating_mul(runs as u64);
    let max_total = crate::engine::flux::sampled::MAX_TOTAL_STEPS;
    if total > max_total {
        c.fail(
            "spec.sampling.steps",
            format!("steps × runs = {total} exceeds the bound of {max_total}"),
        );
    }
    let work = (n * n) as f64 * (steps + burn) as f64 * runs as f64;
    if work > limits.max_sampling_work {
        c.fail(
            "spec.sampling.steps",
            format!(
                "N² × (steps + burn_in) × runs = {work:.3e} exceeds the bound of {:.1e} per network",
                limits.max_sampling_work
            ),
        );
    }
    if c.errors.len() == before && steps > 0 && runs > 0 {
        let options = SamplingOptions {
            steps,
            burn_in: burn,
            runs,
            correlation: Default::default(),
        };
        if let Err(message) = options.validate(n) {
            c.fail("spec.sampling", message);
        }
    }
}
