//! [`SandboxNetwork`]: the simulated Telegram network and its test API (register accounts, script contacts,
//! inject faults). Cheap to clone; every clone is the same network.
//!
//! Rules:
//! - Accounts are identified by their Telegram user id ([`sandbox_user_id`](super::sandbox_user_id) for a
//!   session). Connecting an unknown, valid session registers it, so imported accounts work at once.
//! - Scripted contacts write to an account, edit and delete what they wrote; they never read or answer.
//! - An outage ([`SandboxNetwork::set_offline`]) drops an account's connections and refuses new ones with
//!   `Network` until it ends; the session stays valid.
//! - The journal of each account keeps the newest `journal_capacity` updates (default
//!   [`SandboxNetwork::DEFAULT_JOURNAL_CAPACITY`]).

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tgos_domain::accounts::gateway::{GatewayUpdate, PeerKey, RemoteMessage, check_caption, check_outgoing_text};
use tgos_domain::clock::{Clock, SystemClock};
use tgos_domain::ids::AccountId;

use super::error::SandboxError;
use super::fault::SandboxFault;
use super::mailbox::Stored;
use super::media::SandboxFile;
use super::world::{Profile, World, message};

#[derive(Debug, Clone)]
pub struct SandboxNetwork {
    world: Arc<Mutex<World>>,
    clock: Arc<dyn Clock>,
}

impl Default for SandboxNetwork {
    fn default() -> Self {
        Self::new()
    }
}

impl SandboxNetwork {
    pub const DEFAULT_JOURNAL_CAPACITY: usize = 10_000;

    /// An empty network on the wall clock.
    pub fn new() -> Self {
        Self::with(Arc::new(SystemClock), Self::DEFAULT_JOURNAL_CAPACITY)
    }

    /// An empty network on `clock`, keeping `journal_capacity` updates per account (at least 1).
    pub fn with(clock: Arc<dyn Clock>, journal_capacity: usize) -> Self {
        Self {
            world: Arc::new(Mutex::new(World::new(journal_capacity))),
            clock,
        }
    }

    /// Creates the account, or renames it; registering again is a new sign-in and lifts `SessionInvalid`.
    pub fn register_account(&self, user_id: i64, name: &str, username: Option<&str>) -> Result<(), SandboxError> {
        self.world().register(
            user_id,
            Profile {
                name: name.to_owned(),
                username: username.map(str::to_owned),
            },
        )?;
        tracing::debug!(user_id, "sandbox account registered");
        Ok(())
    }

    /// Creates the account if the network does not know it yet; unlike [`Self::register_account`] it never
    /// signs an existing account in again, so an injected `SessionInvalid` stays in force.
    pub fn ensure_account(&self, user_id: i64, name: &str, username: Option<&str>) -> Result<(), SandboxError> {
        let mut world = self.world();
        if world.mailbox(user_id).is_ok() {
            return Ok(());
        }
        world.register(
            user_id,
            Profile {
                name: name.to_owned(),
                username: username.map(str::to_owned),
            },
        )
    }

    /// The sandbox user an account connected as, once it has connected.
    pub fn user_id_of(&self, account: AccountId) -> Option<i64> {
        self.world().bindings.get(&account).copied()
    }

    /// The contact named `contact` (created on first use, with an id stable for its name) writes `text` to
    /// the account. Returns the message as the account received it.
    pub fn contact_send(&self, account_user_id: i64, contact: &str, text: &str) -> Result<RemoteMessage, SandboxError> {
        check_outgoing_text(text)?;
        let now = self.clock.now();
        let mut world = self.world();
        world.mailbox(account_user_id)?;
        let peer = contact_peer(world.contact(contact)?)?;
        let mailbox = world.mailbox(account_user_id)?;
        let id = mailbox.allocate_message_id();
        let received = message(id, peer, false, text, now, None);
        mailbox.store(Stored {
            message: received.clone(),
            copies: Vec::new(),
            file: None,
        });
        Ok(received)
    }

    /// The contact named `contact` sends the account a file (a photo, a voice note, a document…) with
    /// `caption` (may be empty). Returns the message as the account received it, its media described.
    pub fn contact_send_media(
        &self,
        account_user_id: i64,
        contact: &str,
        caption: &str,
        file: SandboxFile,
    ) -> Result<RemoteMessage, SandboxError> {
        check_caption(caption)?;
        let now = self.clock.now();
        let mut world = self.world();
        world.mailbox(account_user_id)?;
        let peer = contact_peer(world.contact(contact)?)?;
        let mailbox = world.mailbox(account_user_id)?;
        let id = mailbox.allocate_message_id();
        let mut received = message(id, peer, false, caption, now, None);
        received.media = Some(file.info.clone());
        mailbox.store(Stored {
            message: received.clone(),
            copies: Vec::new(),
            file: Some(file.bytes),
        });
        Ok(received)
    }

    /// The bytes of the file of the account's message `id` in the dialog with `contact` (what the contact
    /// received, for a message the account sent), if it has one.
    pub fn file_in_contact_dialog(
        &self,
        account_user_id: i64,
        contact: &str,
        id: i32,
    ) -> Result<Option<Vec<u8>>, SandboxError> {
        let mut world = self.world();
        let peer = contact_peer(world.contact(contact)?)?;
        let mailbox = world.mailbox(account_user_id)?;
        Ok(mailbox
            .dialogs
            .get(&peer)
            .and_then(|dialog| dialog.messages.get(&id))
            .and_then(|stored| stored.file.as_ref())
            .map(|bytes| bytes.to_vec()))
    }

