//! [`SandboxGateway`]: the [`TelegramGateway`] port over a [`SandboxNetwork`], and its connections.
//!
//! Rules:
//! - `connect` signs the session in as its sandbox user (registering an unknown one, named as its phone login
//!   names it when it is a phone-login user) and refuses an account whose session was invalidated.
//!   `is_sandbox()` is always true. `begin_login` starts a [`SandboxLogin`].
//! - A connection sees updates from the moment it connects; `updates_since` fills anything older that the
//!   account's journal still holds.
//! - After `disconnect` (or once dropped, or cut by an outage) calls fail with `Network`; after the session is
//!   invalidated they fail with `SessionInvalid`, even if the account signs in again.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use tgos_domain::accounts::TelegramSession;
use tgos_domain::accounts::gateway::{
    GatewayConnection, GatewayError, LoginFlow, MAX_PAGE, MediaDownload, OutgoingDocument, Peer, PeerKey, RemoteDialog,
    RemoteMessage, TelegramGateway, UpdateDifference, UpdateState, UpdateStream, check_caption, check_outgoing_text,
};
use tgos_domain::ids::AccountId;

use super::ids::sandbox_user_id;
use super::login::{SandboxLogin, login_profile};
use super::media::{self, SandboxFile};
use super::network::SandboxNetwork;
use super::world::{Outgoing, Profile, World, reserved_for_contacts};

/// The gateway of the simulated network. Clearly a sandbox: nothing reaches Telegram.
#[derive(Debug, Clone, Default)]
pub struct SandboxGateway {
    network: SandboxNetwork,
}

impl SandboxGateway {
    pub fn new(network: SandboxNetwork) -> Self {
        Self { network }
    }

    /// The network, for the sandbox-only test API (`sandboxContactSend`, `sandboxInjectFault`).
    pub fn network(&self) -> &SandboxNetwork {
        &self.network
    }
}

#[async_trait]
impl TelegramGateway for SandboxGateway {
    async fn connect(
        &self,
        account: AccountId,
        session: &TelegramSession,
    ) -> Result<Arc<dyn GatewayConnection>, GatewayError> {
        let user_id = sandbox_user_id(session);
        let mut world = self.network.world();
        if reserved_for_contacts(&world, user_id) {
            return Err(GatewayError::SessionInvalid);
        }
        if !world.accounts.contains_key(&user_id) {
            let profile = login_profile(user_id).unwrap_or_else(|| Profile {
                name: format!("Sandbox user {user_id}"),
                username: None,
            });
            world
                .register(user_id, profile)
                .map_err(|_| GatewayError::SessionInvalid)?;
        }
        let connection = world.next_connection_id();
        let mailbox = world.accounts.get_mut(&user_id).ok_or(GatewayError::SessionInvalid)?;
        mailbox.connect_attempts += 1;
        if mailbox.session_invalid {
            return Err(GatewayError::SessionInvalid);
        }
        if mailbox.offline {
            return Err(GatewayError::Network(
                "the sandbox network is down for this account".into(),
            ));
        }
        mailbox.open_connection(connection);
        world.bindings.insert(account, user_id);
        drop(world);
        tracing::debug!(%account, user_id, "sandbox connection opened");
        Ok(Arc::new(SandboxConnection {
            network: self.network.clone(),
            account,
            user_id,
            connection,
            closed: AtomicBool::new(false),
        }))
    }

    async fn begin_login(&self) -> Result<Box<dyn LoginFlow>, GatewayError> {
        Ok(Box::new(SandboxLogin::new(self.network.clone())))
    }

    fn is_sandbox(&self) -> bool {
        true
    }
}

/// One connection of one sandbox account.
#[derive(Debug)]
pub struct SandboxConnection {
    network: SandboxNetwork,
    account: AccountId,
    user_id: i64,
    connection: u64,
    closed: AtomicBool,
}

impl SandboxConnection {
    /// Sends once per `random_id`: a repeat answers the first message; a queued fault fails the send before
    /// `check` (a message's text rules or a caption's) looks at the text.
    fn send_once(
        &self,
        peer: PeerKey,
        text: &str,
        reply_to: Option<i32>,
        random_id: i64,
        file: Option<SandboxFile>,
        check: fn(&str) -> Result<(), GatewayError>,
    ) -> Result<RemoteMessage, GatewayError> {
        let at = self.network.clock().now();
        self.live(|world, me| {
            if let Some(first) = world.accounts.get(&me).and_then(|m| m.sent_with(random_id)) {
                return Ok(first.clone());
            }
            if let Some(fault) = world.accounts.get_mut(&me).and_then(|m| m.send_faults.pop_front()) {
                return Err(fault.error());
            }
            check(text)?;
            let sent = world.send(Outgoing {
                from: me,
                peer,
                text,
                reply_to,
                at,
                file,
            })?;
            if let Some(mailbox) = world.accounts.get_mut(&me) {
                mailbox.remember_sent(random_id, sent.clone());
            }
            Ok(sent)
        })
    }

