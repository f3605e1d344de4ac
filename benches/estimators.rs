//! Coverage and bias of the sampled estimators of I against the exact I, on random networks.
//!
//! For every setting (ensemble × N × steps) it draws `ESTIMATORS_NETWORKS` (default 20) networks
//! from seeds the estimator never sees, solves I exactly, samples with 4 runs and reports per
//! estimator the mean error (bias), its spread, and for the model-based estimate how often
//! |estimate − exact| ≤ 2·stderr (coverage) and how often it was withheld. Writes a Markdown
//! table to stdout and, with `ESTIMATORS_OUT=dir`, `estimators.md`, `estimators.csv` and
//! `estimators.svg` there. Run through `bench/estimators.sh`.

use std::fmt::Write as _;
use std::time::Instant;

use fluxlab::engine::control::Unattended;
use fluxlab::engine::flux::ensemble::Gaussian;
use fluxlab::engine::flux::exact::{ExactOptions, analyze_exact};
use fluxlab::engine::flux::network::Network;
use fluxlab::engine::flux::sampled::{SamplingOptions, analyze_sampled};
use fluxlab::engine::rng::stream;
use fluxlab::plots::{Figure, Line, LineFigure, LinePanel, Size, render};

/// The two ensembles: strong (std 1) and weak (std 1/√N) Gaussian coupling.
const ENSEMBLES: [(&str, bool); 2] = [("strong", false), ("weak", true)];

