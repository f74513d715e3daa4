//! Webhook deliveries over HTTP: the domain's [`WebhookSender`] with its SSRF guard.
//!
//! Rules (the domain's [`tgos_domain::webhooks`] states the policy; this is how the wire keeps it):
//! - **Check, then connect to what was checked.** The URL is parsed and checked by the domain's
//!   [`DestinationPolicy`]; a host name is resolved once here and every address it resolves to must be allowed.
//!   The request then goes through a client built for this delivery whose resolution is pinned to exactly those
//!   addresses ([`reqwest::ClientBuilder::resolve_to_addrs`]) and whose resolver refuses every other name, so a
//!   second DNS answer (rebinding) is never asked for, let alone used.
//! - **Nothing else decides where the request goes**: no proxy (a system proxy would resolve the name itself),
//!   no redirects (a 3xx is [`DeliveryError::Rejected`]), no retries inside the client (the caller retries).
//! - **Bounded**: the whole attempt is limited by the sender's timeout (10 s by default), connecting and
//!   resolving by at most 5 s of it; the response body is never read.
//! - **Quiet**: errors and logs name the host, the status and the event, never the secret, the body, the
//!   path or the query.
//!
//! A client per delivery costs a TLS set-up and a connection each time; deliveries are rare next to requests,
//! and a shared pool would let a connection made to one checked address serve a later, differently resolved
//! delivery.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tgos_domain::webhooks::{
    DeliveryError, DeliveryReceipt, Destination, DestinationHost, DestinationPolicy, WebhookDelivery, WebhookSender,
    headers, response_outcome, signature_header,
};

/// How long one delivery attempt may take when the configuration says nothing.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The most of an attempt's time that resolving and connecting may take.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Resolves host names to addresses: the system resolver in production, a table in tests.
#[async_trait]
pub trait HostLookup: Send + Sync + std::fmt::Debug {
    async fn lookup(&self, host: &str, port: u16) -> std::io::Result<Vec<IpAddr>>;
}

/// The operating system's resolver (`getaddrinfo`, through tokio).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemLookup;

#[async_trait]
impl HostLookup for SystemLookup {
    async fn lookup(&self, host: &str, port: u16) -> std::io::Result<Vec<IpAddr>> {
        Ok(tokio::net::lookup_host((host, port))
            .await?
            .map(|addr| addr.ip())
            .collect())
    }
}

/// Refuses to resolve anything: the fallback under the pinned addresses, so a name that was not checked
/// cannot be resolved by the client.
struct PinnedOnly;

impl reqwest::dns::Resolve for PinnedOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let message = format!("{} was not checked before connecting", name.as_str());
        Box::pin(std::future::ready(Err(message.into())))
    }
}

/// Why a URL cannot be sent to now.
enum Unsendable {
    /// The policy refuses it: never retried.
    Blocked(String),
    /// Its name did not resolve (maybe for now): retried.
    Unresolved(String),
}

impl Unsendable {
    fn message(self) -> String {
        match self {
            Self::Blocked(message) | Self::Unresolved(message) => message,
        }
    }
}

/// Delivers webhooks with reqwest, allowing only what the [`DestinationPolicy`] allows.
#[derive(Debug)]
pub struct HttpWebhookSender {
    policy: DestinationPolicy,
    timeout: Duration,
    lookup: Arc<dyn HostLookup>,
}

impl HttpWebhookSender {
    /// A sender resolving with the system resolver; `timeout` bounds each attempt ([`DEFAULT_TIMEOUT`]).
    pub fn new(policy: DestinationPolicy, timeout: Duration) -> Self {
        Self::with_lookup(policy, timeout, Arc::new(SystemLookup))
    }

    /// A sender resolving host names with `lookup`.
    pub fn with_lookup(policy: DestinationPolicy, timeout: Duration, lookup: Arc<dyn HostLookup>) -> Self {
        crate::payments::install_tls_provider();
        Self {
            policy,
            timeout,
            lookup,
        }
    }

    fn connect_timeout(&self) -> Duration {
        self.timeout.min(MAX_CONNECT_TIMEOUT)
    }

