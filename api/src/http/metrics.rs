//! Prometheus metrics: request counts and latency histograms per GraphQL operation name (policy §3.3:
//! aggregated request metrics for capacity planning, nothing per user), the job queue, Telegram connections,
//! live connections ([`live`]), the database pool and the outbox's lag ([`database`]), and the build.
//! `docs/grafana/tgos-dashboard.json` charts them.
//!
//! Rule: label values are bounded. Operation names are client-chosen, so only well-formed names are kept
//! and at most [`MAX_OPERATION_NAMES`] distinct ones; the rest count as `other`. Job kinds are the server's
//! own names (the handlers'), at most [`MAX_JOB_KINDS`] of them.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use poem::{IntoResponse, Response, handler, http::StatusCode, web::Data};
use prometheus::{
    Encoder as _, GaugeVec, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};
use tgos_domain::jobs::JobQueueDepth;

pub mod database;
pub mod live;

pub use database::{DatabaseGauges, PoolReading};
pub use live::{Counted, LiveGauges};

pub const MAX_OPERATION_NAMES: usize = 200;
/// The most job kinds given series of their own.
pub const MAX_JOB_KINDS: usize = 100;

#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    statements: IntCounter,
    known_names: Arc<Mutex<HashSet<String>>>,
    jobs_due: IntGaugeVec,
    telegram_connections: IntGaugeVec,
    jobs_oldest_due: GaugeVec,
    /// Kinds that had a series: they stay at 0 once nothing of theirs is due, rather than vanish.
    job_kinds: Arc<Mutex<HashSet<String>>>,
    bus_publish_failures: IntCounter,
    bus_degraded: IntGauge,
    /// Open WebSockets and subscriptions.
    pub live: LiveGauges,
    /// The pool and the outbox's lag.
    pub database: DatabaseGauges,
    rate_limit_store_failures: IntCounterVec,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "tgos_graphql_requests_total",
                "GraphQL requests by operation name and outcome",
            ),
            &["operation", "outcome"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "tgos_graphql_request_duration_seconds",
                "GraphQL request latency by operation name",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["operation"],
        )?;
        let statements = IntCounter::new(
            "tgos_db_statements_total",
            "SQL statements the server executed (queries and writes, transactions included)",
        )?;
        let jobs_due = IntGaugeVec::new(
            Opts::new(
                "tgos_jobs_due",
                "Jobs due now (queued past their time, or with a lapsed lease), by kind",
            ),
            &["kind"],
        )?;
        let jobs_oldest_due = GaugeVec::new(
            Opts::new(
                "tgos_jobs_oldest_due_seconds",
                "How long the oldest due job of each kind has been due, in seconds",
            ),
            &["kind"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(statements.clone()))?;
        registry.register(Box::new(jobs_due.clone()))?;
        registry.register(Box::new(jobs_oldest_due.clone()))?;
        let telegram_connections = IntGaugeVec::new(
            Opts::new(
                "tgos_telegram_connections",
                "Telegram connections this process holds by state: `live` (open and streaming) and `parked` \
                 (refused by Telegram, waiting for the account's health to change)",
            ),
            &["state"],
        )?;
        registry.register(Box::new(telegram_connections.clone()))?;
        let bus_publish_failures = IntCounter::new(
            "tgos_events_bus_publish_failures_total",
            "Relay passes whose events the event bus did not take (they are published again later)",
        )?;
        let bus_degraded = IntGauge::new(
            "tgos_events_bus_degraded",
            "1 while this process reads its subscribers' events from the outbox because the bus cannot deliver \
             them (broker unreachable, or events left unpublished), else 0",
        )?;
        registry.register(Box::new(bus_publish_failures.clone()))?;
        registry.register(Box::new(bus_degraded.clone()))?;
        for state in ["live", "parked"] {
            telegram_connections.with_label_values(&[state]).set(0);
        }
        let build = IntGaugeVec::new(
            Opts::new(
                "tgos_build_info",
                "Always 1, labelled with the version of the running binary (which versions serve during a rolling upgrade)",
            ),
            &["version"],
        )?;
        registry.register(Box::new(build.clone()))?;
        build.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
        let live = LiveGauges::register(&registry)?;
        let database = DatabaseGauges::register(&registry)?;
        let rate_limit_store_failures = IntCounterVec::new(
            Opts::new(
                "tgos_rate_limit_store_failures_total",
                "Limit checks whose counter failed (the database unreachable), by limit: a request budget let \
                 the request through, an inbox or account budget refused the action",
            ),
            &["limit"],
        )?;
        registry.register(Box::new(rate_limit_store_failures.clone()))?;
        Ok(Self {
            registry,
            requests,
            latency,
            statements,
            known_names: Arc::new(Mutex::new(HashSet::new())),
            jobs_due,
            jobs_oldest_due,
            job_kinds: Arc::new(Mutex::new(HashSet::new())),
            telegram_connections,
            bus_publish_failures,
            bus_degraded,
            live,
            database,
            rate_limit_store_failures,
        })
    }

    /// The event bus did not take a relay pass's events.
    pub fn bus_publish_failed(&self) {
        self.bus_publish_failures.inc();
    }

    /// Whether this process is reading its subscribers' events from the outbox.
    pub fn set_bus_degraded(&self, degraded: bool) {
        self.bus_degraded.set(i64::from(degraded));
    }

    /// The counter of failed limit checks by limit name (the server's own names, a handful).
    pub fn rate_limit_store_failures(&self) -> IntCounterVec {
        self.rate_limit_store_failures.clone()
    }

    /// Sets the Telegram connection gauges to what the live connections' last scan left.
    pub fn record_live(&self, live: usize, parked: usize) {
        for (state, count) in [("live", live), ("parked", parked)] {
            self.telegram_connections
                .with_label_values(&[state])
                .set(i64::try_from(count).unwrap_or(i64::MAX));
        }
    }

    /// Gives `kinds` (the job worker's) series of their own from the start, at 0 until something is due, so a
    /// dashboard shows every kind this process runs before its first job.
    pub fn know_job_kinds(&self, kinds: &[&str]) {
        let Ok(mut known) = self.job_kinds.lock() else {
            return;
        };
        for kind in kinds {
            if known.len() >= MAX_JOB_KINDS && !known.contains(*kind) {
                break;
            }
            if known.insert((*kind).to_owned()) {
                self.jobs_due.with_label_values(&[*kind]).set(0);
                self.jobs_oldest_due.with_label_values(&[*kind]).set(0.0);
            }
        }
    }

    /// Sets the job queue gauges to `queue` as read at `now`: kinds not in it have nothing due.
    pub fn record_job_queue(&self, queue: &[JobQueueDepth], now: DateTime<Utc>) {
        let Ok(mut kinds) = self.job_kinds.lock() else {
            return;
        };
        for kind in kinds.iter() {
            if !queue.iter().any(|depth| &depth.kind == kind) {
                self.jobs_due.with_label_values(&[kind.as_str()]).set(0);
                self.jobs_oldest_due.with_label_values(&[kind.as_str()]).set(0.0);
            }
        }
        for depth in queue {
            if !kinds.contains(&depth.kind) {
                if kinds.len() >= MAX_JOB_KINDS {
                    continue;
                }
                kinds.insert(depth.kind.clone());
            }
            let age = (now - depth.oldest_due).to_std().map_or(0.0, |age| age.as_secs_f64());
            self.jobs_due
                .with_label_values(&[depth.kind.as_str()])
                .set(i64::try_from(depth.due).unwrap_or(i64::MAX));
            self.jobs_oldest_due.with_label_values(&[depth.kind.as_str()]).set(age);
        }
    }

    /// The counter of SQL statements, for the store to increment.
    pub fn statements(&self) -> IntCounter {
        self.statements.clone()
    }

    fn label(&self, operation: Option<&str>) -> String {
        let Some(name) = operation else {
            return "anonymous".to_owned();
        };
        let well_formed = !name.is_empty()
            && name.len() <= 64
            && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !well_formed {
            return "other".to_owned();
        }
        let Ok(mut known) = self.known_names.lock() else {
            return "other".to_owned();
        };
        if known.contains(name) || known.len() < MAX_OPERATION_NAMES {
            known.insert(name.to_owned());
            name.to_owned()
        } else {
            "other".to_owned()
        }
    }

    pub fn observe(&self, operation: Option<&str>, elapsed: Duration, ok: bool) {
        let label = self.label(operation);
        let outcome = if ok { "ok" } else { "error" };
        self.requests.with_label_values(&[label.as_str(), outcome]).inc();
        self.latency
            .with_label_values(&[label.as_str()])
            .observe(elapsed.as_secs_f64());
    }

    pub fn render(&self) -> Result<String, prometheus::Error> {
        self.database.refresh();
        let mut buffer = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buffer)?;
        String::from_utf8(buffer).map_err(|e| prometheus::Error::Msg(e.to_string()))
    }
}

