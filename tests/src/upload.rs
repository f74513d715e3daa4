//! GraphQL multipart requests (the GraphQL multipart request spec), written by hand: one file bound to one
//! variable, as a browser's `FormData` would send it.

use serde_json::{Value, json};

use crate::TestApp;
use crate::gql::GqlResponse;

/// A file to upload.
#[derive(Debug, Clone)]
pub struct UploadFile<'a> {
    pub name: &'a str,
    pub mime_type: &'a str,
    pub bytes: &'a [u8],
}

/// The multipart body of `query` with `variables`, `file` bound to `variables.<variable>`; and its boundary.
pub fn multipart_body(query: &str, variables: &Value, variable: &str, file: &UploadFile<'_>) -> (Vec<u8>, String) {
    let boundary = format!("tgos-boundary-{}", uuid::Uuid::now_v7().simple());
    let operations = json!({ "query": query, "variables": variables }).to_string();
    let map = json!({ "0": [format!("variables.{variable}")] }).to_string();
    let mut body = Vec::with_capacity(file.bytes.len() + operations.len() + 512);
    for (name, value) in [("operations", operations), ("map", map)] {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"0\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
            file.name, file.mime_type
        )
        .as_bytes(),
    );
    body.extend_from_slice(file.bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (body, boundary)
}

impl TestApp {
    /// POSTs `query` as a multipart request with `file` bound to the variable `variable`.
    pub async fn gql_upload(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
        variable: &str,
        file: &UploadFile<'_>,
    ) -> anyhow::Result<GqlResponse> {
        let (body, boundary) = multipart_body(query, &variables, variable, file);
        let mut request = self
            .http()
            .post(self.url("/graphql"))
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        GqlResponse::read(request.send().await?).await
    }
}
