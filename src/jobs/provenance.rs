//! Provenance of a result (issue 18): what built the server, what ran, with which numeric
//! settings and on how many threads, so that a published number can be traced and rerun.

use serde_json::{Value, json};

use super::{JobKind, Limits};
use crate::engine::flux::exact::ExactOptions;

/// The version of this build (`Cargo.toml`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The git commit this binary was built from (`build.rs`), or `unknown`.
pub const GIT_COMMIT: &str = env!("FLUXLAB_GIT_COMMIT");

/// The `provenance` object of a result: `spec` is the stored spec as resolved at submission
/// (defaults filled in, the seed chosen), `engine` the numeric settings the kind used that
/// the spec does not state (solver tolerances and budgets, the float width).
pub fn provenance(kind: JobKind, spec: &Value, limits: &Limits) -> Value {
    json!({
        "fluxlab_version": VERSION,
        "git_commit": GIT_COMMIT,
        "kind": kind.as_str(),
        "seed": spec.get("seed").cloned().unwrap_or(Value::Null),
        "spec": spec,
        "engine": engine_settings(kind, spec, limits),
        "threads": rayon::current_num_threads(),
        "host_threads": std::thread::available_parallelism().map_or(0, |n| n.get()),
    })
}

fn engine_settings(kind: JobKind, spec: &Value, limits: &Limits) -> Value {
    let exact = ExactOptions::default();
    match kind {
        JobKind::Mi => json!({
            "float": "f64",
            "exact": {
                "solver": format!(
                    "dense LU for N ≤ {}, else GMRES; each network's `convergence.solver` \
                     names the one used",
                    exact.dense_max_n
                ),
                "tolerance": exact.tolerance,
                "max_iterations": exact.max_iterations,
                "dense_max_n": exact.dense_max_n,
            },
            "exact_max_n": limits.exact_max_n,
            "attractors_exhaustive_max_n": limits.attractors_exhaustive_max_n,
        }),
        JobKind::Evolution => {
            let config = serde_json::from_value::<super::evolution::EvolutionSpec>(spec.clone())
                .ok()
                .and_then(|s| serde_json::to_value(s.config()).ok());
            let tolerance = config
                .as_ref()
                .and_then(|c| c.get("mi_tolerance").cloned())
                .unwrap_or(Value::Null);
            json!({
                "float": "f64",
                "exact": {
                    "solver": format!(
                        "small exact solver for N ≤ {}, else GMRES",
                        crate::engine::flux::exact::SMALL_MAX_N
                    ),
                    "tolerance": tolerance,
                    "max_iterations": exact.max_iterations,
                    "dense_max_n": exact.dense_max_n,
                },
                "config": config,
            })
        }
        JobKind::Lif => {
            let config = serde_json::from_value::<super::lif::LifJobSpec>(spec.clone())
                .ok()
                .and_then(|s| serde_json::to_value(s.config()).ok());
            json!({
                "float": "f32",
                "config": config,
            })
        }
    }
}
