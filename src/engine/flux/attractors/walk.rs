//! Attractors of large networks (A7, N beyond exhaustive enumeration): follow the
//! deterministic dynamics from a random start with Brent's cycle detection, and name the
//! cycle by its smallest state so that walks from different starts recognise each other.

use std::cmp::Ordering;

use crate::engine::control::{Control, Stopped};

use super::successor::{MAX_INCREMENTAL_OPS, Successor};

/// Steps between two polls of the stop flag inside one walk.
const STOP_POLL: u64 = 4096;

/// The attractor a start ends in: its smallest state (a bitset, bit n = neuron n) and period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Reached {
    pub canonical: Vec<u64>,
    pub period: u64,
}

/// A point moving under the deterministic map, with its net input kept up to date.
struct Walker<'a> {
    successor: &'a Successor<'a>,
    state: Vec<u64>,
    next: Vec<u64>,
    z: Vec<f64>,
    ops: usize,
}

impl<'a> Walker<'a> {
    fn new(successor: &'a Successor<'a>, start: &[u64]) -> Self {
        let mut walker = Walker {
            successor,
            state: start.to_vec(),
            next: vec![0; start.len()],
            z: vec![0.0; successor.n],
            ops: 0,
        };
        walker.rebuild();
        walker
    }

    fn rebuild(&mut self) {
        let state = &self.state;
        self.successor.net_input(|j| bit(state, j), &mut self.z);
        self.ops = 0;
    }

    /// One deterministic step; z follows the flipped neurons, or is rebuilt when that is
    /// cheaper or the incremental rounding budget is used up.
    fn step(&mut self) {
        let n = self.successor.n;
        self.next.fill(0);
        for i in 0..n {
            if self.successor.fires(i, self.z[i], |j| bit(&self.state, j)) {
                self.next[i / 64] |= 1 << (i % 64);
            }
        }
        let flips: usize = self
            .state
            .iter()
            .zip(&self.next)
            .map(|(a, b)| (a ^ b).count_ones() as usize)
            .sum();
        std::mem::swap(&mut self.state, &mut self.next);
        let active: usize = self.state.iter().map(|w| w.count_ones() as usize).sum();
        self.ops += flips;
        if flips > active || self.ops > MAX_INCREMENTAL_OPS {
            self.rebuild();
            return;
        }
        for (k, (&old, &new)) in self.next.iter().zip(&self.state).enumerate() {
            let mut changed = old ^ new;
            while changed != 0 {
                let b = changed.trailing_zeros() as usize;
                changed &= changed - 1;
                let j = k * 64 + b;
                self.successor.add_column(&mut self.z, j, new >> b & 1 == 1);
            }
        }
    }
}

#[inline]
fn bit(state: &[u64], j: usize) -> bool {
    state[j / 64] >> (j % 64) & 1 == 1
}

/// Orders bitsets as the binary numbers they encode (highest word first).
fn compare(a: &[u64], b: &[u64]) -> Ordering {
    a.iter().rev().cmp(b.iter().rev())
}

/// Walks from `start` until a cycle is detected (Brent's algorithm: the hare takes at most
/// `max_steps` steps), then once round the cycle to find its smallest state. `Ok(None)` if
/// no cycle closed within `max_steps`.
pub(super) fn walk(
    successor: &Successor,
    start: &[u64],
    max_steps: u64,
    control: &dyn Control,
) -> Result<Option<Reached>, Stopped> {
    let mut hare = Walker::new(successor, start);
    let mut tortoise = start.to_vec();
    hare.step();
    let (mut steps, mut power, mut period) = (1u64, 1u64, 1u64);
    while hare.state != tortoise {
        if steps >= max_steps {
            return Ok(None);
        }
        if power == period {
            tortoise.copy_from_slice(&hare.state);
            power *= 2;
            period = 0;
        }
        hare.step();
        period += 1;
        steps += 1;
        if steps % STOP_POLL == 0 && control.should_stop() {
            return Err(Stopped);
        }
    }
    let mut canonical = hare.state.clone();
    for k in 1..period {
        hare.step();
        if compare(&hare.state, &canonical) == Ordering::Less {
            canonical.copy_from_slice(&hare.state);
        }
        if k % STOP_POLL == 0 && control.should_stop() {
            return Err(Stopped);
        }
    }
    Ok(Some(Reached { canonical, period }))
}
