//! What flows between layers for one sample over T steps. Spikes are binary and sparse, so they are
//! kept as event lists grouped by unit (every layer's dense part then touches only active inputs);
//! a constant-coded input is the same at every step and is kept once.

/// Spike times of one sample, grouped by unit: unit i fired at `times[starts[i]..starts[i + 1]]`,
/// in increasing time.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SpikeTrain {
    pub units: usize,
    pub steps: usize,
    starts: Vec<u32>,
    times: Vec<u32>,
}

impl SpikeTrain {
    /// Empties the train for `units` units over `steps` steps, keeping its allocations.
    pub fn reset(&mut self, units: usize, steps: usize) {
        self.units = units;
        self.steps = steps;
        self.starts.clear();
        self.times.clear();
        self.starts.push(0);
    }

    /// Appends a spike of the unit currently being filled; units are filled in order.
    #[inline]
    pub fn push(&mut self, t: usize) {
        self.times.push(t as u32);
    }

    /// Appends every step t < `steps` for which `spike(t)` holds, without a data-dependent branch.
    #[inline]
    pub fn push_where(&mut self, steps: usize, mut spike: impl FnMut(usize) -> bool) {
        let mut len = self.times.len();
        self.times.resize(len + steps, 0);
        for t in 0..steps {
            self.times[len] = t as u32;
            len += spike(t) as usize;
        }
        self.times.truncate(len);
    }

    /// Closes the current unit and starts the next one.
    #[inline]
    pub fn end_unit(&mut self) {
        self.starts.push(self.times.len() as u32);
    }

    /// Rebuilds the train from spiking cells t·units + j listed in increasing order (a counting
    /// sort by unit, so times stay sorted).
    pub fn fill_from_cells(&mut self, cells: &[u32], units: usize, steps: usize) {
        self.units = units;
        self.steps = steps;
        self.starts.clear();
        self.starts.resize(units + 1, 0);
        for &c in cells {
            self.starts[c as usize % units + 1] += 1;
        }
        for j in 0..units {
            self.starts[j + 1] += self.starts[j];
        }
        let mut cursor = self.starts[..units].to_vec();
        self.times.clear();
        self.times.resize(cells.len(), 0);
        for &c in cells {
            let j = c as usize % units;
            self.times[cursor[j] as usize] = c / units as u32;
            cursor[j] += 1;
        }
    }

    /// Spike times of unit `i`.
    #[inline]
    pub fn times(&self, i: usize) -> &[u32] {
        &self.times[self.starts[i] as usize..self.starts[i + 1] as usize]
    }

    /// Total number of spikes.
    pub fn count(&self) -> usize {
        self.times.len()
    }

    /// The units that spiked at each step (for rasters and plots).
    pub fn by_step(&self) -> Vec<Vec<u32>> {
        let mut steps = vec![Vec::new(); self.steps];
        for i in 0..self.units {
            for &t in self.times(i) {
                steps[t as usize].push(i as u32);
            }
        }
        steps
    }

    /// Dense step-major 0/1 matrix (T × units), for references and tests.
    pub fn to_dense(&self) -> Vec<f32> {
        let mut out = vec![0.0; self.steps * self.units];
        for i in 0..self.units {
            for &t in self.times(i) {
                out[t as usize * self.units + i] = 1.0;
            }
        }
        out
    }
}

/// One sample's input to a layer (or output of one).
#[derive(Clone, Debug, PartialEq)]
pub enum Activity {
    /// Binary spikes.
    Spikes(SpikeTrain),
    /// The same real vector at every step (constant coding, and dense layers fed by it).
    Static(Vec<f32>),
    /// A real T × units matrix, step-major.
    Dense(Vec<f32>),
}

impl Default for Activity {
    fn default() -> Self {
        Activity::Dense(Vec::new())
    }
}

impl Activity {
    /// The spike train, turning this activity into one if needed (keeps allocations when reused).
    pub fn spikes_mut(&mut self) -> &mut SpikeTrain {
        if !matches!(self, Activity::Spikes(_)) {
            *self = Activity::Spikes(SpikeTrain::default());
        }
        match self {
            Activity::Spikes(s) => s,
            _ => unreachable!("just set to spikes"),
        }
    }

    /// The real buffer, as `Static` or `Dense` per `is_static`, reusing the allocation.
    pub fn values_mut(&mut self, is_static: bool) -> &mut Vec<f32> {
        let old = match std::mem::take(self) {
            Activity::Static(v) | Activity::Dense(v) => v,
            Activity::Spikes(_) => Vec::new(),
        };
        *self = if is_static {
            Activity::Static(old)
        } else {
            Activity::Dense(old)
        };
        match self {
            Activity::Static(v) | Activity::Dense(v) => v,
            Activity::Spikes(_) => unreachable!("just set to values"),
        }
    }

    /// True for the once-per-sample form.
    pub fn is_static(&self) -> bool {
        matches!(self, Activity::Static(_))
    }

    /// Dense step-major T × units matrix, for references and tests.
    pub fn to_dense(&self, units: usize, steps: usize) -> Vec<f32> {
        match self {
            Activity::Spikes(s) => s.to_dense(),
            Activity::Static(v) => (0..steps).flat_map(|_| v.iter().copied()).collect(),
            Activity::Dense(v) => {
                debug_assert_eq!(v.len(), units * steps);
                v.clone()
            }
        }
    }
}
