//! Estimating the information flux and the correlation proxy by simulation (SCIENCE.md A4),
//! for networks far beyond the exact solver's reach (N up to [`SAMPLED_MAX_N`]).
//!
//! R independent runs start from uniformly random states, discard a burn-in and record T
//! transitions. Each run has its own RNG stream (`[DOMAIN_SAMPLING, network, run]`) and runs
//! are combined in run order with exact integer counts, so neither the thread count nor the
//! scheduling changes any result bit. From the pooled transitions come the plug-in and
//! Miller–Madow estimates of I, the Gaussian estimate I_G and C; standard errors come from
//! the spread of the per-run estimates.

mod chain;
mod entropy;
mod gaussian;
pub use gaussian::gaussian_mi_exact;
mod kernel;
mod model_based;
mod moments;
#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use crate::engine::control::{Control, Stopped};
use crate::engine::flux::correlation::{CorrelationOptions, CorrelationStats, from_moments};
use crate::engine::flux::network::{Network, Noise};
use crate::engine::flux::stats::mean_and_stderr;
use crate::engine::rng::{DOMAIN_SAMPLING, stream};

use chain::{Chain, Prepared};
use entropy::{MiEstimate, fingerprint};
pub use model_based::ModelEstimate;
use model_based::Records;
use moments::{Accumulator, Block, Moments};

/// Largest network the sampler accepts. Memory grows as N² (about 32·N² bytes per run in
/// flight plus 72·N² for the pooled estimates: ≈ 0.5 GB at N = 2000 on two threads) and
/// time as N² per step.
pub const SAMPLED_MAX_N: usize = 2000;

/// Upper bound on steps × runs. Counting transitions keeps 16 bytes per recorded step
/// (fingerprints plus one sort buffer): at most 160 MB.
pub const MAX_TOTAL_STEPS: u64 = 10_000_000;

/// Upper bound on (burn_in + steps) × runs × N², which sets the running time: a step reads
/// about N²/2 weights to update z and costs 3·N² flops of moment GEMMs. Measured at N = 1000
/// (bench/results/sampled.md, on a loaded machine): 3–3.5·10⁹ units per second per core, so
/// the bound is about 1.5 core-hours.
pub const MAX_SAMPLING_WORK: f64 = 2e13;

/// Most runs one job may ask for.
pub const MAX_RUNS: usize = 10_000;

/// How to simulate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SamplingOptions {
    /// Recorded transitions per run (T).
    pub steps: usize,
    /// Discarded steps at the start of each run, so the chain forgets its random start.
    pub burn_in: usize,
    /// Independent runs (R); their spread gives the standard errors.
    pub runs: usize,
    /// Which pairs enter C.
    pub correlation: CorrelationOptions,
}

impl Default for SamplingOptions {
    fn default() -> Self {
        SamplingOptions {
            steps: 100_000,
            burn_in: 1_000,
            runs: 4,
            correlation: CorrelationOptions::default(),
        }
    }
}

impl SamplingOptions {
    /// Checks the options against the documented bounds for a network of `n` neurons; the
    /// server calls this before queueing a job.
    pub fn validate(&self, n: usize) -> Result<(), String> {
        if n == 0 || n > SAMPLED_MAX_N {
            return Err(format!(
                "sampling needs 1 ≤ N ≤ {SAMPLED_MAX_N}, got N = {n}"
            ));
        }
        if self.steps == 0 || self.runs == 0 || self.runs > MAX_RUNS {
            return Err(format!(
                "sampling needs steps ≥ 1 and 1 ≤ runs ≤ {MAX_RUNS} (got steps = {}, runs = {})",
                self.steps, self.runs
            ));
        }
        let total = self.steps as u64 * self.runs as u64;
        if total > MAX_TOTAL_STEPS {
            return Err(format!(
                "steps × runs = {total} exceeds the limit of {MAX_TOTAL_STEPS}"
            ));
        }
        let work = (self.steps + self.burn_in) as f64 * self.runs as f64 * (n * n) as f64;
        if work > MAX_SAMPLING_WORK {
            return Err(format!(
                "(burn_in + steps) × runs × N² = {work:.3e} exceeds the limit of \
                 {MAX_SAMPLING_WORK:.0e}"
            ));
        }
        if self.correlation.lag > 1 {
            return Err(format!(
                "correlation lag must be 0 or 1, got {}",
                self.correlation.lag
            ));
        }
        Ok(())
    }

