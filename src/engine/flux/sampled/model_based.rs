//! The model-based estimate of I[x(t); x(t+1)] from a simulation: the primary sampled `mi_bits`.
//!
//! I = H(x(t+1)) − H(x(t+1) | x(t)). The conditional entropy is known exactly for every
//! visited state, H(x(t+1) | x(t) = x) = Σᵢ h2(pᵢ(x)) (neurons are conditionally
//! independent), so its chain mean is unbiased. Only H(x(t+1)) = −E log π(y) is estimated, with
//! the transition probabilities of the model: π̂(y) = mean over *held-out* recorded states x of
//! T(x → y), evaluated (in log space) at each recorded successor y. Held out means from other
//! folds: the runs (or, for one run, the two halves of it), so y's own predecessor never enters
//! its mixture.
//!
//! By Jensen's inequality −log π̂ overestimates −log π, by about Var(π̂)/(2π²), a bias that falls
//! as 1/M with the M held-out states. It is estimated by repeating the mixture with each half of
//! the held-out data (first and second half in time of every other fold, so autocorrelation is
//! kept) and removed (Richardson): bias(M) ≈ Ĥ(M/2) − Ĥ(M), estimate = 2Ĥ(M) − Ĥ(M/2).
//!
//! The standard error is that of batch means: each fold's records are cut into contiguous
//! batches of time, the per-record values (already corrected) averaged per batch, and the spread
//! of the batch means gives the error of their mean. When the removed bias is larger than the
//! standard error, the residual bias cannot be bounded by it and no estimate is reported.

use std::collections::HashMap;
use std::f64::consts::LN_2;

use rayon::prelude::*;

use crate::engine::flux::gauss_hermite::GaussHermite;
use crate::engine::flux::network::{NOISE_QUADRATURE_NODES, Network, Noise, sigmoid};

/// Work budget D²·N for the mixture (D distinct recorded states): about a second per core.
const MIXTURE_WORK: f64 = 2e9;
/// Most distinct recorded states, whatever N (memory D·(N + 2F) doubles).
const MAX_DISTINCT: usize = 40_000;
/// Batches per estimate (across folds): enough degrees of freedom for a 2σ interval to be one.
const TARGET_BATCHES: usize = 32;
/// Most folds: runs beyond this are grouped.
const MAX_FOLDS: usize = 16;
/// The estimate is withheld when the removed bias exceeds this many standard errors.
const MAX_BIAS_IN_STDERRS: f64 = 1.0;

/// Most distinct recorded states the mixture may use for a network of `n` neurons.
pub(super) fn max_distinct(n: usize) -> usize {
    ((MIXTURE_WORK / n.max(1) as f64).sqrt() as usize).clamp(256, MAX_DISTINCT)
}

/// Recorded transitions of all runs: per run, flattened pairs (x words, y words) in time order.
pub(super) struct Records {
    pub words: usize,
    pub runs: Vec<Vec<u64>>,
    /// Recorded every `stride`-th transition.
    pub stride: usize,
}

impl Records {
    fn pairs(&self, run: usize) -> impl Iterator<Item = (&[u64], &[u64])> {
        self.runs[run]
            .chunks_exact(2 * self.words)
            .map(|p| p.split_at(self.words))
    }

    fn len(&self, run: usize) -> usize {
        self.runs[run].len() / (2 * self.words)
    }
}

/// The model-based estimate and its diagnostics.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelEstimate {
    /// Bias-corrected estimate of I in bits; `None` when its bias cannot be bounded.
    pub mi_bits: Option<f64>,
    /// Batch-means standard error of `mi_bits` (also given when `mi_bits` is withheld).
    pub stderr_bits: Option<f64>,
    /// The estimated Jensen bias of the uncorrected mixture estimate, removed from `mi_bits`.
    pub bias_correction_bits: Option<f64>,
    /// H(x(t+1) | x(t)) averaged over the recorded states (unbiased).
    pub conditional_entropy_bits: f64,
    /// Bias-corrected estimate of H(x(t+1)).
    pub state_entropy_bits: Option<f64>,
    /// Transitions used (every `stride`-th of the sampled ones).
    pub records: u64,
    pub stride: usize,
    pub distinct_states: usize,
    pub batches: usize,
    /// Why `mi_bits` is null, or other limits; empty when all is well.
    pub warnings: Vec<String>,
}

/// Per distinct state: exact conditional entropy and the log-kernel T(x → y) = exp(c + Σ_{yᵢ=1} dᵢ).
struct StateTable {
    n: usize,
    d: usize,
    /// Σᵢ h2(pᵢ(x)) in bits.
    hc: Vec<f64>,
    /// Σᵢ ln(1 − pᵢ(x)).
    c: Vec<f64>,
    /// ln pᵢ − ln(1 − pᵢ), neuron-major: `dcol[i * d + x]`.
    dcol: Vec<f64>,
}

/// ln σ(z), stable for large |z|.
fn ln_sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        -(-z).exp().ln_1p()
    } else {
        z - z.exp().ln_1p()
    }
}

