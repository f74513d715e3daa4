//! Spans over OTLP: with `telemetry.otlp_endpoint` set, a GraphQL request's span reaches the collector with
//! its request id, method, route, operation and status, as do a job run's (kind, job id, attempt) and the
//! relay's passes; the caller's `traceparent` is continued; no token or password is ever in what is sent.
//!
//! A test binary of its own: the export is a layer of the process-wide `tracing` subscriber, which can be
//! installed once per process, so it must not share a process with the other end-to-end tests. The fake
//! collector is a local HTTP server on port 0 accepting `POST /v1/traces` and decoding the protobuf bodies
//! with the OpenTelemetry protocol's own types.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use poem::listener::{Acceptor as _, Listener as _, TcpListener};
use poem::web::Data;
use poem::{EndpointExt as _, Route, handler, post};
use prost::Message as _;
use secrecy::SecretString;
use serde_json::json;
use tgos_api::config::{LogSettings, TelemetrySettings};
use tgos_tests::{Backend, TestOptions};

/// Every body the collector received.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<Vec<u8>>>>);

impl Received {
    fn bodies(&self) -> Vec<Vec<u8>> {
        self.0.lock().map(|bodies| bodies.clone()).unwrap_or_default()
    }
}

#[handler]
fn traces(body: Vec<u8>, received: Data<&Received>) -> poem::Response {
    if let Ok(mut bodies) = received.0.0.lock() {
        bodies.push(body);
    }
    // An empty ExportTraceServiceResponse: everything accepted.
    poem::Response::builder()
        .content_type("application/x-protobuf")
        .body(Vec::new())
}

/// Starts the fake collector; its address.
async fn collector(received: Received) -> anyhow::Result<std::net::SocketAddr> {
    let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await?;
    let addr = acceptor
        .local_addr()
        .first()
        .and_then(|addr| addr.as_socket_addr().copied())
        .context("the collector has no address")?;
    let app = Route::new().at("/v1/traces", post(traces)).data(received);
    tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(app));
    Ok(addr)
}

/// One exported span, flattened: its name, its attributes as text, its trace and parent ids (hex).
#[derive(Debug, Clone)]
struct Exported {
    name: String,
    attributes: HashMap<String, String>,
    trace_id: String,
    span_id: String,
    parent_span_id: String,
    server_kind: bool,
    service: String,
}

fn text(value: Option<&AnyValue>) -> String {
    match value.and_then(|value| value.value.as_ref()) {
        Some(any_value::Value::StringValue(text)) => text.clone(),
        Some(any_value::Value::IntValue(number)) => number.to_string(),
        Some(any_value::Value::BoolValue(flag)) => flag.to_string(),
        Some(any_value::Value::DoubleValue(number)) => number.to_string(),
        other => format!("{other:?}"),
    }
}

