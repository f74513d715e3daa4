//! `[telemetry]`: where spans are exported (OpenTelemetry over OTLP/HTTP), if anywhere.

use secrecy::SecretString;
use serde::Deserialize;

/// The service name spans carry when `telemetry.service_name` is not set.
pub const DEFAULT_SERVICE_NAME: &str = "tgos";

/// The tracing export's settings (docs/CONFIGURATION.md). Unset endpoint: nothing is exported and nothing
/// changes.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct TelemetrySettings {
    /// The OTLP/HTTP collector's base URL, e.g. `http://127.0.0.1:4318`: spans are sent as protobuf to
    /// `<endpoint>/v1/traces` (a URL already ending in `/v1/traces` is used as it is). A secret because a
    /// collector URL may carry credentials.
    pub otlp_endpoint: Option<SecretString>,
    /// The `service.name` of every span this process exports.
    pub service_name: String,
}

impl Default for TelemetrySettings {
    fn default() -> Self {
        Self {
            otlp_endpoint: None,
            service_name: DEFAULT_SERVICE_NAME.to_owned(),
        }
    }
}

impl TelemetrySettings {
    /// Where spans are posted: the endpoint with `/v1/traces`, or `None` when no export is configured (an
    /// empty value counts as unset, so `TGOS_TELEMETRY__OTLP_ENDPOINT=` turns it off).
    pub fn traces_url(&self) -> Option<String> {
        let endpoint = secrecy::ExposeSecret::expose_secret(self.otlp_endpoint.as_ref()?).trim();
        if endpoint.is_empty() {
            return None;
        }
        let base = endpoint.trim_end_matches('/');
        Some(if base.ends_with("/v1/traces") {
            base.to_owned()
        } else {
            format!("{base}/v1/traces")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(endpoint: Option<&str>) -> TelemetrySettings {
        TelemetrySettings {
            otlp_endpoint: endpoint.map(|e| SecretString::from(e.to_owned())),
            ..TelemetrySettings::default()
        }
    }

    #[test]
    fn the_traces_url_is_the_endpoint_with_the_signal_path_once() {
        assert_eq!(with(None).traces_url(), None);
        assert_eq!(with(Some("  ")).traces_url(), None);
        for (endpoint, url) in [
            ("http://collector:4318", "http://collector:4318/v1/traces"),
            ("http://collector:4318/", "http://collector:4318/v1/traces"),
            ("https://otel.example/v1/traces", "https://otel.example/v1/traces"),
        ] {
            assert_eq!(with(Some(endpoint)).traces_url().as_deref(), Some(url), "{endpoint}");
        }
        assert_eq!(TelemetrySettings::default().service_name, "tgos");
    }
}