    /// Runs `op` on the world if this connection is still live.
    fn live<T>(&self, op: impl FnOnce(&mut World, i64) -> Result<T, GatewayError>) -> Result<T, GatewayError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(closed());
        }
        let mut world = self.network.world();
        let Some(mailbox) = world.accounts.get(&self.user_id) else {
            return Err(GatewayError::SessionInvalid);
        };
        if !mailbox.session_invalid && mailbox.was_dropped(self.connection) {
            return Err(closed());
        }
        if mailbox.session_invalid || !mailbox.is_open(self.connection) {
            return Err(GatewayError::SessionInvalid);
        }
        op(&mut world, self.user_id)
    }
}

fn closed() -> GatewayError {
    GatewayError::Network("the sandbox connection is closed".into())
}

#[async_trait]
impl GatewayConnection for SandboxConnection {
    fn account(&self) -> AccountId {
        self.account
    }

    async fn me(&self) -> Result<Peer, GatewayError> {
        self.live(|world, me| {
            let key = PeerKey::user(me).map_err(|_| GatewayError::SessionInvalid)?;
            world.peer(me, key)
        })
    }

    async fn dialogs(&self, limit: usize) -> Result<Vec<RemoteDialog>, GatewayError> {
        self.live(|world, me| world.dialogs(me, limit.min(MAX_PAGE)))
    }

    async fn history(
        &self,
        peer: PeerKey,
        limit: usize,
        before_id: Option<i32>,
    ) -> Result<Vec<RemoteMessage>, GatewayError> {
        self.live(|world, me| {
            world.peer(me, peer)?;
            let Some(dialog) = world.accounts.get(&me).and_then(|mailbox| mailbox.dialogs.get(&peer)) else {
                return Ok(Vec::new());
            };
            let upper = before_id.unwrap_or(i32::MAX);
            Ok(dialog
                .messages
                .range(..upper)
                .rev()
                .take(limit.min(MAX_PAGE))
                .map(|(_, stored)| stored.message.clone())
                .collect())
        })
    }

    async fn send_message(
        &self,
        peer: PeerKey,
        text: &str,
        reply_to: Option<i32>,
        silent: bool,
    ) -> Result<RemoteMessage, GatewayError> {
        let at = self.network.clock().now();
        self.live(|world, me| {
            if let Some(fault) = world.accounts.get_mut(&me).and_then(|m| m.send_faults.pop_front()) {
                return Err(fault.error());
            }
            check_outgoing_text(text)?;
            // `silent` only spares the recipient a notification; the simulation has none to spare.
            tracing::trace!(user_id = me, silent, "sandbox message sent");
            world.send(Outgoing {
                from: me,
                peer,
                text,
                reply_to,
                at,
                file: None,
            })
        })
    }

    async fn send_message_once(
        &self,
        peer: PeerKey,
        text: &str,
        reply_to: Option<i32>,
        random_id: i64,
    ) -> Result<RemoteMessage, GatewayError> {
        self.send_once(peer, text, reply_to, random_id, None, check_outgoing_text)
    }

    async fn send_document_once(
        &self,
        peer: PeerKey,
        document: &OutgoingDocument,
        caption: &str,
        reply_to: Option<i32>,
        random_id: i64,
    ) -> Result<RemoteMessage, GatewayError> {
        let file = Some(SandboxFile::of_document(document));
        self.send_once(peer, caption, reply_to, random_id, file, check_caption)
    }

    async fn download_media(
        &self,
        peer: PeerKey,
        message_id: i32,
        max_bytes: u64,
    ) -> Result<MediaDownload, GatewayError> {
        self.live(|world, me| media::download(world, me, peer, message_id, max_bytes))
    }

    async fn mark_read(&self, peer: PeerKey, max_id: i32) -> Result<(), GatewayError> {
        self.live(|world, me| world.mark_read(me, peer, max_id))
    }

    async fn update_state(&self) -> Result<UpdateState, GatewayError> {
        self.live(|world, me| {
            world
                .accounts
                .get(&me)
                .map(|mailbox| mailbox.state())
                .ok_or(GatewayError::SessionInvalid)
        })
    }

    async fn updates_since(&self, state: UpdateState) -> Result<UpdateDifference, GatewayError> {
        self.live(|world, me| {
            world
                .accounts
                .get(&me)
                .map(|mailbox| mailbox.updates_since(state))
                .ok_or(GatewayError::SessionInvalid)
        })
    }

    fn subscribe(&self) -> UpdateStream {
        let receiver = if self.closed.load(Ordering::Acquire) {
            None
        } else {
            self.network
                .world()
                .accounts
                .get(&self.user_id)
                .and_then(|mailbox| mailbox.subscribe(self.connection))
        };
        // A dead connection gives a stream that is already closed.
        receiver.unwrap_or_else(UpdateStream::closed)
    }

    async fn disconnect(&self) {
        if !self.closed.swap(true, Ordering::AcqRel) {
            self.forget();
            tracing::debug!(account = %self.account, "sandbox connection closed");
        }
    }
}

impl SandboxConnection {
    fn forget(&self) {
        if let Some(mailbox) = self.network.world().accounts.get_mut(&self.user_id) {
            mailbox.close_connection(self.connection);
        }
    }
}

impl Drop for SandboxConnection {
    fn drop(&mut self) {
        self.forget();
    }
}
