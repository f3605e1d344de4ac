//! Exactly rounded summation (Shewchuk's algorithm, as in Python's `math.fsum`): the sum is
//! kept as a list of non-overlapping partials whose total is the exact real sum, so the
//! returned value is the exact sum rounded once, and in particular its sign is exact. The
//! deterministic limit decides ties (z = 0 → off) with it, so cancelling terms such as
//! 1e6 + 1e-11 − 1e6 cannot turn a positive net input into a tie.

/// Accumulates f64 values without rounding error.
#[derive(Debug, Default, Clone)]
pub struct ExactSum {
    partials: Vec<f64>,
}

impl ExactSum {
    pub fn new() -> Self {
        ExactSum::default()
    }

    /// Adds `x` exactly (two-sum against every partial, keeping the non-zero remainders).
    pub fn add(&mut self, mut x: f64) {
        let mut kept = 0;
        for k in 0..self.partials.len() {
            let mut y = self.partials[k];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let high = x + y;
            let low = y - (high - x);
            if low != 0.0 {
                self.partials[kept] = low;
                kept += 1;
            }
            x = high;
        }
        self.partials.truncate(kept);
        self.partials.push(x);
    }

    /// The exact sum rounded to nearest (ties to even), as `math.fsum` does.
    pub fn value(&self) -> f64 {
        let p = &self.partials;
        let Some(mut k) = p.len().checked_sub(1) else {
            return 0.0;
        };
        let mut high = p[k];
        let mut low = 0.0;
        while k > 0 {
            k -= 1;
            let x = high;
            let y = p[k];
            high = x + y;
            let yr = high - x;
            low = y - yr;
            if low != 0.0 {
                break;
            }
        }
        // Half-way case: the remaining partials decide the rounding direction.
        if k > 0 && ((low < 0.0 && p[k - 1] < 0.0) || (low > 0.0 && p[k - 1] > 0.0)) {
            let y = low * 2.0;
            let x = high + y;
            if y == x - high {
                high = x;
            }
        }
        high
    }
}

/// The exactly rounded sum of `values`.
pub fn exact_sum(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut s = ExactSum::new();
    values.into_iter().for_each(|v| s.add(v));
    s.value()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancellation_keeps_the_small_term() {
        assert_eq!(exact_sum([1e6, 1e-11, -1e6]), 1e-11);
        assert_eq!(exact_sum([1e6, -1e6, 1e-11]), 1e-11);
        assert_eq!(exact_sum([-1e6, 1e-11, 1e6]), 1e-11);
        assert_eq!(exact_sum([1e100, 1.0, -1e100, -1.0]), 0.0);
        assert_eq!(exact_sum([0.1; 10]), 1.0);
        assert_eq!(exact_sum([]), 0.0);
        // The naive sum loses the small term entirely.
        assert_eq!(1e6 + 1e-11 - 1e6, 0.0);
    }

    #[test]
    fn matches_naive_sums_of_exact_values() {
        let v: Vec<f64> = (0..100).map(|k| (k as f64 - 50.0) * 0.25).collect();
        assert_eq!(exact_sum(v.iter().copied()), v.iter().sum::<f64>());
    }
}
