//! The server knobs a test may turn ([`TestOptions`]), with the defaults every test starts from.

/// Server knobs a test may turn.
#[derive(Debug, Clone)]
pub struct TestOptions {
    pub account_lockout_threshold: u32,
    pub ip_lockout_threshold: u32,
    pub max_depth: Option<usize>,
    pub max_complexity: Option<usize>,
    pub sign_ups_per_ip_per_hour: u32,
    pub api_key_requests_per_minute: u32,
    /// Whether the server is given Stripe keys (pointing at the fake); off to test the unconfigured refusal.
    pub stripe_configured: bool,
    /// Events a subscriber may fall behind before it is disconnected (`events.subscriber_buffer`).
    pub subscriber_buffer: usize,
    /// Events each followed workspace keeps in memory (`events.live_window`).
    pub live_window: usize,
    /// How often open WebSockets are pinged (`events.keepalive_secs`).
    pub keepalive_secs: u64,
    /// Whether the server runs its background loops (`server.workers`): the outbox relay, the lease expiry
    /// sweep and the inbox sync (the last two on a day's tick in tests, which run them on demand).
    pub workers: bool,
    /// How long resolved credentials stay in memory (`auth.credential_cache_secs`).
    pub credential_cache_secs: u64,
    /// A session's idle timeout (`auth.session_idle_secs`).
    pub session_idle_secs: u64,
    /// How often open WebSockets check their caller again (`events.access_recheck_secs`).
    pub access_recheck_secs: u64,
    /// Networks whose requests may name the client in `X-Forwarded-For` (`server.trusted_proxies`).
    pub trusted_proxies: Vec<&'static str>,
    /// Run the production profile's defaults (`profile = "production"`), with a master key from the
    /// configuration and `/metrics` on its own port ([`TestApp::metrics_addr`]); the sandbox network stays.
    pub production: bool,
    /// Requests per minute of one signed-in user (`auth.user_requests_per_minute`).
    pub user_requests_per_minute: u32,
    /// Requests per minute of anonymous callers from one address (`auth.anonymous_requests_per_minute`).
    pub anonymous_requests_per_minute: u32,
    /// How long one request may run (`graphql.request_timeout_ms`).
    pub request_timeout_ms: u64,
    /// Whether automations' webhooks may go to private and loopback addresses
    /// (`automations.allow_private_webhooks`): on for tests with a local receiver.
    pub allow_private_webhooks: bool,
    /// Whether the server keeps accounts connected live (`telegram.live_connections`), scanning every second
    /// and renewing leases every 2 s so tests see renewals.
    pub live_connections: bool,
    /// The largest file `GET /media/<messageId>` streams (`telegram.media_max_bytes`).
    pub media_max_bytes: u64,
    /// The longest the relay, and the delivery watch of a process without one, wait between passes
    /// (`events.relay_tick_ms`).
    pub relay_tick_ms: u64,
    /// The NATS bus (`events.bus = "nats"`) at this URL with this subject prefix; `None`: the in-process bus.
    pub nats: Option<(String, String)>,
    /// Where limits count (`limits.store`); `None`: the server's default for the backend.
    pub limits_store: Option<tgos_api::config::LimitsStore>,
}

impl Default for TestOptions {
    fn default() -> Self {
        Self {
            account_lockout_threshold: 5,
            ip_lockout_threshold: 30,
            max_depth: None,
            max_complexity: None,
            sign_ups_per_ip_per_hour: 20,
            api_key_requests_per_minute: 600,
            stripe_configured: true,
            subscriber_buffer: 1024,
            live_window: 64,
            keepalive_secs: 30,
            workers: true,
            credential_cache_secs: 5,
            session_idle_secs: 7 * 24 * 60 * 60,
            access_recheck_secs: 60,
            trusted_proxies: Vec::new(),
            production: false,
            user_requests_per_minute: 600,
            anonymous_requests_per_minute: 300,
            request_timeout_ms: 30_000,
            allow_private_webhooks: false,
            live_connections: false,
            media_max_bytes: tgos_api::config::DEFAULT_MEDIA_MAX_BYTES,
            relay_tick_ms: 1000,
            nats: None,
            limits_store: None,
        }
    }
}

impl TestOptions {
    /// For tests that count the SQL statements of a request: nothing runs in the background (no relay tick,
    /// and no tick of the delivery watch of a process without a relay, adds its statements to the count), a
    /// caller's credentials stay cached for the whole test (no expiry makes a request read them again, however
    /// slowly the test's set-up runs), and limits count in memory (the database store's one statement per
    /// request is `limits-bench`'s to measure, not a read of what the request selects).
    pub fn counting_statements() -> Self {
        Self {
            workers: false,
            relay_tick_ms: 3_600_000,
            limits_store: Some(tgos_api::config::LimitsStore::Memory),
            credential_cache_secs: 3_600,
            ..Self::default()
        }
    }

    /// Thresholds high enough that throttling never decides a test about something else.
    pub fn lenient_lockout() -> Self {
        Self {
            account_lockout_threshold: 1000,
            ip_lockout_threshold: 1000,
            ..Self::default()
        }
    }
}