/// `GET /metrics`
#[handler]
pub async fn serve_metrics(metrics: Data<&Metrics>) -> Response {
    match metrics.render() {
        Ok(text) => text.with_content_type("text/plain; version=0.0.4").into_response(),
        Err(error) => {
            tracing::error!(%error, "rendering metrics failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_labels_are_bounded() -> Result<(), prometheus::Error> {
        let metrics = Metrics::new()?;
        assert_eq!(metrics.label(None), "anonymous");
        assert_eq!(metrics.label(Some("Me")), "Me");
        assert_eq!(metrics.label(Some("bad name!")), "other");
        for i in 0..(MAX_OPERATION_NAMES + 10) {
            metrics.label(Some(&format!("Op{i}")));
        }
        assert_eq!(metrics.label(Some("OneTooMany")), "other");
        assert_eq!(metrics.label(Some("Me")), "Me", "known names keep their label");
        Ok(())
    }

    #[test]
    fn render_has_counts_and_histograms_per_operation() -> Result<(), prometheus::Error> {
        let metrics = Metrics::new()?;
        metrics.observe(Some("Me"), Duration::from_millis(3), true);
        let text = metrics.render()?;
        assert!(
            text.contains("tgos_graphql_requests_total{operation=\"Me\",outcome=\"ok\"} 1"),
            "{text}"
        );
        assert!(text.contains("tgos_graphql_request_duration_seconds_bucket{operation=\"Me\""));
        Ok(())
    }

    #[test]
    fn a_workers_kinds_and_the_build_are_shown_before_anything_happens() -> Result<(), prometheus::Error> {
        let metrics = Metrics::new()?;
        metrics.know_job_kinds(&["notice.send", "retention.sweep"]);
        let text = metrics.render()?;
        for series in [
            "tgos_jobs_due{kind=\"notice.send\"} 0",
            "tgos_jobs_oldest_due_seconds{kind=\"retention.sweep\"} 0",
            "tgos_telegram_connections{state=\"live\"} 0",
            "tgos_telegram_connections{state=\"parked\"} 0",
            "tgos_websockets_open 0",
            "tgos_subscriptions_active{kind=\"inboxEvents\"} 0",
        ] {
            assert!(text.contains(series), "{series} in {text}");
        }
        assert!(
            text.contains(&format!(
                "tgos_build_info{{version=\"{}\"}} 1",
                env!("CARGO_PKG_VERSION")
            )),
            "{text}"
        );
        Ok(())
    }

    #[test]
    fn job_gauges_show_depth_and_age_and_fall_to_zero_when_nothing_is_due() -> Result<(), prometheus::Error> {
        let metrics = Metrics::new()?;
        let now = Utc::now();
        metrics.record_job_queue(
            &[JobQueueDepth {
                kind: "export.workspace".into(),
                due: 3,
                oldest_due: now - chrono::Duration::seconds(90),
            }],
            now,
        );
        let text = metrics.render()?;
        assert!(text.contains("tgos_jobs_due{kind=\"export.workspace\"} 3"), "{text}");
        assert!(
            text.contains("tgos_jobs_oldest_due_seconds{kind=\"export.workspace\"} 90"),
            "{text}"
        );
        metrics.record_job_queue(&[], now);
        let text = metrics.render()?;
        assert!(text.contains("tgos_jobs_due{kind=\"export.workspace\"} 0"), "{text}");
        assert!(
            text.contains("tgos_jobs_oldest_due_seconds{kind=\"export.workspace\"} 0"),
            "{text}"
        );
        Ok(())
    }
}
