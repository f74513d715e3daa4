//! Request-scoped data: resolved once per HTTP request or WebSocket connection and put into the GraphQL
//! request's data, so resolvers read it with `ctx.data::<…>()` and never look at headers themselves.

use async_graphql::Context;
use tgos_domain::identity::Principal;
use tgos_domain::identity::use_cases::sessions::Authenticated;
use tgos_domain::request::ClientInfo;

use super::errors::{ApiError, ApiResult};
use tgos_domain::DomainError;

/// The caller, when credentials came with the request and are valid.
#[derive(Debug, Clone, Default)]
pub struct Caller(pub Option<Authenticated>);

impl Caller {
    /// The kind of caller, as the access log names it: `anonymous`, `user`, `staff` or `api_key`.
    pub fn kind(&self) -> &'static str {
        match self.0.as_ref().map(|auth| &auth.principal) {
            None => "anonymous",
            Some(Principal::User {
                acts_as_staff: true, ..
            }) => "staff",
            Some(Principal::User { .. }) => "user",
            Some(Principal::ApiKey { .. }) => "api_key",
        }
    }
}

/// The id that ties a response to its log lines.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The signed-in caller, or `UNAUTHENTICATED`.
pub fn signed_in<'a>(ctx: &Context<'a>) -> ApiResult<&'a Authenticated> {
    ctx.data_opt::<Caller>()
        .and_then(|caller| caller.0.as_ref())
        .ok_or(ApiError::from(DomainError::Unauthenticated))
}

pub fn principal<'a>(ctx: &Context<'a>) -> ApiResult<&'a Principal> {
    signed_in(ctx).map(|auth| &auth.principal)
}

pub fn client<'a>(ctx: &Context<'a>) -> ClientInfo {
    ctx.data_opt::<ClientInfo>().cloned().unwrap_or_default()
}

/// Subscriptions one connection may hold open at once (each holds a feed and, while replaying, a page of
/// events).
pub const MAX_SUBSCRIPTIONS_PER_CONNECTION: usize = 16;

/// What a WebSocket connection's resolvers tell the connection: the workspaces its open subscriptions follow
/// (so the connection re-checks membership of exactly those), and a request to close it with a code and
/// reason (a slow consumer). Absent over HTTP.
#[derive(Debug, Clone)]
pub struct ConnectionControl {
    watched: std::sync::Arc<std::sync::Mutex<Vec<tgos_domain::ids::WorkspaceId>>>,
    closes: tokio::sync::mpsc::Sender<(u16, String)>,
}

/// An open subscription's place on its connection; dropping it (the subscription ended) stops watching its
/// workspace.
#[derive(Debug)]
pub struct Watching {
    control: ConnectionControl,
    workspace: tgos_domain::ids::WorkspaceId,
}

impl Drop for Watching {
    fn drop(&mut self) {
        let mut watched = self.control.lock();
        if let Some(at) = watched.iter().position(|w| *w == self.workspace) {
            watched.swap_remove(at);
        }
    }
}

impl ConnectionControl {
    /// The control, and the receiver of close requests the connection listens to.
    pub fn new() -> (Self, tokio::sync::mpsc::Receiver<(u16, String)>) {
        let (closes, requests) = tokio::sync::mpsc::channel(1);
        let control = Self {
            watched: std::sync::Arc::default(),
            closes,
        };
        (control, requests)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<tgos_domain::ids::WorkspaceId>> {
        self.watched.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Registers a subscription following `workspace`; `None` when the connection holds the most it may.
    pub fn watch(&self, workspace: tgos_domain::ids::WorkspaceId) -> Option<Watching> {
        let mut watched = self.lock();
        if watched.len() >= MAX_SUBSCRIPTIONS_PER_CONNECTION {
            return None;
        }
        watched.push(workspace);
        Some(Watching {
            control: self.clone(),
            workspace,
        })
    }

    /// The workspaces open subscriptions follow (each once).
    pub fn watched(&self) -> Vec<tgos_domain::ids::WorkspaceId> {
        let mut watched = self.lock().clone();
        watched.sort_unstable();
        watched.dedup();
        watched
    }

    /// Asks the connection to close; the first request wins.
    pub fn close(&self, code: u16, reason: impl Into<String>) {
        let _ = self.closes.try_send((code, reason.into()));
    }
}
