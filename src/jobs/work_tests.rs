//! Tests of the work estimates (`jobs::work`) and of the job-wide limit in `jobs::validate`.

use serde_json::{Value, json};

use super::work::{DEFAULT_MAX_JOB_WORK, estimate, exact_network};
use super::{JobKind, Limits, Resolved, validate};

/// The normalised spec and its estimate under the default limits (the spec must validate).
fn work_of(kind: JobKind, spec: Value) -> f64 {
    let limits = Limits {
        max_job_work: f64::INFINITY,
        ..Limits::default()
    };
    let normalised = validate(kind, spec, &limits, &Resolved::default())
        .unwrap_or_else(|e| panic!("spec should validate: {e:?}"));
    estimate(kind, &normalised, &limits, &Resolved::default())
}

fn mi(spec: Value) -> f64 {
    work_of(JobKind::Mi, spec)
}

fn evolution(spec: Value) -> f64 {
    work_of(JobKind::Evolution, spec)
}

fn lif(spec: Value) -> f64 {
    work_of(JobKind::Lif, spec)
}

/// The three requests of issue 14: each per-network bound holds, the total is years.
fn exact_n16_sweep() -> Value {
    json!({"network": {"ensemble": {"n": 16, "replicates": 10}, "sweep": {"param": "std",
           "values": (1..=1000).map(|v| v as f64 / 100.0).collect::<Vec<_>>()}},
           "method": "exact"})
}

fn sampled_n2000_sweep() -> Value {
    json!({"network": {"ensemble": {"n": 2000, "replicates": 10}, "sweep": {"param": "std",
           "values": (1..=1000).map(|v| v as f64 / 100.0).collect::<Vec<_>>()}},
           "method": "sampled", "sampling": {"steps": 2_400_000, "burn_in": 100_000, "runs": 1},
           "attractors": false})
}

fn huge_evolution() -> Value {
    json!({"n": 16, "parents": 16, "offspring": 100_000, "generations": 10_000_000})
}

#[test]
fn the_three_examples_of_the_issue_are_far_over_the_default() {
    let exact = mi(exact_n16_sweep());
    let sampled = mi(sampled_n2000_sweep());
    let evolved = evolution(huge_evolution());
    // 10,000 networks at the solver's budget of 2,000 products of 4^16 multiply-adds.
    assert!(exact > 8e16 && exact < 1e17, "{exact:e}");
    assert!(exact > 8.0 * DEFAULT_MAX_JOB_WORK);
    // 10,000 × 2.5·10⁶ steps × ~2·N² = 2·10¹⁷.
    assert!(sampled > 1e17, "{sampled:e}");
    assert!(sampled > 10.0 * DEFAULT_MAX_JOB_WORK);
    // 10¹² evaluations of an N = 16 network.
    assert!(evolved > 1e22, "{evolved:e}");
}