    /// The messages the account sent to the contact named `contact`, oldest first (what the contact received).
    pub fn sent_to_contact(&self, account_user_id: i64, contact: &str) -> Result<Vec<RemoteMessage>, SandboxError> {
        let mut world = self.world();
        let peer = contact_peer(world.contact(contact)?)?;
        let mailbox = world.mailbox(account_user_id)?;
        Ok(mailbox
            .dialogs
            .get(&peer)
            .map(|dialog| {
                dialog
                    .messages
                    .values()
                    .filter(|stored| stored.message.outgoing)
                    .map(|stored| stored.message.clone())
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The contact changes the text of message `id` it wrote to the account: an `EditedMessage` update.
    pub fn contact_edit(
        &self,
        account_user_id: i64,
        contact: &str,
        id: i32,
        text: &str,
    ) -> Result<RemoteMessage, SandboxError> {
        check_outgoing_text(text)?;
        let now = self.clock.now();
        let mut world = self.world();
        let peer = contact_peer(world.existing_contact(contact)?)?;
        let mailbox = world.mailbox(account_user_id)?;
        let stored = mailbox
            .dialogs
            .get_mut(&peer)
            .and_then(|dialog| dialog.messages.get_mut(&id))
            .ok_or(SandboxError::UnknownMessage(id))?;
        stored.message.text = text.to_owned();
        stored.message.edited_at = Some(now);
        let edited = stored.message.clone();
        mailbox.emit(GatewayUpdate::EditedMessage(edited.clone()));
        Ok(edited)
    }

    /// The contact deletes messages it wrote to the account, for everyone: one `DeletedMessages` update
    /// without a peer, listing the ids that existed (none, no update). Returns those ids.
    pub fn contact_delete(&self, account_user_id: i64, contact: &str, ids: &[i32]) -> Result<Vec<i32>, SandboxError> {
        let mut world = self.world();
        let peer = contact_peer(world.existing_contact(contact)?)?;
        let mailbox = world.mailbox(account_user_id)?;
        let deleted: Vec<i32> = match mailbox.dialogs.get_mut(&peer) {
            Some(dialog) => ids
                .iter()
                .copied()
                .filter(|id| dialog.messages.remove(id).is_some())
                .collect(),
            None => Vec::new(),
        };
        if !deleted.is_empty() {
            mailbox.emit(GatewayUpdate::DeletedMessages {
                peer: None,
                ids: deleted.clone(),
            });
        }
        Ok(deleted)
    }

    /// A basic group of sandbox accounts (the first member is its creator). Returns its peer key.
    pub fn create_group(&self, title: &str, members: &[i64]) -> Result<PeerKey, SandboxError> {
        let mut unique = Vec::with_capacity(members.len());
        for member in members {
            if !unique.contains(member) {
                unique.push(*member);
            }
        }
        self.world().create_group(title, unique)
    }

    /// Injects a fault into the account; see [`SandboxFault`] for when it fires and how long it lasts.
    pub fn inject_fault(&self, user_id: i64, fault: SandboxFault) -> Result<(), SandboxError> {
        let mut world = self.world();
        let mailbox = world.mailbox(user_id)?;
        match fault {
            SandboxFault::SessionInvalid => {
                mailbox.session_invalid = true;
                mailbox.close_all_connections();
            }
            SandboxFault::FloodWait { .. } | SandboxFault::PeerFlood => mailbox.send_faults.push_back(fault),
        }
        tracing::debug!(user_id, ?fault, "sandbox fault injected");
        Ok(())
    }

    /// A network outage for the account (`offline`), or its end: its open connections drop at once (their
    /// streams end, their calls fail with `Network`) and connecting fails with `Network` until it ends. Unlike
    /// `SessionInvalid`, the session stays valid and nothing is recorded on the account's health.
    pub fn set_offline(&self, user_id: i64, offline: bool) -> Result<(), SandboxError> {
        let mut world = self.world();
        let mailbox = world.mailbox(user_id)?;
        mailbox.offline = offline;
        if offline {
            mailbox.drop_all_connections();
        }
        tracing::debug!(user_id, offline, "sandbox network outage");
        Ok(())
    }

    /// How many times a session of the account tried to connect (refused attempts included), and how many of
    /// its connections are open now.
    pub fn connection_counts(&self, user_id: i64) -> Result<(u64, usize), SandboxError> {
        let mut world = self.world();
        let mailbox = world.mailbox(user_id)?;
        Ok((mailbox.connect_attempts, mailbox.open_connections()))
    }

    /// The account's next update is delivered twice (journal and live), with the same state. Calls add up.
    pub fn duplicate_next_update(&self, user_id: i64) -> Result<(), SandboxError> {
        self.world().mailbox(user_id)?.duplicate_next_update();
        Ok(())
    }

    pub(crate) fn world(&self) -> MutexGuard<'_, World> {
        // A panic while holding the lock leaves the data consistent enough for a simulation.
        self.world.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }
}

fn contact_peer(contact_id: i64) -> Result<PeerKey, SandboxError> {
    PeerKey::user(contact_id).map_err(|_| SandboxError::InvalidUserId(contact_id))
}
