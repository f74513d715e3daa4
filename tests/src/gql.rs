//! GraphQL responses as tests read them.

use anyhow::Context as _;
use serde_json::Value;

#[derive(Debug, Clone)]
pub struct GqlResponse {
    pub status: u16,
    pub body: Value,
}

impl GqlResponse {
    pub async fn read(response: reqwest::Response) -> anyhow::Result<Self> {
        let status = response.status().as_u16();
        let text = response.text().await?;
        let body = serde_json::from_str(&text).with_context(|| format!("response is not JSON: {text}"))?;
        Ok(Self { status, body })
    }

    /// The value at a JSON pointer, or an error showing the whole body.
    pub fn at(&self, pointer: &str) -> anyhow::Result<&Value> {
        self.body
            .pointer(pointer)
            .filter(|v| !v.is_null())
            .with_context(|| format!("no value at {pointer} in {}", self.body))
    }

    pub fn str_at(&self, pointer: &str) -> anyhow::Result<String> {
        self.at(pointer)?
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("{pointer} is not a string in {}", self.body))
    }

    pub fn errors(&self) -> Vec<Value> {
        self.body
            .get("errors")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    }

    /// The `extensions.code` of the first error.
    pub fn code(&self) -> Option<String> {
        error_codes(self).into_iter().next()
    }

    pub fn is_ok(&self) -> bool {
        self.errors().is_empty()
    }
}

pub fn error_codes(response: &GqlResponse) -> Vec<String> {
    response
        .errors()
        .iter()
        .filter_map(|e| e.pointer("/extensions/code").and_then(Value::as_str).map(str::to_owned))
        .collect()
}