    /// The checked destination and the addresses to connect to: the literal's, or every address the name
    /// resolves to, all allowed.
    async fn checked(&self, url: &str) -> Result<(Destination, Vec<SocketAddr>), Unsendable> {
        let destination = self.policy.check_url(url).map_err(Unsendable::Blocked)?;
        let port = destination.port();
        let addrs = match destination.host() {
            DestinationHost::Address(addr) => vec![*addr],
            DestinationHost::Name(name) => {
                let resolved = tokio::time::timeout(self.connect_timeout(), self.lookup.lookup(name, port)).await;
                let addrs = match resolved {
                    Ok(Ok(addrs)) => addrs,
                    Ok(Err(_)) => return Err(Unsendable::Unresolved(format!("{name} does not resolve"))),
                    Err(_) => return Err(Unsendable::Unresolved(format!("resolving {name} timed out"))),
                };
                self.policy.check_addresses(name, &addrs).map_err(Unsendable::Blocked)?;
                addrs
            }
        };
        let addrs = addrs.into_iter().map(|addr| SocketAddr::new(addr, port)).collect();
        Ok((destination, addrs))
    }

    /// A client that can reach only `addrs`, for `destination` alone.
    fn client(&self, destination: &Destination, addrs: &[SocketAddr]) -> Result<reqwest::Client, DeliveryError> {
        let mut builder = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .retry(reqwest::retry::never())
            .referer(false)
            .https_only(!self.policy.allow_private)
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout())
            .user_agent(headers::USER_AGENT)
            .dns_resolver(PinnedOnly);
        if let DestinationHost::Name(name) = destination.host() {
            builder = builder.resolve_to_addrs(name, addrs);
        }
        builder
            .build()
            .map_err(|_| DeliveryError::Retryable("the HTTP client cannot be built".to_owned()))
    }
}

/// A transport failure in words: what went wrong and its innermost cause (an I/O or TLS error, which carries
/// no URL), never reqwest's own text, which names the whole URL.
fn transport_failure(host: &str, error: &reqwest::Error) -> DeliveryError {
    let what = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "the request failed"
    };
    let root = std::iter::successors(std::error::Error::source(error), |cause| cause.source()).last();
    DeliveryError::Retryable(match root {
        Some(root) => format!("{host}: {what} ({root})"),
        None => format!("{host}: {what}"),
    })
}

#[async_trait]
impl WebhookSender for HttpWebhookSender {
    async fn check_destination(&self, url: &str) -> Result<(), String> {
        self.checked(url).await.map(|_| ()).map_err(Unsendable::message)
    }

    #[tracing::instrument(skip_all, fields(event = %delivery.event, delivery = %delivery.delivery_id))]
    async fn deliver(&self, delivery: &WebhookDelivery, now: DateTime<Utc>) -> Result<DeliveryReceipt, DeliveryError> {
        let (destination, addrs) = self.checked(&delivery.url).await.map_err(|refusal| match refusal {
            Unsendable::Blocked(message) => {
                tracing::warn!(reason = %message, "webhook destination refused");
                DeliveryError::Blocked(message)
            }
            Unsendable::Unresolved(message) => DeliveryError::Retryable(message),
        })?;
        let host = destination.host_text();
        let signature = signature_header(delivery.secret.as_bytes(), now.timestamp(), &delivery.body);
        let client = self.client(&destination, &addrs)?;
        let request = client
            .post(destination.url())
            .header(reqwest::header::CONTENT_TYPE, headers::CONTENT_TYPE)
            .header(headers::EVENT, delivery.event.as_str())
            .header(headers::DELIVERY, delivery.delivery_id.as_str())
            .header(headers::SIGNATURE, signature)
            .body(delivery.body.clone())
            .build()
            .map_err(|_| DeliveryError::Blocked("the event name or delivery id is not a valid header value".into()))?;
        let response = client
            .execute(request)
            .await
            .map_err(|error| transport_failure(&host, &error))?;
        let status = response.status().as_u16();
        // The body is not read: dropping the response closes the connection.
        drop(response);
        let outcome = response_outcome(status);
        tracing::debug!(%host, status, delivered = outcome.is_ok(), "webhook attempt answered");
        outcome
    }
}