    /// Approximate peak memory in bytes when `threads` runs are in flight at once.
    pub fn peak_memory_bytes(&self, n: usize, threads: usize) -> u64 {
        let (n2, t) = ((n * n) as u64, self.steps as u64);
        let in_flight = threads.min(self.runs).max(1) as u64;
        let per_run = 32 * n2 + 16 * t + 8 * (block_len(n) as u64 + 1) * n as u64;
        let pooled = 72 * n2 + 16 * t * self.runs as u64;
        in_flight * per_run + pooled
    }
}

/// Everything estimated from the simulation.
#[derive(Debug, Clone, PartialEq)]
pub struct SampledResult {
    /// The model-based estimate of I (the primary one) with its batch-means standard error.
    pub model: ModelEstimate,
    /// Plug-in estimate H(X) + H(Y) − H(XY) from pooled transition counts (biased upwards).
    pub mi_plugin_bits: f64,
    /// The plug-in estimate with the Miller–Madow correction (m − 1)/(2n ln 2) per entropy.
    pub mi_miller_madow_bits: f64,
    /// The Gaussian approximation I_G (not I), `None` when the joint covariance is singular.
    pub mi_gaussian_bits: Option<f64>,
    /// Standard error across runs of the per-run Miller–Madow estimate (`None` for R = 1).
    /// Per-run estimates have more bias than the pooled one, so this measures only spread,
    /// not the (often much larger) bias.
    pub miller_madow_stderr_bits: Option<f64>,
    /// C and the correlation matrix from the pooled moments.
    pub correlation: CorrelationStats,
    /// Standard error across runs of the per-run C (`None` for R = 1).
    pub correlation_stderr: Option<f64>,
    /// Transitions counted (steps × runs).
    pub samples: u64,
    /// Distinct transitions (x_t, x_{t+1}) among them.
    pub distinct_transitions: u64,
    /// Plain sentences about anything that limits the estimates (undersampling, …).
    pub warnings: Vec<String>,
}

/// Simulates `net` and estimates I three ways plus C (A4). Runs execute in parallel on the
/// current rayon pool; results do not depend on its size. Checks `control` every block of
/// steps and reports progress over all (burn-in + recorded) steps of all runs.
///
/// # Panics
/// If `steps`, `runs` or N is 0 or the correlation lag is not 0 or 1. Resource bounds are
/// checked by [`SamplingOptions::validate`], which callers should use first.
pub fn analyze_sampled(
    net: &Network,
    options: &SamplingOptions,
    seed: u64,
    network_index: u64,
    control: &dyn Control,
) -> Result<SampledResult, Stopped> {
    let n = net.n();
    assert!(n >= 1 && options.steps >= 1 && options.runs >= 1);
    assert!(
        options.correlation.lag <= 1,
        "correlation lag must be 0 or 1"
    );
    let context = RunContext {
        prep: Prepared::new(net),
        options,
        seed,
        network_index,
        control,
        done: AtomicU64::new(0),
        total: ((options.burn_in + options.steps) as u64 * options.runs as u64) as f64,
    };
    let pool = context.all_runs()?;
    control.progress(1.0, "estimating from the pooled samples");
    Ok(combine(net, options, pool))
}

/// What one run contributes.
struct RunOutput {
    moments: Moments,
    trajectory: Vec<u64>,
    correlation_rms: f64,
    mi: MiEstimate,
    /// Recorded (x, y) bitset pairs, for N > 64 only (smaller states are their fingerprints).
    records: Vec<u64>,
}