fn env_list(name: &str, default: &str) -> Vec<usize> {
    std::env::var(name)
        .unwrap_or_else(|_| default.into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

fn network(n: usize, scaled: bool, seed: u64) -> Network {
    let spec = Gaussian {
        n,
        mean: 0.0,
        std: 1.0,
        density: 1.0,
        balance: None,
        self_connections: true,
        scale_by_sqrt_n: scaled,
    };
    Network::new(spec.sample(&mut stream(seed, &[0xE57, n as u64, u64::from(scaled)])))
}

/// Errors of one estimator over the networks of a setting.
#[derive(Default)]
struct Errors {
    errors: Vec<f64>,
    covered: usize,
    withheld: usize,
}

impl Errors {
    fn mean(&self) -> f64 {
        self.errors.iter().sum::<f64>() / self.errors.len().max(1) as f64
    }
    fn sd(&self) -> f64 {
        let m = self.mean();
        let k = self.errors.len();
        if k < 2 {
            return f64::NAN;
        }
        (self.errors.iter().map(|e| (e - m).powi(2)).sum::<f64>() / (k - 1) as f64).sqrt()
    }
}

struct Row {
    ensemble: &'static str,
    n: usize,
    steps: usize,
    model: Errors,
    median_stderr: f64,
    miller_madow: Errors,
    plugin: Errors,
    gaussian: Errors,
    seconds: f64,
}

fn main() {
    let networks = env_list("ESTIMATORS_NETWORKS", "20")[0];
    let sizes = env_list("ESTIMATORS_N", "6,8,10,12,14");
    let steps_list = env_list("ESTIMATORS_STEPS", "10000,100000,1000000");
    let runs = 4;
    let mut rows = Vec::new();
    println!(
        "{networks} networks per setting, {runs} runs, burn-in 1000; rayon threads: {}",
        rayon::current_num_threads()
    );
    for (ensemble, scaled) in ENSEMBLES {
        for &n in &sizes {
            let nets: Vec<(Network, f64)> = (0..networks as u64)
                .map(|k| {
                    let net = network(n, scaled, 1000 + k);
                    let exact = analyze_exact(&net, &ExactOptions::default(), &Unattended)
                        .expect("unattended")
                        .mi_bits;
                    (net, exact)
                })
                .collect();
            for &steps in &steps_list {
                let start = Instant::now();
                let mut row = Row {
                    ensemble,
                    n,
                    steps,
                    model: Errors::default(),
                    median_stderr: f64::NAN,
                    miller_madow: Errors::default(),
                    plugin: Errors::default(),
                    gaussian: Errors::default(),
                    seconds: 0.0,
                };
                let mut stderrs = Vec::new();
                for (k, (net, exact)) in nets.iter().enumerate() {
                    let options = SamplingOptions {
                        steps,
                        burn_in: 1000,
                        runs,
                        ..SamplingOptions::default()
                    };
                    let r = analyze_sampled(net, &options, 7 + k as u64, 0, &Unattended)
                        .expect("unattended");
                    match (r.model.mi_bits, r.model.stderr_bits) {
                        (Some(mi), Some(se)) => {
                            let e = mi - exact;
                            row.model.errors.push(e);
                            if e.abs() <= 2.0 * se {
                                row.model.covered += 1;
                            }
                            stderrs.push(se);
                        }
                        _ => row.model.withheld += 1,
                    }
                    row.miller_madow.errors.push(r.mi_miller_madow_bits - exact);
                    row.plugin.errors.push(r.mi_plugin_bits - exact);
                    if let Some(g) = r.mi_gaussian_bits {
                        row.gaussian.errors.push(g - exact);
                    }
                }
                stderrs.sort_by(f64::total_cmp);
                row.median_stderr = stderrs.get(stderrs.len() / 2).copied().unwrap_or(f64::NAN);
                row.seconds = start.elapsed().as_secs_f64();
                println!("{}", table_line(&row));
                rows.push(row);
            }
        }
    }
    let table = table(&rows);
    if let Ok(dir) = std::env::var("ESTIMATORS_OUT") {
        let dir = std::path::Path::new(&dir);
        std::fs::create_dir_all(dir).expect("output directory");
        std::fs::write(dir.join("estimators.md"), &table).expect("write table");
        std::fs::write(dir.join("estimators.csv"), csv(&rows)).expect("write csv");
        std::fs::write(dir.join("estimators.svg"), plot(&rows)).expect("write plot");
        println!("wrote estimators.md, .csv and .svg to {}", dir.display());
    }
}

const HEADER: &str = "| coupling | N | steps × 4 | model: covered (2σ) | withheld | model bias ± sd | \
median stderr | Miller–Madow bias ± sd | plug-in bias | I_G − I | s |\n\
|---|---|---|---|---|---|---|---|---|---|---|";

fn table_line(r: &Row) -> String {
    let used = r.model.errors.len();
    format!(
        "| {} | {} | {:.0e} | {}/{} | {} | {:+.4} ± {:.4} | {:.4} | {:+.4} ± {:.4} | {:+.4} | {:+.4} | {:.1} |",
        r.ensemble,
        r.n,
        r.steps as f64,
        r.model.covered,
        used,
        r.model.withheld,
        r.model.mean(),
        r.model.sd(),
        r.median_stderr,
        r.miller_madow.mean(),
        r.miller_madow.sd(),
        r.plugin.mean(),
        r.gaussian.mean(),
        r.seconds
    )
}

fn table(rows: &[Row]) -> String {
    let mut s = String::from(HEADER);
    s.push('\n');
    for r in rows {
        let _ = writeln!(s, "{}", table_line(r));
    }
    s
}

fn csv(rows: &[Row]) -> String {
    let mut s = String::from(
        "coupling,n,steps,model_covered,model_used,model_withheld,model_bias,model_sd,\
         median_stderr,mm_bias,mm_sd,plugin_bias,gaussian_bias\n",
    );
    for r in rows {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{},{},{},{},{},{}",
            r.ensemble,
            r.n,
            r.steps,
            r.model.covered,
            r.model.errors.len(),
            r.model.withheld,
            r.model.mean(),
            r.model.sd(),
            r.median_stderr,
            r.miller_madow.mean(),
            r.miller_madow.sd(),
            r.plugin.mean(),
            r.gaussian.mean()
        );
    }
    s
}

/// |bias| per estimator against N, one panel per ensemble, one line per estimator × steps.
fn plot(rows: &[Row]) -> String {
    let panels = ENSEMBLES
        .iter()
        .map(|(ensemble, _)| {
            let mut lines = Vec::new();
            let mut steps: Vec<usize> = rows.iter().map(|r| r.steps).collect();
            steps.sort_unstable();
            steps.dedup();
            for &t in &steps {
                let pick = |f: &dyn Fn(&Row) -> f64| -> Vec<(f64, f64)> {
                    rows.iter()
                        .filter(|r| r.ensemble == *ensemble && r.steps == t)
                        .map(|r| (r.n as f64, f(r).abs().max(1e-5).log10()))
                        .collect()
                };
                lines.push(Line {
                    label: format!("model-based, {t:.0e} steps", t = t as f64),
                    points: pick(&|r| r.model.mean()),
                    dashed: false,
                });
                lines.push(Line {
                    label: format!("Miller–Madow, {t:.0e} steps", t = t as f64),
                    points: pick(&|r| r.miller_madow.mean()),
                    dashed: true,
                });
            }
            LinePanel {
                y_label: format!("log10 |bias| (bits), {ensemble} coupling"),
                lines,
                band: None,
                y_range: None,
            }
        })
        .collect();
    let figure = Figure::Lines(LineFigure {
        title: "Bias of sampled I (mean error over networks, 4 runs)".into(),
        subtitle: Some("Gaussian networks, std 1 (strong) and 1/√N (weak)".into()),
        x_label: "N".into(),
        panels,
    });
    render(
        &figure,
        Size {
            width: 900,
            height: 800,
        },
    )
    .expect("render plot")
}
