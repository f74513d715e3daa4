//! Shared set-up: a network on a fixed clock, sessions, connected accounts, draining update streams.

use std::sync::Arc;

use chrono::{DateTime, TimeZone as _, Utc};
use tgos_domain::accounts::gateway::{
    GatewayConnection, GatewayUpdate, Next, PeerKey, StampedUpdate, TelegramGateway, UpdateStream,
};
use tgos_domain::accounts::{AuthKey, DcId, TelegramSession};
use tgos_domain::clock::Clock;
use tgos_domain::ids::AccountId;
use tgos_telegram::sandbox::{SandboxGateway, SandboxNetwork};

pub const ALICE: i64 = 1001;
pub const BOB: i64 = 1002;
pub const CAROL: i64 = 1003;

#[derive(Debug)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

pub fn noon() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap()
}

pub fn gateway() -> SandboxGateway {
    gateway_with_journal(SandboxNetwork::DEFAULT_JOURNAL_CAPACITY)
}

pub fn gateway_with_journal(capacity: usize) -> SandboxGateway {
    let gateway = SandboxGateway::new(SandboxNetwork::with(Arc::new(FixedClock(noon())), capacity));
    let network = gateway.network();
    network.register_account(ALICE, "Alice", Some("alice")).unwrap();
    network.register_account(BOB, "Bob", Some("bob")).unwrap();
    network.register_account(CAROL, "Carol", None).unwrap();
    gateway
}

pub fn key(seed: u8) -> AuthKey {
    AuthKey::from_bytes(&[seed; AuthKey::LEN]).unwrap()
}

pub fn session(user_id: i64) -> TelegramSession {
    let seed = u8::try_from(user_id % 250).unwrap() + 1;
    TelegramSession::new(DcId::new(2).unwrap(), key(seed))
        .with_user_id(user_id)
        .unwrap()
}

pub async fn connect(gateway: &SandboxGateway, user_id: i64) -> Arc<dyn GatewayConnection> {
    gateway.connect(AccountId::generate(), &session(user_id)).await.unwrap()
}

pub fn user(id: i64) -> PeerKey {
    PeerKey::user(id).unwrap()
}

/// Everything the stream holds right now.
pub fn drain(stream: &mut UpdateStream) -> Vec<StampedUpdate> {
    let mut updates = Vec::new();
    while let Some(Next::Update(update)) = stream.try_next() {
        updates.push(update);
    }
    updates
}

/// Only the new-message updates, in order.
pub fn new_messages(updates: &[StampedUpdate]) -> Vec<&tgos_domain::accounts::gateway::RemoteMessage> {
    updates
        .iter()
        .filter_map(|u| match &u.update {
            GatewayUpdate::NewMessage(message) => Some(message),
            _ => None,
        })
        .collect()
}
