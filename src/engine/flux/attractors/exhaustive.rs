//! All attractors of the deterministic limit for N ≤ 24 (A7): a next-state table for every
//! one of the 2^N states, then one pass over the functional graph that finds each cycle and
//! its basin. Memory: one u32 per state (64 MB at N = 24) plus 8 bytes per attractor.

use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::engine::control::{Control, Stopped};

use super::successor::Successor;

/// States per parallel chunk of the table; within a chunk the low bits run through a Gray
/// code, so consecutive states differ in one neuron and z changes by one column.
const CHUNK_BITS: usize = 14;

/// Table entries use the low 24 bits for a state; these flags mark the walk's progress.
const ON_PATH: u32 = 1 << 31;
const LABELED: u32 = 1 << 30;
const VALUE: u32 = (1 << 30) - 1;

/// One attractor found by enumeration: period and number of states (of all 2^N) ending in
/// it. `order` is the discovery order (by smallest basin state), a canonical tie-breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Cycle {
    pub period: u32,
    pub basin: u32,
    pub order: u32,
}

/// The successor of every state index, computed in parallel chunks.
pub(super) fn next_state_table(
    successor: &Successor,
    control: &dyn Control,
) -> Result<Vec<u32>, Stopped> {
    let n = successor.n;
    assert!(n <= 24, "exhaustive enumeration needs N ≤ 24");
    let chunk_bits = n.min(CHUNK_BITS);
    let mut table = vec![0u32; 1 << n];
    let chunks = 1usize << (n - chunk_bits);
    let done = AtomicUsize::new(0);
    table
        .par_chunks_mut(1 << chunk_bits)
        .enumerate()
        .try_for_each(|(c, out)| {
            if control.should_stop() {
                return Err(Stopped);
            }
            fill_chunk(successor, (c << chunk_bits) as u32, out);
            let finished = done.fetch_add(1, Ordering::Relaxed) + 1;
            control.progress(0.8 * finished as f64 / chunks as f64, "next-state table");
            Ok(())
        })?;
    Ok(table)
}

/// Successors of the states `high | g` for every g < out.len(), visited in Gray-code order.
fn fill_chunk(successor: &Successor, high: u32, out: &mut [u32]) {
    let n = successor.n;
    let mut z = vec![0.0; n];
    let mut state = high;
    successor.net_input(|j| state >> j & 1 == 1, &mut z);
    for m in 0..out.len() {
        if m > 0 {
            let j = m.trailing_zeros() as usize;
            state ^= 1 << j;
            successor.add_column(&mut z, j, state >> j & 1 == 1);
        }
        let next = (0..n).fold(0u32, |acc, i| {
            if successor.fires(i, z[i], |j| state >> j & 1 == 1) {
                acc | 1 << i
            } else {
                acc
            }
        });
        out[(state - high) as usize] = next;
    }
}

/// Finds every cycle of the functional graph `table` and its basin, consuming the table
/// (entries are overwritten by attractor labels). Each state is walked at most twice.
pub(super) fn cycles(mut table: Vec<u32>, control: &dyn Control) -> Result<Vec<Cycle>, Stopped> {
    let mut found: Vec<Cycle> = Vec::new();
    let size = table.len();
    for s in 0..size {
        if s % (1 << 16) == 0 {
            if control.should_stop() {
                return Err(Stopped);
            }
            control.progress(0.8 + 0.2 * s as f64 / size as f64, "cycles and basins");
        }
        if table[s] & LABELED != 0 {
            continue;
        }
        let end = mark_path(&mut table, s);
        let id = if table[end] & ON_PATH != 0 {
            found.push(Cycle {
                period: cycle_length(&table, end),
                basin: 0,
                order: found.len() as u32,
            });
            found.len() - 1
        } else {
            (table[end] & VALUE) as usize
        };
        found[id].basin += label_path(&mut table, s, id as u32);
    }
    Ok(found)
}

/// Follows unvisited states from `s`, flagging them as on the current path; returns the
/// first state that was already flagged (a new cycle) or labelled (a known attractor).
fn mark_path(table: &mut [u32], s: usize) -> usize {
    let mut x = s;
    while table[x] & (ON_PATH | LABELED) == 0 {
        table[x] |= ON_PATH;
        x = (table[x] & VALUE) as usize;
    }
    x
}

/// Length of the cycle through `x` (its successor links are still intact).
fn cycle_length(table: &[u32], x: usize) -> u32 {
    let mut period = 1;
    let mut y = (table[x] & VALUE) as usize;
    while y != x {
        y = (table[y] & VALUE) as usize;
        period += 1;
    }
    period
}

/// Replaces the flagged path from `s` by the attractor label; returns how many states.
fn label_path(table: &mut [u32], s: usize, id: u32) -> u32 {
    let mut y = s;
    let mut count = 0;
    while table[y] & ON_PATH != 0 {
        let next = (table[y] & VALUE) as usize;
        table[y] = LABELED | id;
        count += 1;
        y = next;
    }
    count
}