#[test]
fn realistic_jobs_stay_under_the_default() {
    let readme_mi = [
        json!({"network": {"nrooks": {"n": 4, "q": 2, "permutation": "ring", "signs": "positive"}},
               "method": "exact", "seed": 1}),
        json!({"network": {"ensemble": {"type": "gaussian", "n": 10, "std": 1.0, "replicates": 3},
                           "sweep": {"param": "std", "values": [0.1, 0.2, 0.4, 0.8, 1.6, 3.2]}},
               "method": "auto", "correlation": {"lag": 1, "include_diagonal": true}, "seed": 7}),
        json!({"network": {"ensemble": {"n": 200, "std": 1.0, "scale_by_sqrt_n": true}},
               "method": "sampled", "sampling": {"steps": 100000, "burn_in": 1000, "runs": 4},
               "attractors": {"starts": 200, "max_steps": 10000}, "seed": 3}),
        // A large but sensible exact sweep: 500 networks at N = 16.
        json!({"network": {"ensemble": {"n": 16, "replicates": 5},
                           "sweep": {"param": "std", "values": (1..=100).map(|v| v as f64 / 10.0).collect::<Vec<_>>()}},
               "method": "exact"}),
        // The sampled bound for one network at N = 2,000, 20 replicates.
        json!({"network": {"ensemble": {"n": 2000, "replicates": 20}}, "method": "sampled",
               "sampling": {"steps": 2_400_000, "burn_in": 100_000, "runs": 1}, "attractors": false}),
    ];
    for spec in readme_mi {
        let w = mi(spec.clone());
        assert!(
            w > 0.0 && w < DEFAULT_MAX_JOB_WORK / 2.0,
            "{w:e} for {spec}"
        );
    }
    let readme_evolution = json!({"n": 6, "init": {"ensemble": {"type": "gaussian", "std": 1.0}},
        "strategy": "plus", "parents": 20, "offspring": 60, "generations": 200,
        "mutation": {"std": 0.1, "rate": 1.0, "adaptive": true},
        "constraint": {"type": "frobenius", "value": 7.348},
        "objectives": [{"name": "mi", "weight": 1.0}], "mode": "weighted", "seed": 1});
    assert!(evolution(readme_evolution) < 1e12);
    // Multi-day searches: (16+64) for three million generations at N = 10 (~2–3 days on two
    // cores), and the most generations a job may ask for at N = 8.
    for (n, generations) in [(10, 3_000_000), (8, 10_000_000)] {
        let w = evolution(json!({"n": n, "generations": generations}));
        assert!(w < DEFAULT_MAX_JOB_WORK, "N = {n}, {generations}: {w:e}");
    }
    // A pareto search of I and the mean period, and a sampled correlation search at N = 100.
    let pareto = json!({"n": 10, "generations": 1_000_000, "mode": "pareto",
        "objectives": [{"name": "mi"}, {"name": "mean_period"}]});
    assert!(evolution(pareto) < DEFAULT_MAX_JOB_WORK);
    let correlation =
        json!({"n": 100, "generations": 100_000, "objectives": [{"name": "correlation"}]});
    assert!(evolution(correlation) < DEFAULT_MAX_JOB_WORK);
    let readme_lif = json!({"dataset": {"builtin": "mnist10k"}, "split": {"train": 8000, "test": 2000},
        "encoding": {"type": "poisson", "steps": 25, "rate": 1.0},
        "layers": [{"type": "lif", "units": 256}], "batch_size": 128, "epochs": 10, "seed": 1});
    assert!(lif(readme_lif) < DEFAULT_MAX_JOB_WORK / 1000.0);
    // A big hybrid network for the most epochs.
    let big_lif = json!({"dataset": {"builtin": "mnist10k"}, "epochs": 1000,
        "encoding": {"type": "poisson", "steps": 100},
        "layers": [{"type": "lif", "units": 1024}, {"type": "dense", "units": 1024}]});
    assert!(lif(big_lif) < DEFAULT_MAX_JOB_WORK);
}

#[test]
fn exact_cost_follows_the_solver() {
    // N > 8: the budget of 2,000 products of 4^N multiply-adds dominates.
    let n16 = exact_network(16, 1, false);
    let products = 2000.0 * 4f64.powi(16);
    assert!(n16 > products && n16 < 1.01 * products, "{n16:e}");
    // Every neuron more costs about four times as much.
    let ratio = exact_network(14, 1, false) / exact_network(13, 1, false);
    assert!((3.9..4.1).contains(&ratio), "{ratio}");
    // Shared noise: 24 mixture components per product.
    let shared = exact_network(10, 24, false) / exact_network(10, 1, false);
    assert!(shared > 20.0, "{shared}");
    // N ≤ 8 takes one dense LU instead.
    assert!(exact_network(8, 1, false) < 1e8);
}

