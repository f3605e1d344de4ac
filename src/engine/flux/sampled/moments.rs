//! Streaming second moments of a sampled trajectory: Σ x_t x_tᵀ and Σ x_t x_{t+1}ᵀ, computed
//! block by block as GEMMs on 0/1 matrices (faer), which is what makes N ≈ 1000 affordable.
//!
//! The products are taken in f32: entries are integer counts, exact in f32 up to 2^24, so the
//! accumulators are flushed to f64 before they could exceed that and every sum stays exact.
//! Exact integer sums also make the pooled moments independent of the order of additions.

use faer::linalg::matmul::matmul;
use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::{Accum, Mat, MatRef, Par};

use crate::engine::vector_state::clear_upper_vector_state;

/// Largest count that f32 still represents exactly (and with it every smaller integer).
const F32_EXACT: usize = 1 << 24;

/// States of consecutive time steps, row-major ((len + 1) × N): row 0 repeats the last state
/// of the previous block so that the transitions of a block are rows r → r + 1.
pub(super) struct Block {
    n: usize,
    rows: Vec<f32>,
    /// Transitions stored (rows filled after row 0).
    len: usize,
}

impl Block {
    pub fn new(n: usize, capacity: usize) -> Self {
        Block {
            n,
            rows: vec![0.0; (capacity + 1) * n],
            len: 0,
        }
    }

    /// Empties the block, making `first` (a row of 0.0 / 1.0) its row 0.
    pub fn restart(&mut self, first: &[f32]) {
        self.rows[..self.n].copy_from_slice(first);
        self.len = 0;
    }

    /// The row of the last stored state.
    pub fn last_row(&self) -> &[f32] {
        &self.rows[self.len * self.n..(self.len + 1) * self.n]
    }

    /// The next free row, to be filled with the state after one more transition.
    pub fn push_row(&mut self) -> &mut [f32] {
        self.len += 1;
        let n = self.n;
        &mut self.rows[self.len * n..(self.len + 1) * n]
    }

    /// (rows 0..len, rows 1..=len) as len × N matrices: states at t and at t + 1.
    fn pairs(&self) -> (MatRef<'_, f32>, MatRef<'_, f32>) {
        let (n, k) = (self.n, self.len);
        (
            MatRef::from_row_major_slice(&self.rows[..k * n], k, n),
            MatRef::from_row_major_slice(&self.rows[n..(k + 1) * n], k, n),
        )
    }
}

