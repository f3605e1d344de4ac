//! Kind `mi`: information flux, correlation proxy and attractors of Boltzmann-machine RNNs.

pub mod build;
pub mod result;
pub mod run;
pub mod spec;
pub mod sweep;
pub mod validate;

use serde_json::Value;

pub use run::run;
pub use spec::MiSpec;

use crate::jobs::validation::{fresh_seed, parse_spec};
use crate::jobs::{FieldError, Limits};

/// Parses (naming the field of any type error), checks, and normalises an `mi` spec.
pub fn validate(spec: Value, limits: &Limits) -> Result<Value, Vec<FieldError>> {
    let mut parsed: MiSpec = parse_spec(spec)?;
    validate::check(&parsed, limits)?;
    if parsed.seed.is_none() {
        parsed.seed = Some(fresh_seed());
    }
    Ok(serde_json::to_value(&parsed).expect("spec serialises"))
}