#[test]
fn mi_work_scales_with_networks_steps_and_method() {
    let one = mi(json!({"network": {"ensemble": {"n": 12}}, "method": "exact"}));
    let ten = mi(json!({"network": {"ensemble": {"n": 12, "replicates": 10}}, "method": "exact"}));
    assert!((ten / one - 10.0).abs() < 1e-9, "{one:e} {ten:e}");
    let swept = mi(json!({"network": {"ensemble": {"n": 12, "replicates": 2},
        "sweep": {"param": "std", "values": [1, 2, 3, 4, 5]}}, "method": "exact"}));
    assert!((swept / one - 10.0).abs() < 1e-9);
    let sampled = |steps: i64| {
        mi(
            json!({"network": {"ensemble": {"n": 300}}, "attractors": false,
                  "sampling": {"steps": steps, "burn_in": 0, "runs": 2}}),
        )
    };
    let ratio = sampled(200_000) / sampled(100_000);
    assert!(ratio > 1.9 && ratio < 2.0, "{ratio}");
    // Attractors: the random-start walks are costed at their bound, starts × max_steps × N².
    let walks = mi(
        json!({"network": {"ensemble": {"n": 300}}, "sampling": {"steps": 1, "burn_in": 0, "runs": 1},
                          "attractors": {"starts": 1000, "max_steps": 10000}}),
    );
    assert!(walks > 1000.0 * 10000.0 * 300.0 * 300.0);
    // Sweeping shared noise: the noiseless value costs one component, the others 24.
    let noisy = mi(
        json!({"network": {"ensemble": {"n": 10}, "noise": {"std": 0, "shared": true},
        "sweep": {"param": "noise_std", "values": [0.0, 0.5]}}, "method": "exact", "attractors": false}),
    );
    let quiet =
        mi(json!({"network": {"ensemble": {"n": 10}}, "method": "exact", "attractors": false}));
    assert!(noisy > 20.0 * quiet, "{noisy:e} {quiet:e}");
}

#[test]
fn evolution_work_scales_with_generations_population_and_objectives() {
    let base = evolution(json!({"n": 8, "generations": 100}));
    let longer = evolution(json!({"n": 8, "generations": 200}));
    assert!(
        longer > 1.9 * base && longer < 2.0 * base,
        "{base:e} {longer:e}"
    );
    let wider = evolution(json!({"n": 8, "generations": 100, "offspring": 128}));
    assert!(wider > 1.8 * base, "{wider:e}");
    // Larger N: 4× per neuron in the products.
    let n10 = evolution(json!({"n": 10, "generations": 100}));
    assert!(n10 > 5.0 * base, "{n10:e}");
    // A sampled objective re-measures the parents every generation.
    let corr = |parents: i64| {
        evolution(
            json!({"n": 50, "generations": 10, "parents": parents, "offspring": 64,
                         "objectives": [{"name": "correlation"}]}),
        )
    };
    assert!(corr(32) > corr(16));
    let with_period = evolution(json!({"n": 8, "generations": 100,
        "objectives": [{"name": "mi"}, {"name": "mean_period", "weight": 0.1}]}));
    assert!(with_period > base);
}

#[test]
fn lif_work_counts_layers_steps_and_the_static_input() {
    let spec = |encoding: Value, layers: Value, epochs: i64| {
        json!({"dataset": {"builtin": "mnist10k"}, "encoding": encoding, "layers": layers,
               "epochs": epochs})
    };
    let poisson = json!({"type": "poisson", "steps": 25});
    let layer = json!([{"type": "lif", "units": 256}]);
    let base = lif(spec(poisson.clone(), layer.clone(), 1));
    // 8,000 × 25 × 3·784·256-ish (the first layer has no input gradient) plus the test pass.
    let macs = 8000.0 * 25.0 * (2.0 * 784.0 * 256.0 + 3.0 * 256.0 * 10.0)
        + 2000.0 * 25.0 * (784.0 * 256.0 + 256.0 * 10.0);
    assert!(base > macs && base < 1.1 * macs, "{base:e} vs {macs:e}");
    assert!((lif(spec(poisson.clone(), layer.clone(), 10)) / base - 10.0).abs() < 1e-9);
    let longer = lif(spec(
        json!({"type": "poisson", "steps": 50}),
        layer.clone(),
        1,
    ));
    assert!(longer > 1.9 * base);
    // Constant coding runs the first layer once per sample.
    let constant = lif(spec(
        json!({"type": "constant", "steps": 25}),
        layer.clone(),
        1,
    ));
    assert!(constant < base / 5.0, "{constant:e} {base:e}");
    let deeper = lif(spec(
        poisson,
        json!([{"type": "lif", "units": 256}, {"type": "dense", "units": 256}]),
        1,
    ));
    assert!(deeper > base * 1.2);
}