/// Read-only data shared by the runs, and the progress counter.
struct RunContext<'a> {
    prep: Prepared,
    options: &'a SamplingOptions,
    seed: u64,
    network_index: u64,
    control: &'a dyn Control,
    done: AtomicU64,
    total: f64,
}

/// Time steps per moment block: large enough for efficient GEMMs, small enough that the
/// two block buffers stay near 8 MB and stop checks come often.
fn block_len(n: usize) -> usize {
    ((1 << 20) / n.max(1)).clamp(256, 8192)
}

impl RunContext<'_> {
    /// All runs, in parallel batches of one run per thread (bounding the N² memory in flight),
    /// pooled in run order as each batch completes.
    fn all_runs(&self) -> Result<Pool, Stopped> {
        let batch = rayon::current_num_threads().max(1);
        let mut pool = Pool::new(self.prep.n, self.options.runs);
        for start in (0..self.options.runs).step_by(batch) {
            let end = (start + batch).min(self.options.runs);
            let part: Vec<RunOutput> = (start..end)
                .into_par_iter()
                .map(|run| self.run(run as u64))
                .collect::<Result<_, _>>()?;
            part.into_iter().for_each(|run| pool.absorb(run));
        }
        Ok(pool)
    }

    /// Counts finished steps, reports progress and polls the stop flag.
    fn advance(&self, steps: usize) -> Result<(), Stopped> {
        let done = self.done.fetch_add(steps as u64, Ordering::Relaxed) + steps as u64;
        self.control.progress(done as f64 / self.total, "sampling");
        if self.control.should_stop() {
            Err(Stopped)
        } else {
            Ok(())
        }
    }

    /// One run: burn-in, then recorded blocks whose moments are computed while the next block
    /// is simulated (two rayon tasks), then the run's own C and MI estimates.
    fn run(&self, run: u64) -> Result<RunOutput, Stopped> {
        let rng = stream(self.seed, &[DOMAIN_SAMPLING, self.network_index, run]);
        let mut chain = Chain::new(&self.prep, rng);
        let block = block_len(self.prep.n);
        let mut left = self.options.burn_in;
        while left > 0 {
            let k = left.min(block);
            (0..k).for_each(|_| chain.step());
            left -= k;
            self.advance(k)?;
        }
        let mut recorder = Recorder::new(self.prep.n, self.options);
        let (moments, trajectory) = self.record(&mut chain, block, &mut recorder)?;
        let correlation_rms = correlation_of(&moments, self.options.correlation).rms;
        let mi = entropy::estimate(&[&trajectory], self.prep.n);
        Ok(RunOutput {
            moments,
            trajectory,
            correlation_rms,
            mi,
            records: recorder.data,
        })
    }

    /// Records `steps` transitions: moments by blocks and one fingerprint per state.
    fn record(
        &self,
        chain: &mut Chain,
        block: usize,
        recorder: &mut Recorder,
    ) -> Result<(Moments, Vec<u64>), Stopped> {
        let n = self.prep.n;
        let first = chain.state().to_vec();
        let mut trajectory = Vec::with_capacity(self.options.steps + 1);
        trajectory.push(fingerprint(chain.bits()));
        let mut accumulator = Accumulator::new(n);
        let (mut current, mut spare) = (Block::new(n, block), Block::new(n, block));
        let mut row = vec![0.0f32; n];
        chain.write_row(&mut row);
        current.restart(&row);
        let mut left = self.options.steps;
        let k = left.min(block);
        fill(chain, &mut current, k, &mut trajectory, recorder);
        left -= k;
        self.advance(k)?;
        while left > 0 {
            spare.restart(current.last_row());
            let k = left.min(block);
            rayon::join(
                || accumulator.add_block(&current),
                || fill(chain, &mut spare, k, &mut trajectory, recorder),
            );
            left -= k;
            std::mem::swap(&mut current, &mut spare);
            self.advance(k)?;
        }
        accumulator.add_block(&current);
        Ok((
            accumulator.finish(first, chain.state().to_vec()),
            trajectory,
        ))
    }
}