impl StateTable {
    fn new(net: &Network, states: &[&[u64]]) -> Self {
        let n = net.n();
        let d = states.len();
        let quadrature = match net.noise {
            Noise::Independent { std } if std > 0.0 => {
                Some((GaussHermite::new(NOISE_QUADRATURE_NODES), std))
            }
            _ => None,
        };
        let rows: Vec<(f64, f64, Vec<f64>)> = states
            .par_iter()
            .map(|bits| {
                let on: Vec<bool> = (0..n).map(|i| bits[i / 64] >> (i % 64) & 1 == 1).collect();
                let mut z = vec![0.0; n];
                net.net_input(&on, &mut z);
                let (mut hc, mut c) = (0.0, 0.0);
                let mut row = Vec::with_capacity(n);
                for &zi in &z {
                    let (ln_p, ln_q) = match &quadrature {
                        None => (ln_sigmoid(zi), ln_sigmoid(-zi)),
                        Some((q, std)) => {
                            let p = q.expect_normal(0.0, *std, |eta| sigmoid(zi + eta));
                            let r = q.expect_normal(0.0, *std, |eta| sigmoid(-zi - eta));
                            (p.max(f64::MIN_POSITIVE).ln(), r.max(f64::MIN_POSITIVE).ln())
                        }
                    };
                    let (p, q) = (ln_p.exp(), ln_q.exp());
                    hc -= (p * ln_p + q * ln_q) / LN_2;
                    c += ln_q;
                    row.push(ln_p - ln_q);
                }
                (hc, c, row)
            })
            .collect();
        let mut table = StateTable {
            n,
            d,
            hc: Vec::with_capacity(d),
            c: Vec::with_capacity(d),
            dcol: vec![0.0; n * d],
        };
        for (x, (hc, c, row)) in rows.into_iter().enumerate() {
            table.hc.push(hc);
            table.c.push(c);
            for (i, v) in row.into_iter().enumerate() {
                table.dcol[i * d + x] = v;
            }
        }
        table
    }

    /// For successor `y`: (m, S_k) with Σ_x counts[x][k]·T(x → y) = e^m·S_k for every column k.
    fn mixture(&self, y: &[u64], counts: &[f64], columns: usize) -> (f64, Vec<f64>) {
        let mut acc = self.c.clone();
        for i in (0..self.n).filter(|&i| y[i / 64] >> (i % 64) & 1 == 1) {
            let col = &self.dcol[i * self.d..(i + 1) * self.d];
            acc.iter_mut().zip(col).for_each(|(a, v)| *a += v);
        }
        let m = acc.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut sums = vec![0.0; columns];
        for (x, a) in acc.iter().enumerate() {
            let e = (a - m).exp();
            let row = &counts[x * columns..(x + 1) * columns];
            sums.iter_mut().zip(row).for_each(|(s, c)| *s += c * e);
        }
        (m, sums)
    }
}

/// Which fold each run belongs to, and the number of folds (one run → two halves).
fn folds(runs: usize) -> usize {
    if runs == 1 { 2 } else { runs.min(MAX_FOLDS) }
}

/// One record's place: fold, half (of that fold's time), batch.
struct Placed {
    x: usize,
    y: usize,
    fold: usize,
    batch: usize,
}

