//! Boltzmann-machine RNNs (SCIENCE.md Part A): networks and ensembles, the exact stationary
//! distribution and information flux, the correlation proxy C, sampled estimators and the
//! cyclic attractors of the deterministic limit.

pub mod attractors;
pub mod correlation;
pub mod ensemble;
pub mod exact;
pub mod exact_sum;
pub mod gauss_hermite;
pub mod network;
pub mod sampled;
pub mod stats;

#[cfg(test)]
mod agreement_tests;