/// Simulates `steps` transitions into `block` and the trajectory of fingerprints.
fn fill(
    chain: &mut Chain,
    block: &mut Block,
    steps: usize,
    trajectory: &mut Vec<u64>,
    recorder: &mut Recorder,
) {
    for _ in 0..steps {
        let take = recorder.takes();
        if take {
            recorder.data.extend_from_slice(chain.bits());
        }
        chain.step();
        if take {
            recorder.data.extend_from_slice(chain.bits());
        }
        chain.write_row(block.push_row());
        trajectory.push(fingerprint(chain.bits()));
    }
}

/// Keeps every `stride`-th transition as a bitset pair for the model-based estimate when
/// states are too large to be their own fingerprints (N > 64); the stride keeps the recorded
/// transitions of all runs near [`model_based::max_distinct`].
struct Recorder {
    enabled: bool,
    stride: usize,
    counter: usize,
    data: Vec<u64>,
}

impl Recorder {
    fn new(n: usize, options: &SamplingOptions) -> Self {
        Recorder {
            enabled: n > 64,
            stride: big_state_stride(n, options),
            counter: 0,
            data: Vec::new(),
        }
    }

    fn takes(&mut self) -> bool {
        let take = self.enabled && self.counter.is_multiple_of(self.stride);
        self.counter += 1;
        take
    }
}

/// The recording stride for N > 64: total transitions over the mixture's state budget.
fn big_state_stride(n: usize, options: &SamplingOptions) -> usize {
    (options.steps * options.runs)
        .div_ceil(model_based::max_distinct(n))
        .max(1)
}

/// Records for the model-based estimate. For N ≤ 64 fingerprints are the states, so every
/// transition can be used unless the distinct states exceed the mixture's budget: then every
/// 2nd, 4th, … transition is kept.
fn records_of(
    n: usize,
    options: &SamplingOptions,
    trajectories: &[Vec<u64>],
    big: Vec<Vec<u64>>,
) -> Records {
    if n > 64 {
        return Records {
            words: n.div_ceil(64),
            runs: big,
            stride: big_state_stride(n, options),
        };
    }
    let budget = model_based::max_distinct(n);
    let mut stride = 1;
    loop {
        let mut seen = std::collections::HashSet::new();
        for t in trajectories {
            for k in (0..t.len().saturating_sub(1)).step_by(stride) {
                seen.insert(t[k]);
                seen.insert(t[k + 1]);
            }
        }
        if seen.len() <= budget || stride >= options.steps {
            break;
        }
        stride *= 2;
    }
    let runs = trajectories
        .iter()
        .map(|t| {
            (0..t.len().saturating_sub(1))
                .step_by(stride)
                .flat_map(|k| [t[k], t[k + 1]])
                .collect()
        })
        .collect();
    Records {
        words: 1,
        runs,
        stride,
    }
}

/// C from raw moments: lag 1 uses Σ x_t x_{t+1}ᵀ, lag 0 uses Σ x_t x_tᵀ.
fn correlation_of(m: &Moments, options: CorrelationOptions) -> CorrelationStats {
    let t = m.samples as f64;
    let mean_now = m.mean_now();
    if options.lag == 0 {
        let second: Vec<f64> = m.lag0.iter().map(|v| v / t).collect();
        from_moments(&mean_now, &mean_now, &second, options)
    } else {
        let second: Vec<f64> = m.cross.iter().map(|v| v / t).collect();
        from_moments(&mean_now, &m.mean_next(), &second, options)
    }
}

/// The runs combined so far: summed moments, per-run estimates, all trajectories.
struct Pool {
    moments: Moments,
    per_run_c: Vec<f64>,
    per_run_mi: Vec<f64>,
    trajectories: Vec<Vec<u64>>,
    records: Vec<Vec<u64>>,
}

