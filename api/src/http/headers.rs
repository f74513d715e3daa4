//! Headers every response carries, whatever produced it (a handler, a 404, a caught panic).
//!
//! Rules: `X-Content-Type-Options: nosniff` (a browser never reinterprets a JSON answer or an asset as
//! something else) and `Referrer-Policy: no-referrer` (no URL of this server leaks to another site).
//! Pages add their own `Content-Security-Policy` (`http::graphiql`).

use poem::http::HeaderValue;
use poem::{Endpoint, IntoResponse as _, Request, Response, Result};

pub async fn security_headers<E: Endpoint>(next: E, req: Request) -> Result<Response> {
    let mut response = match next.call(req).await {
        Ok(output) => output.into_response(),
        Err(error) => error.into_response(),
    };
    let headers = response.headers_mut();
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    Ok(response)
}