/// Raw (unnormalised) moments of one or several runs, exact integer counts stored as f64.
#[derive(Debug, Clone)]
pub(super) struct Moments {
    pub n: usize,
    /// Number of transitions T.
    pub samples: u64,
    /// Σ_t x_t x_tᵀ (N × N, row-major, symmetric); its diagonal is Σ_t x_t.
    pub lag0: Vec<f64>,
    /// Σ_t x_t x_{t+1}ᵀ (N × N, row-major): `cross[i * n + j]` counts x_i(t) = x_j(t+1) = 1.
    pub cross: Vec<f64>,
    /// Σ over runs of (x_T x_Tᵀ − x_0 x_0ᵀ) is kept implicitly as these endpoint states, so that
    /// the moments of x_{t+1} follow from those of x_t without a third N × N sum.
    pub endpoints: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Moments {
    pub fn empty(n: usize) -> Self {
        Moments {
            n,
            samples: 0,
            lag0: vec![0.0; n * n],
            cross: vec![0.0; n * n],
            endpoints: Vec::new(),
        }
    }

    /// Adds another run's counts (exact, so the result is independent of the order).
    pub fn add(&mut self, other: &Moments) {
        self.samples += other.samples;
        for (a, b) in self.lag0.iter_mut().zip(&other.lag0) {
            *a += b;
        }
        for (a, b) in self.cross.iter_mut().zip(&other.cross) {
            *a += b;
        }
        self.endpoints.extend(other.endpoints.iter().cloned());
    }

    /// E[x_i(t)].
    pub fn mean_now(&self) -> Vec<f64> {
        let t = self.samples as f64;
        (0..self.n).map(|i| self.lag0[i * self.n + i] / t).collect()
    }

    /// E[x_i(t+1)] = (Σ_t x_t + x_T − x_0) / T per run.
    pub fn mean_next(&self) -> Vec<f64> {
        let t = self.samples as f64;
        let mut sum: Vec<f64> = (0..self.n).map(|i| self.lag0[i * self.n + i]).collect();
        for (first, last) in &self.endpoints {
            for i in 0..self.n {
                sum[i] += f64::from(last[i]) - f64::from(first[i]);
            }
        }
        sum.iter().map(|s| s / t).collect()
    }

    /// Σ_t x_{t+1} x_{t+1}ᵀ = Σ_t x_t x_tᵀ + Σ_runs (x_T x_Tᵀ − x_0 x_0ᵀ) (N × N row-major),
    /// the endpoint terms as two GEMMs over the R × N matrices of first and last states.
    pub fn lag0_next(&self) -> Vec<f64> {
        let (n, runs) = (self.n, self.endpoints.len());
        let first = Mat::<f64>::from_fn(runs, n, |r, i| f64::from(self.endpoints[r].0[i]));
        let last = Mat::<f64>::from_fn(runs, n, |r, i| f64::from(self.endpoints[r].1[i]));
        let mut m = Mat::<f64>::from_fn(n, n, |i, j| self.lag0[i * n + j]);
        matmul(
            m.as_mut(),
            Accum::Add,
            last.transpose(),
            &last,
            1.0,
            Par::Seq,
        );
        matmul(
            m.as_mut(),
            Accum::Add,
            first.transpose(),
            &first,
            -1.0,
            Par::Seq,
        );
        clear_upper_vector_state();
        let mut out = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                out[i * n + j] = m[(i, j)];
            }
        }
        out
    }
}

/// Accumulates the moments of one run block by block.
pub(super) struct Accumulator {
    n: usize,
    lag0: Mat<f32>,
    cross: Mat<f32>,
    pending: usize,
    flushed: Option<Moments>,
}

impl Accumulator {
    pub fn new(n: usize) -> Self {
        Accumulator {
            n,
            lag0: Mat::zeros(n, n),
            cross: Mat::zeros(n, n),
            pending: 0,
            flushed: None,
        }
    }

    /// Adds the transitions of a block: two GEMMs (the lag-0 one on its lower triangle only).
    pub fn add_block(&mut self, block: &Block) {
        if block.len == 0 {
            return;
        }
        if self.pending + block.len > F32_EXACT {
            self.flush();
        }
        let (now, next) = block.pairs();
        triangular::matmul(
            self.lag0.as_mut(),
            BlockStructure::TriangularLower,
            Accum::Add,
            now.transpose(),
            BlockStructure::Rectangular,
            now,
            BlockStructure::Rectangular,
            1.0f32,
            Par::Seq,
        );
        matmul(
            self.cross.as_mut(),
            Accum::Add,
            now.transpose(),
            next,
            1.0f32,
            Par::Seq,
        );
        // The simulation's scalar code runs next: see `clear_upper_vector_state`.
        clear_upper_vector_state();
        self.pending += block.len;
    }

    /// Moves the f32 counts into the f64 totals and clears them.
    fn flush(&mut self) {
        let n = self.n;
        let totals = self.flushed.get_or_insert_with(|| Moments::empty(n));
        totals.samples += self.pending as u64;
        for i in 0..n {
            for j in 0..=i {
                let v = f64::from(self.lag0[(i, j)]);
                totals.lag0[i * n + j] += v;
                if i != j {
                    totals.lag0[j * n + i] += v;
                }
            }
            for j in 0..n {
                totals.cross[i * n + j] += f64::from(self.cross[(i, j)]);
            }
        }
        self.lag0.fill(0.0);
        self.cross.fill(0.0);
        self.pending = 0;
    }

    /// The run's moments, given its first and last state.
    pub fn finish(mut self, first: Vec<u8>, last: Vec<u8>) -> Moments {
        self.flush();
        let mut totals = self
            .flushed
            .take()
            .unwrap_or_else(|| Moments::empty(self.n));
        totals.endpoints.push((first, last));
        totals
    }
}
