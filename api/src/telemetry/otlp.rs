//! The span export: tracing-opentelemetry over an OTLP/HTTP (protobuf) exporter, batched on a thread of its
//! own, and the W3C `traceparent` of an incoming request continued.
//!
//! Rules:
//! - Every span is recorded and exported (the sampler is always on): a client's `traceparent` links our
//!   spans into its trace but cannot switch them off by sending "not sampled".
//! - The exporter's own HTTP client never feeds spans back into the export (its crates' spans and events are
//!   filtered out of it).
//! - The endpoint is logged without its credentials.

use std::time::Duration;

use opentelemetry::propagation::{Extractor, TextMapPropagator as _};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{BatchSpanProcessor, Sampler, SdkTracerProvider};
use poem::http::HeaderMap;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::registry::LookupSpan;

use crate::config::TelemetrySettings;

/// How long one export may take before it is given up.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long spans wait in the batch before they are sent.
const BATCH_DELAY: Duration = Duration::from_secs(2);

/// Crates whose spans are never exported: the exporter's own transport, which would otherwise trace itself.
const NOT_EXPORTED: [&str; 5] = ["opentelemetry", "reqwest", "hyper", "h2", "tower"];

/// The running export: the tracer provider that batches and sends spans.
pub struct Exporter {
    provider: SdkTracerProvider,
    endpoint: String,
}

impl std::fmt::Debug for Exporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exporter").field("endpoint", &self.endpoint).finish()
    }
}

impl Exporter {
    /// Where spans go, without credentials.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Sends what is buffered and stops. Blocking.
    pub fn shutdown(self) {
        if let Err(error) = self.provider.shutdown_with_timeout(EXPORT_TIMEOUT) {
            tracing::warn!(%error, "the span exporter did not shut down cleanly; some spans may be lost");
        }
    }
}

/// Starts the export when `settings` names an endpoint: the exporter, and the layer that feeds it.
pub fn start<S>(settings: &TelemetrySettings) -> anyhow::Result<Option<(Exporter, impl Layer<S> + use<S>)>>
where
    S: tracing::Subscriber + for<'span> LookupSpan<'span>,
{
    let Some(url) = settings.traces_url() else {
        return Ok(None);
    };
    let endpoint = without_credentials(&url);
    // The exporter's HTTP client is reqwest on rustls with no provider of its own: ring, as everywhere else.
    tgos_persistence::payments::install_tls_provider();
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
        .with_endpoint(url)
        .with_timeout(EXPORT_TIMEOUT)
        .build()
        .map_err(|error| anyhow::anyhow!("cannot build the OTLP exporter for {endpoint}: {error}"))?;
    let processor = BatchSpanProcessor::builder(exporter)
        .with_batch_config(
            opentelemetry_sdk::trace::BatchConfigBuilder::default()
                .with_scheduled_delay(BATCH_DELAY)
                .build(),
        )
        .build();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(processor)
        .with_sampler(Sampler::AlwaysOn)
        .with_resource(
            Resource::builder()
                .with_service_name(settings.service_name.clone())
                .with_attribute(opentelemetry::KeyValue::new(
                    "service.version",
                    env!("CARGO_PKG_VERSION"),
                ))
                .build(),
        )
        .build();
    let tracer = provider.tracer("tgos");
    let layer = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_filter(filter_fn(|metadata| {
            !NOT_EXPORTED.iter().any(|name| metadata.target().starts_with(name))
        }));
    Ok(Some((Exporter { provider, endpoint }, layer)))
}

/// Makes `span` a child of the trace the request's W3C `traceparent` (and `tracestate`) names, if it names
/// one; without the header, or without the export, nothing happens.
pub fn continue_trace(span: &tracing::Span, headers: &HeaderMap) {
    if !headers.contains_key("traceparent") {
        return;
    }
    let parent = TraceContextPropagator::new().extract_with_context(&opentelemetry::Context::new(), &Headers(headers));
    // Without the export there is no layer to set a parent on: nothing to do.
    let _no_export = span.set_parent(parent);
}

/// A request's headers as the propagator reads them.
struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(poem::http::HeaderName::as_str).collect()
    }
}

/// `url` without a `user:password@` part, for logs.
fn without_credentials(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    format!("{scheme}://{host}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_the_endpoint_are_not_logged() {
        assert_eq!(
            without_credentials("https://user:s3cret@otel.example:4318/v1/traces"),
            "https://otel.example:4318/v1/traces"
        );
        assert_eq!(
            without_credentials("http://collector:4318/v1/traces"),
            "http://collector:4318/v1/traces"
        );
        assert_eq!(
            without_credentials("http://collector:4318/v1/traces?x=a@b"),
            "http://collector:4318/v1/traces?x=a@b"
        );
    }
}
