//! Kind `mi`: information flux, correlation proxy and attractors of Boltzmann-machine RNNs.

pub mod build;
pub mod result;
pub mod run;
pub mod spec;
pub mod validate;

use serde_json::Value;

pub use run::run;
pub use spec::MiSpec;

use crate::jobs::{FieldError, Limits};

/// Parses (naming the field of any type error), checks, and normalises an `mi` spec.
pub fn validate(spec: Value, limits: &Limits) -> Result<Value, Vec<FieldError>> {
    let mut parsed: MiSpec = serde_path_to_error::deserialize(spec).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            "spec".to_string()
        } else {
            format!("spec.{path}")
        };
        vec![FieldError::new(field, e.into_inner().to_string())]
    })?;
    validate::check(&parsed, limits)?;
    if parsed.seed.is_none() {
        parsed.seed = Some(rand::random::<u64>() >> 11);
    }
    Ok(serde_json::to_value(&parsed).expect("spec serialises"))
}
