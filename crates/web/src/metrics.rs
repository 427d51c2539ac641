//! `GET /metrics` in the Prometheus text format: requests by route and status, their durations, and the
//! job queue as the database sees it. Routes are patterns (`/c/{cpts}`), never concrete paths.

use crate::access::{Access, GuardedRouter};
use crate::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    durations: Mutex<BTreeMap<String, Histogram>>,
}

impl Metrics {
    pub fn record(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        if let Ok(mut requests) = self.requests.lock() {
            *requests
                .entry((method.to_string(), route.to_string(), status))
                .or_default() += 1;
        }
        if let Ok(mut durations) = self.durations.lock() {
            let histogram = durations.entry(route.to_string()).or_default();
            let seconds = elapsed.as_secs_f64();
            for (i, bound) in BUCKETS.iter().enumerate() {
                if seconds <= *bound {
                    histogram.counts[i] += 1;
                }
            }
            histogram.count += 1;
            histogram.sum += seconds;
        }
    }

    pub fn render(&self, jobs: &[(String, i64)], database_up: bool) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP maillage_http_requests_total HTTP requests answered."
        );
        let _ = writeln!(out, "# TYPE maillage_http_requests_total counter");
        if let Ok(requests) = self.requests.lock() {
            for ((method, route, status), count) in requests.iter() {
                let _ = writeln!(
                    out,
                    "maillage_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {count}",
                    escape(route)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP maillage_http_request_duration_seconds Time to answer HTTP requests."
        );
        let _ = writeln!(
            out,
            "# TYPE maillage_http_request_duration_seconds histogram"
        );
        if let Ok(durations) = self.durations.lock() {
            for (route, histogram) in durations.iter() {
                let route = escape(route);
                for (i, bound) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "maillage_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {}",
                        histogram.counts[i]
                    );
                }
                let _ = writeln!(
                    out,
                    "maillage_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                    histogram.count
                );
                let _ = writeln!(
                    out,
                    "maillage_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                    histogram.sum
                );
                let _ = writeln!(
                    out,
                    "maillage_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                    histogram.count
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP maillage_jobs Background jobs by status (whole database)."
        );
        let _ = writeln!(out, "# TYPE maillage_jobs gauge");
        for status in ["queued", "running", "done", "failed"] {
            let count = jobs
                .iter()
                .find(|(s, _)| s == status)
                .map(|(_, c)| *c)
                .unwrap_or(0);
            let _ = writeln!(out, "maillage_jobs{{status=\"{status}\"}} {count}");
        }
        let _ = writeln!(
            out,
            "# HELP maillage_database_up Whether the database answered the last scrape."
        );
        let _ = writeln!(out, "# TYPE maillage_database_up gauge");
        let _ = writeln!(out, "maillage_database_up {}", u8::from(database_up));
        out
    }
}

fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"")
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let jobs = state.store.job_counts().await;
    let up = jobs.is_ok();
    let body = state.metrics.render(&jobs.unwrap_or_default(), up);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
}

pub fn routes(router: GuardedRouter) -> GuardedRouter {
    router.get(
        "/metrics",
        Access::Public,
        "Métriques Prometheus (sans donnée personnelle) ; à filtrer au proxy",
        metrics,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let metrics = Metrics::default();
        metrics.record("GET", "/c/{cpts}", 200, Duration::from_millis(3));
        metrics.record("GET", "/c/{cpts}", 200, Duration::from_millis(300));
        let text = metrics.render(&[("queued".into(), 4)], true);
        assert!(text.contains(
            "maillage_http_requests_total{method=\"GET\",route=\"/c/{cpts}\",status=\"200\"} 2"
        ));
        assert!(text.contains(
            "maillage_http_request_duration_seconds_bucket{route=\"/c/{cpts}\",le=\"0.005\"} 1"
        ));
        assert!(text.contains("maillage_jobs{status=\"queued\"} 4"));
        assert!(text.contains("maillage_jobs{status=\"failed\"} 0"));
        assert!(text.contains("maillage_database_up 1"));
    }
}