fn attributes(list: &[KeyValue]) -> HashMap<String, String> {
    list.iter()
        .map(|kv| (kv.key.clone(), text(kv.value.as_ref())))
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Every span in every body received so far.
fn spans(received: &Received) -> anyhow::Result<Vec<Exported>> {
    let mut spans = Vec::new();
    for body in received.bodies() {
        let request = ExportTraceServiceRequest::decode(body.as_slice()).context("a body is not OTLP protobuf")?;
        for resource_spans in request.resource_spans {
            let resource = resource_spans
                .resource
                .map(|resource| attributes(&resource.attributes))
                .unwrap_or_default();
            let service = resource.get("service.name").cloned().unwrap_or_default();
            for scope_spans in resource_spans.scope_spans {
                for span in scope_spans.spans {
                    spans.push(Exported {
                        name: span.name.clone(),
                        attributes: attributes(&span.attributes),
                        trace_id: hex(&span.trace_id),
                        span_id: hex(&span.span_id),
                        parent_span_id: hex(&span.parent_span_id),
                        // SPAN_KIND_SERVER
                        server_kind: span.kind == 2,
                        service: service.clone(),
                    });
                }
            }
        }
    }
    Ok(spans)
}

/// Waits until `found` holds of the spans received, or fails after 20 s with what arrived.
async fn until<F: Fn(&[Exported]) -> bool>(received: &Received, what: &str, found: F) -> anyhow::Result<Vec<Exported>> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let spans = spans(received)?;
        if found(&spans) {
            return Ok(spans);
        }
        if tokio::time::Instant::now() > deadline {
            let names: Vec<_> = spans.iter().map(|span| span.name.as_str()).collect();
            anyhow::bail!("no {what} among the exported spans: {names:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_jobs_and_relay_passes_reach_the_collector_as_spans_without_secrets() -> anyhow::Result<()> {
    let received = Received::default();
    let addr = collector(received.clone()).await?;
    // The server's own spans and the request spans; other crates' lines stay quiet.
    let log = LogSettings {
        filter: "warn,tgos_api::http::access_log=info,tgos_domain=info".into(),
        format: "text".into(),
    };
    let telemetry = tgos_api::telemetry::init(
        &log,
        &TelemetrySettings {
            otlp_endpoint: Some(SecretString::from(format!("http://{addr}"))),
            service_name: "tgos-otlp-test".into(),
        },
    );
    assert!(telemetry.exporting(), "the export started");

    let checked = received.clone();
    Backend::Sqlite
        .run(TestOptions::default(), move |app| async move {
            let received = checked;
            let token = app.sign_up("otel").await?;
            let request_id = format!("otlp-{}", uuid::Uuid::now_v7().simple());
            let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
            let response = app
                .http()
                .post(app.url("/graphql"))
                .bearer_auth(&token)
                .header("x-request-id", &request_id)
                .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-00"))
                .json(&json!({
                    "query": "mutation NewWorkspace($n: String!) { createWorkspace(name: $n) { name } }",
                    "variables": { "n": "Traced" },
                }))
                .send()
                .await?;
            assert_eq!(response.status(), 200);
            let body: serde_json::Value = response.json().await?;
            assert_eq!(
                body.pointer("/data/createWorkspace/name"),
                Some(&json!("Traced")),
                "{body}"
            );

            // A job: this hour's retention sweep, which the server's job worker claims and runs.
            assert!(tgos_domain::retention::enqueue_hourly(&*app.store, chrono::Utc::now()).await?);

            let spans = until(&received, "request span with the request id", |spans| {
                spans
                    .iter()
                    .any(|span| span.attributes.get("request_id") == Some(&request_id))
            })
            .await?;
            let request = spans
                .iter()
                .find(|span| span.attributes.get("request_id") == Some(&request_id))
                .context("the request's span")?;
            assert_eq!(request.name, "POST /graphql", "{request:?}");
            assert!(request.server_kind, "a server span: {request:?}");
            assert_eq!(request.service, "tgos-otlp-test");
            for (key, value) in [
                ("method", "POST"),
                ("route", "/graphql"),
                ("operation", "NewWorkspace"),
                ("status", "200"),
            ] {
                assert_eq!(
                    request.attributes.get(key).map(String::as_str),
                    Some(value),
                    "{key}: {request:?}"
                );
            }
            assert_eq!(
                request.trace_id, trace_id,
                "the caller's trace is continued, though not sampled"
            );
            assert_eq!(request.parent_span_id, "00f067aa0ba902b7");
            // The use case the resolver called runs under the request's span, in its trace.
            let spans = until(&received, "the use case's span", |spans| {
                spans.iter().any(|span| span.name == "create_workspace")
            })
            .await?;
            let use_case = spans
                .iter()
                .find(|span| span.name == "create_workspace")
                .context("the use case's span")?;
            assert_eq!(use_case.trace_id, trace_id, "{use_case:?}");
            assert_eq!(use_case.parent_span_id, request.span_id, "{use_case:?}");

            let sweep = |span: &&Exported| {
                span.name == "job" && span.attributes.get("kind").map(String::as_str) == Some("retention.sweep")
            };
            let spans = until(&received, "job span of the retention sweep", |spans| {
                spans.iter().any(|span| sweep(&span))
            })
            .await?;
            let job = spans.iter().find(sweep).context("the job's span")?;
            assert_eq!(job.attributes.get("attempt").map(String::as_str), Some("1"), "{job:?}");
            assert_eq!(
                job.attributes.get("job_id").map(String::len),
                Some(36),
                "a job id: {job:?}"
            );
            until(&received, "relay pass", |spans| {
                spans
                    .iter()
                    .any(|span| span.name == "relay_pass" && span.attributes.contains_key("published"))
            })
            .await?;

            for body in received.bodies() {
                for secret in [token.as_bytes(), tgos_tests::app::PASSWORD.as_bytes()] {
                    assert!(
                        !body.windows(secret.len()).any(|window| window == secret),
                        "a secret was exported"
                    );
                }
            }
            Ok(())
        })
        .await?;
    telemetry.shutdown().await;
    Ok(())
}
