//! Prometheus metrics of the service: HTTP latency by route, job run durations, and at scrape
//! time the jobs by status and the queue depth.

use std::sync::Mutex;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    kind: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UserLabels {
    user: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UserOnlyLabels {
    user: String,
}

/// The service's metric registry.
pub struct Observability {
    registry: Mutex<Registry>,
    http_latency: Family<HttpLabels, Histogram>,
    job_duration: Family<JobLabels, Histogram>,
    jobs_by_status: Family<StatusLabels, Gauge>,
    queue_depth: Gauge,
    jobs_running_here: Gauge,
    user_jobs: Family<UserLabels, Gauge>,
    user_slot_seconds: Family<UserOnlyLabels, Gauge<f64, std::sync::atomic::AtomicU64>>,
}

impl Default for Observability {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("fluxlab");
        let http_latency = Family::<HttpLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        let job_duration = Family::<JobLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.01, 4.0, 12))
        });
        let jobs_by_status = Family::<StatusLabels, Gauge>::default();
        let queue_depth = Gauge::default();
        let jobs_running_here = Gauge::default();
        let user_jobs = Family::<UserLabels, Gauge>::default();
        let user_slot_seconds =
            Family::<UserOnlyLabels, Gauge<f64, std::sync::atomic::AtomicU64>>::default();
        registry.register(
            "user_jobs",
            "Running and queued jobs per user (owner)",
            user_jobs.clone(),
        );
        registry.register(
            "user_slot_seconds",
            "Wall time each user's finished runs held a compute slot",
            user_slot_seconds.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency",
            http_latency.clone(),
        );
        registry.register(
            "job_run_duration_seconds",
            "Wall time of one job run (attempt) by outcome",
            job_duration.clone(),
        );
        registry.register(
            "jobs",
            "Jobs in the database by status",
            jobs_by_status.clone(),
        );
        registry.register("queue_depth", "Jobs waiting to run", queue_depth.clone());
        registry.register(
            "jobs_running_here",
            "Jobs running in this process",
            jobs_running_here.clone(),
        );
        Observability {
            registry: Mutex::new(registry),
            http_latency,
            job_duration,
            jobs_by_status,
            queue_depth,
            jobs_running_here,
            user_jobs,
            user_slot_seconds,
        }
    }
}

impl Observability {
    pub fn http_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.http_latency
            .get_or_create(&HttpLabels {
                method: method.to_string(),
                route: route.to_string(),
                status,
            })
            .observe(seconds);
    }

    pub fn job_finished(&self, kind: &str, outcome: &str, seconds: f64) {
        self.job_duration
            .get_or_create(&JobLabels {
                kind: kind.to_string(),
                outcome: outcome.to_string(),
            })
            .observe(seconds);
    }

    /// Renders the text exposition format after refreshing the database-derived gauges.
    pub fn render(
        &self,
        counts: &[(String, i64)],
        running_here: usize,
        users: &[(String, crate::store::Usage)],
    ) -> String {
        // Rebuilt at each scrape, so removed users do not linger.
        self.user_jobs.clear();
        self.user_slot_seconds.clear();
        for (user, usage) in users {
            for (status, n) in [("running", usage.running), ("queued", usage.queued)] {
                self.user_jobs
                    .get_or_create(&UserLabels {
                        user: user.clone(),
                        status: status.into(),
                    })
                    .set(n);
            }
            self.user_slot_seconds
                .get_or_create(&UserOnlyLabels { user: user.clone() })
                .set(usage.slot_ms as f64 / 1000.0);
        }
        for status in crate::store::Status::ALL {
            let count = counts
                .iter()
                .find(|(s, _)| s == status.as_str())
                .map_or(0, |(_, c)| *c);
            self.jobs_by_status
                .get_or_create(&StatusLabels {
                    status: status.as_str().to_string(),
                })
                .set(count);
            if status == crate::store::Status::Queued {
                self.queue_depth.set(count);
            }
        }
        self.jobs_running_here.set(running_here as i64);
        let mut out = String::new();
        let registry = self.registry.lock().expect("metrics registry lock");
        encode(&mut out, &registry).expect("writing to a String cannot fail");
        out
    }
}