impl Pool {
    fn new(n: usize, runs: usize) -> Self {
        Pool {
            moments: Moments::empty(n),
            per_run_c: Vec::with_capacity(runs),
            per_run_mi: Vec::with_capacity(runs),
            trajectories: Vec::with_capacity(runs),
            records: Vec::with_capacity(runs),
        }
    }

    /// Adds the next run (callers keep run order).
    fn absorb(&mut self, run: RunOutput) {
        self.moments.add(&run.moments);
        self.per_run_c.push(run.correlation_rms);
        self.per_run_mi.push(run.mi.miller_madow_bits);
        self.trajectories.push(run.trajectory);
        self.records.push(run.records);
    }
}

/// Derives every estimate and warning from the pooled runs.
fn combine(net: &Network, options: &SamplingOptions, pool: Pool) -> SampledResult {
    let n = net.n();
    let Pool {
        moments,
        per_run_c,
        per_run_mi,
        trajectories,
        records,
    } = pool;
    let views: Vec<&[u64]> = trajectories.iter().map(Vec::as_slice).collect();
    let mi = entropy::estimate(&views, n);
    drop(views);
    let records = records_of(n, options, &trajectories, records);
    drop(trajectories);
    let model = model_estimate(net, &records, moments.samples);
    drop(records);
    let mut warnings = model.warnings.clone();
    warn_if_undersampled(&mi, moments.samples, &mut warnings);
    let mi_gaussian_bits = gaussian::gaussian_mi(&moments, &mut warnings);
    SampledResult {
        model,
        mi_plugin_bits: mi.plugin_bits,
        mi_miller_madow_bits: mi.miller_madow_bits,
        mi_gaussian_bits,
        miller_madow_stderr_bits: mean_and_stderr(&per_run_mi).1,
        correlation: correlation_of(&moments, options.correlation),
        correlation_stderr: mean_and_stderr(&per_run_c).1,
        samples: moments.samples,
        distinct_transitions: mi.distinct_transitions,
        warnings,
    }
}

/// The model-based estimate, or (shared noise: the kernel is a mixture over the shared draw,
/// so the per-state conditional entropy is not a sum of h2) none, with a warning saying so.
fn model_estimate(net: &Network, records: &Records, samples: u64) -> ModelEstimate {
    if matches!(net.noise, Noise::Shared { std } if std > 0.0) {
        return ModelEstimate {
            mi_bits: None,
            stderr_bits: None,
            bias_correction_bits: None,
            conditional_entropy_bits: f64::NAN,
            state_entropy_bits: None,
            records: 0,
            stride: records.stride,
            distinct_states: 0,
            batches: 0,
            warnings: vec![
                "Model-based I withheld: with shared noise neurons are not conditionally \
                 independent, so H(x(t+1) | x(t)) has no per-state closed form here; only the \
                 plug-in and Miller–Madow estimates (biased, see their fields) are given."
                    .into(),
            ],
        };
    }
    model_based::estimate(net, records, samples)
}

/// Plug-in estimates need each observed transition to recur many times. Their bias is of
/// order (distinct transitions)/(2·samples·ln 2) bits (the Miller–Madow term), which is
/// reported when it is not negligible; they are kept for comparison only.
fn warn_if_undersampled(mi: &MiEstimate, samples: u64, warnings: &mut Vec<String>) {
    let bias = mi.distinct_transitions as f64 / (2.0 * samples as f64 * std::f64::consts::LN_2);
    if bias > 0.01 {
        // With most transitions seen once the first-order term no longer bounds the bias.
        let size = if mi.distinct_transitions * 10 > samples {
            format!(
                "the transition space is undersampled, so their bias exceeds even the \
                 first-order (Miller–Madow) term of {bias:.3} bits"
            )
        } else {
            format!("a first-order bias of {bias:.3} bits in the plug-in estimate")
        };
        warnings.push(format!(
            "Plug-in and Miller–Madow estimates are dominated by bias: {} of the {} sampled \
             transitions are distinct; {size}; compare them with mi_bits only as a check.",
            mi.distinct_transitions, samples
        ));
    }
}