#[test]
fn lif_work_of_an_uploaded_dataset_uses_its_size() {
    let info = super::lif::DatasetInfo {
        id: "d1".into(),
        count: 60_000,
        features: 784,
        classes: 10,
    };
    let resolved = Resolved {
        dataset: Some(info),
    };
    let limits = Limits::default();
    let spec = json!({"dataset": {"id": "d1"}, "epochs": 1});
    let normalised = validate(JobKind::Lif, spec, &limits, &resolved).unwrap();
    let uploaded = estimate(JobKind::Lif, &normalised, &limits, &resolved);
    let builtin = lif(json!({"dataset": {"builtin": "mnist10k"}, "epochs": 1}));
    // 48,000 / 12,000 samples against 8,000 / 2,000.
    assert!(
        (uploaded / builtin - 6.0).abs() < 0.01,
        "{uploaded:e} {builtin:e}"
    );
}

#[test]
fn validate_refuses_a_job_over_the_limit_naming_both_numbers() {
    let limits = Limits::default();
    let errors = validate(
        JobKind::Mi,
        exact_n16_sweep(),
        &limits,
        &Resolved::default(),
    )
    .unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].field, "spec");
    let message = &errors[0].message;
    assert!(message.contains("8.6e16"), "{message}");
    assert!(message.contains("limit of 1e16"), "{message}");
    assert!(message.contains("--max-job-work"), "{message}");
    // A lowered limit refuses what the default accepts.
    let small = json!({"network": {"ensemble": {"n": 12}}, "method": "exact"});
    assert!(validate(JobKind::Mi, small.clone(), &limits, &Resolved::default()).is_ok());
    let strict = Limits {
        max_job_work: 1e9,
        ..Limits::default()
    };
    let errors = validate(JobKind::Mi, small, &strict, &Resolved::default()).unwrap_err();
    assert_eq!(errors[0].field, "spec");
    assert!(errors[0].message.contains("limit of 1e9"), "{errors:?}");
}

#[test]
fn field_errors_come_before_the_work_estimate() {
    // An invalid spec reports its field, not the job-wide limit.
    let errors = validate(
        JobKind::Evolution,
        json!({"n": 16, "offspring": 1_000_000, "generations": 10_000_000}),
        &Limits::default(),
        &Resolved::default(),
    )
    .unwrap_err();
    assert!(errors.iter().all(|e| e.field != "spec"), "{errors:?}");
}

#[test]
fn the_flag_parses_positive_work_limits_and_defaults_to_the_constant() {
    use super::validation::parse_work_limit;
    assert_eq!(parse_work_limit("2e15"), Ok(2e15));
    assert_eq!(parse_work_limit("1000"), Ok(1000.0));
    for bad in ["0", "-1e16", "NaN", "inf", "lots"] {
        assert!(parse_work_limit(bad).is_err(), "{bad}");
    }
    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        serve: crate::config::ServeConfig,
    }
    let cli = <Cli as clap::Parser>::try_parse_from(["fluxlab"]).unwrap();
    assert_eq!(cli.serve.runner.max_job_work, DEFAULT_MAX_JOB_WORK);
    assert_eq!(cli.serve.limits().max_job_work, DEFAULT_MAX_JOB_WORK);
    let cli = <Cli as clap::Parser>::try_parse_from(["fluxlab", "--max-job-work", "5e14"]).unwrap();
    assert_eq!(cli.serve.limits().max_job_work, 5e14);
    assert!(<Cli as clap::Parser>::try_parse_from(["fluxlab", "--max-job-work", "0"]).is_err());
    let embedded = crate::config::ServeConfig::for_database("sqlite::memory:");
    assert_eq!(embedded.limits().max_job_work, DEFAULT_MAX_JOB_WORK);
}