/// Estimates I from the recorded transitions; `samples` is the number simulated (for advice).
pub(super) fn estimate(net: &Network, records: &Records, samples: u64) -> ModelEstimate {
    fn intern<'r>(
        index: &mut HashMap<&'r [u64], usize>,
        states: &mut Vec<&'r [u64]>,
        s: &'r [u64],
    ) -> usize {
        *index.entry(s).or_insert_with(|| {
            states.push(s);
            states.len() - 1
        })
    }
    let runs = records.runs.len();
    let f = folds(runs);
    let per_fold_batches = TARGET_BATCHES.div_ceil(f).max(1);
    // Distinct states and placed records.
    let mut index: HashMap<&[u64], usize> = HashMap::new();
    let mut states: Vec<&[u64]> = Vec::new();
    let mut placed: Vec<Placed> = Vec::new();
    let mut halves: Vec<u8> = Vec::new();
    for run in 0..runs {
        let len = records.len(run);
        for (k, (x, y)) in records.pairs(run).enumerate() {
            // Position within the fold's time, in [0, 1).
            let (fold, pos) = if runs == 1 {
                let h = usize::from(2 * k >= len);
                (h, (2 * k - h * len) as f64 / len as f64)
            } else {
                let fold = run * f / runs;
                let first = (fold * runs).div_ceil(f);
                let last = ((fold + 1) * runs).div_ceil(f);
                let span = last - first;
                (
                    fold,
                    ((run - first) as f64 + k as f64 / len as f64) / span as f64,
                )
            };
            let batch = fold * per_fold_batches + ((pos * per_fold_batches as f64) as usize);
            halves.push(u8::from(pos >= 0.5));
            placed.push(Placed {
                x: intern(&mut index, &mut states, x),
                y: intern(&mut index, &mut states, y),
                fold,
                batch,
            });
        }
    }
    drop(index);
    let d = states.len();
    let total = placed.len();
    let columns = 2 * f;
    let mut counts = vec![0.0; d * columns];
    let mut mass = vec![0.0; columns];
    for (p, &h) in placed.iter().zip(&halves) {
        let k = 2 * p.fold + h as usize;
        counts[p.x * columns + k] += 1.0;
        mass[k] += 1.0;
    }
    let table = StateTable::new(net, &states);
    let mixtures: Vec<(f64, Vec<f64>)> = (0..d)
        .into_par_iter()
        .map(|y| table.mixture(states[y], &counts, columns))
        .collect();
    // Per (state, fold): ln π̂ with all held-out data and the mean over its two halves.
    let log_mixture = |y: usize, fold: usize| -> (f64, f64) {
        let (m, sums) = &mixtures[y];
        let (mut a, mut b, mut ma, mut mb) = (0.0, 0.0, 0.0, 0.0);
        for g in (0..f).filter(|&g| g != fold) {
            a += sums[2 * g];
            b += sums[2 * g + 1];
            ma += mass[2 * g];
            mb += mass[2 * g + 1];
        }
        let full = m + ((a + b) / (ma + mb)).ln();
        let half = m + 0.5 * ((a / ma).ln() + (b / mb).ln());
        (full, half)
    };
    let batches = f * per_fold_batches;
    let mut sum_v = vec![0.0; batches];
    let mut sum_bias = vec![0.0; batches];
    let mut sum_hc = vec![0.0; batches];
    let mut count = vec![0usize; batches];
    let mut cache: HashMap<(usize, usize), (f64, f64)> = HashMap::new();
    for p in &placed {
        let (full, half) = *cache
            .entry((p.y, p.fold))
            .or_insert_with(|| log_mixture(p.y, p.fold));
        let bias = (full - half) / LN_2;
        sum_v[p.batch] += -full / LN_2 - bias - table.hc[p.x];
        sum_bias[p.batch] += bias;
        sum_hc[p.batch] += table.hc[p.x];
        count[p.batch] += 1;
    }
    let hc_mean = sum_hc.iter().sum::<f64>() / total as f64;
    let mi = sum_v.iter().sum::<f64>() / total as f64;
    let bias = sum_bias.iter().sum::<f64>() / total as f64;
    let means: Vec<f64> = (0..batches)
        .filter(|&b| count[b] > 0)
        .map(|b| sum_v[b] / count[b] as f64)
        .collect();
    let stderr = batch_stderr(&means);
    let mut result = ModelEstimate {
        mi_bits: None,
        stderr_bits: stderr,
        bias_correction_bits: bias.is_finite().then_some(bias),
        conditional_entropy_bits: hc_mean,
        state_entropy_bits: None,
        records: total as u64,
        stride: records.stride,
        distinct_states: d,
        batches: means.len(),
        warnings: Vec::new(),
    };
    if !mi.is_finite() || !bias.is_finite() {
        result.warnings.push(format!(
            "Model-based I withheld: some sampled successor states have no plausible \
             predecessor among the {} held-out recorded states (the mixture π̂ underflows); \
             the network is too deterministic for {} recorded transitions.",
            total, total
        ));
        return result;
    }
    let Some(se) = stderr else {
        result.warnings.push(
            "Model-based I withheld: too few recorded transitions for a batch-means standard \
             error."
                .into(),
        );
        return result;
    };
    if bias.abs() > MAX_BIAS_IN_STDERRS * se {
        // bias ∝ 1/M and stderr ∝ 1/√M: k times the data gives bias/k against stderr/√k.
        let factor = (bias.abs() / (MAX_BIAS_IN_STDERRS * se)).powi(2);
        let needed = (samples as f64 * factor).ceil();
        result.warnings.push(format!(
            "Model-based I withheld: the estimated bias of its H(x(t+1)) part ({bias:.4} bits) \
             exceeds the standard error ({se:.4} bits), so the bias cannot be bounded by the \
             error bar. About {needed:.3e} sampled transitions (× {factor:.1}) would suffice{}.",
            if records.stride > 1 || d >= max_distinct(net.n()) {
                format!(
                    ", but the mixture is capped at {} distinct recorded states for N = {} \
                     (recorded every {} steps), so more steps alone may not help",
                    max_distinct(net.n()),
                    net.n(),
                    records.stride
                )
            } else {
                String::new()
            }
        ));
        return result;
    }
    result.mi_bits = Some(mi);
    result.state_entropy_bits = Some(mi + hc_mean);
    result
}

/// Standard error of the mean of batch means; `None` with fewer than two batches.
fn batch_stderr(means: &[f64]) -> Option<f64> {
    let b = means.len();
    if b < 2 {
        return None;
    }
    let mean = means.iter().sum::<f64>() / b as f64;
    let var = means.iter().map(|m| (m - mean).powi(2)).sum::<f64>() / (b - 1) as f64;
    Some((var / b as f64).sqrt())
}
