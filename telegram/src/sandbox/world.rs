//! The whole simulated network behind one lock: who exists, and how a message or a read receipt travels.
//!
//! Rules:
//! - Users are sandbox accounts (registered or connected) or scripted contacts; contacts only write, they
//!   never read or answer.
//! - A message between two accounts is stored twice, each copy with its own id from its owner's sequence:
//!   outgoing in the sender's box, incoming in the recipient's, each reported once as a new message. A
//!   basic group message is stored once per member the same way.
//! - Reading incoming messages reports `ReadInbox` to the reader and `ReadOutbox` (in the sender's own ids)
//!   to each account whose messages were read.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use tgos_domain::accounts::gateway::{
    GatewayError, GatewayUpdate, Peer, PeerKey, PeerKind, RemoteDialog, RemoteMessage,
};
use tgos_domain::ids::AccountId;

use super::error::SandboxError;
use super::ids::{contact_user_id, is_contact_id, next_contact_user_id};
use super::mailbox::{Mailbox, Stored};
use super::media::SandboxFile;

#[derive(Debug, Clone)]
pub(crate) struct Profile {
    pub name: String,
    pub username: Option<String>,
}

#[derive(Debug)]
pub(crate) struct Group {
    pub title: String,
    pub members: Vec<i64>,
}

/// The longest name of a scripted contact, in characters (one line).
pub const MAX_CONTACT_NAME: usize = 64;
/// How many scripted contacts the network keeps: the sandbox is for demos and tests, and memory is bounded.
pub const MAX_CONTACTS: usize = 10_000;

/// A message to deliver, before ids are given.
pub(crate) struct Outgoing<'a> {
    pub from: i64,
    pub peer: PeerKey,
    pub text: &'a str,
    pub reply_to: Option<i32>,
    pub at: DateTime<Utc>,
    /// A file the message carries, described and held.
    pub file: Option<SandboxFile>,
}

#[derive(Debug)]
pub(crate) struct World {
    pub users: HashMap<i64, Profile>,
    contacts_by_name: HashMap<String, i64>,
    pub accounts: HashMap<i64, Mailbox>,
    groups: BTreeMap<i64, Group>,
    pub bindings: HashMap<AccountId, i64>,
    journal_capacity: usize,
    next_connection: u64,
}

impl World {
    pub fn new(journal_capacity: usize) -> Self {
        Self {
            users: HashMap::new(),
            contacts_by_name: HashMap::new(),
            accounts: HashMap::new(),
            groups: BTreeMap::new(),
            bindings: HashMap::new(),
            journal_capacity,
            next_connection: 1,
        }
    }

    pub fn next_connection_id(&mut self) -> u64 {
        let id = self.next_connection;
        self.next_connection += 1;
        id
    }

    /// Creates the account or updates its profile; a new sign-in clears a session invalidation.
    pub fn register(&mut self, user_id: i64, profile: Profile) -> Result<(), SandboxError> {
        PeerKey::user(user_id).map_err(|_| SandboxError::InvalidUserId(user_id))?;
        if self.contacts_by_name.values().any(|id| *id == user_id) {
            return Err(SandboxError::UserIdTaken(user_id));
        }
        self.users.insert(user_id, profile);
        let capacity = self.journal_capacity;
        self.accounts
            .entry(user_id)
            .or_insert_with(|| Mailbox::new(capacity))
            .session_invalid = false;
        Ok(())
    }

    pub fn mailbox(&mut self, user_id: i64) -> Result<&mut Mailbox, SandboxError> {
        self.accounts
            .get_mut(&user_id)
            .ok_or(SandboxError::UnknownAccount(user_id))
    }

    /// The contact of this name, created on first use.
    pub fn contact(&mut self, name: &str) -> Result<i64, SandboxError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(SandboxError::BlankContactName);
        }
        if name.chars().count() > MAX_CONTACT_NAME || name.contains(['\n', '\r']) {
            return Err(SandboxError::ContactNameTooLong);
        }
        if let Some(id) = self.contacts_by_name.get(name) {
            return Ok(*id);
        }
        if self.contacts_by_name.len() >= MAX_CONTACTS {
            return Err(SandboxError::TooManyContacts);
        }
        let mut id = contact_user_id(name);
        while self.users.contains_key(&id) {
            id = next_contact_user_id(id);
        }
        self.contacts_by_name.insert(name.to_owned(), id);
        self.users.insert(
            id,
            Profile {
                name: name.to_owned(),
                username: None,
            },
        );
        Ok(id)
    }

    pub fn existing_contact(&self, name: &str) -> Result<i64, SandboxError> {
        self.contacts_by_name
            .get(name.trim())
            .copied()
            .ok_or(SandboxError::UnknownContact)
    }

    pub fn create_group(&mut self, title: &str, members: Vec<i64>) -> Result<PeerKey, SandboxError> {
        if title.trim().is_empty() {
            return Err(SandboxError::BlankGroupTitle);
        }
        if let Some(unknown) = members.iter().find(|id| !self.accounts.contains_key(id)) {
            return Err(SandboxError::UnknownAccount(*unknown));
        }
        let chat_id = self.groups.keys().next_back().copied().unwrap_or(0) + 1;
        let key = PeerKey::group(chat_id).map_err(|_| SandboxError::InvalidUserId(chat_id))?;
        for member in &members {
            if let Some(mailbox) = self.accounts.get_mut(member) {
                mailbox.dialog_mut(key);
            }
        }
        self.groups.insert(
            chat_id,
            Group {
                title: title.trim().to_owned(),
                members,
            },
        );
        Ok(key)
    }

    /// How `viewer` sees `peer`, or `PeerInvalid` when it cannot see it.
    pub fn peer(&self, viewer: i64, key: PeerKey) -> Result<Peer, GatewayError> {
        match key.kind() {
            PeerKind::User => self
                .users
                .get(&key.bare_id())
                .map(|p| Peer::new(key, p.name.clone(), p.username.clone()))
                .ok_or(GatewayError::PeerInvalid),
            PeerKind::Group => self
                .groups
                .get(&key.bare_id())
                .filter(|group| group.members.contains(&viewer))
                .map(|group| Peer::new(key, group.title.clone(), None))
                .ok_or(GatewayError::PeerInvalid),
            PeerKind::Channel => Err(GatewayError::PeerInvalid),
        }
    }

    pub fn dialogs(&self, viewer: i64, limit: usize) -> Result<Vec<RemoteDialog>, GatewayError> {
        let mailbox = self.accounts.get(&viewer).ok_or(GatewayError::SessionInvalid)?;
        let mut dialogs = mailbox
            .dialogs
            .iter()
            .map(|(key, dialog)| {
                Ok(RemoteDialog {
                    peer: self.peer(viewer, *key)?,
                    top_message_id: dialog.top_message_id(),
                    unread_count: dialog.unread_count(),
                    read_inbox_max_id: dialog.read_inbox_max_id,
                    last_message: dialog.messages.values().next_back().map(|s| s.message.clone()),
                })
            })
            .collect::<Result<Vec<_>, GatewayError>>()?;
        // One id sequence per account: a higher top message is a more recent one.
        dialogs.sort_by_key(|dialog| std::cmp::Reverse(dialog.top_message_id));
        dialogs.truncate(limit);
        Ok(dialogs)
    }

    /// Delivers a message from an account and returns the sender's copy.
    pub fn send(&mut self, out: Outgoing<'_>) -> Result<RemoteMessage, GatewayError> {
        let sender = self.accounts.get(&out.from).ok_or(GatewayError::SessionInvalid)?;
        let reply = match out.reply_to {
            Some(id) => Some(
                sender
                    .dialogs
                    .get(&out.peer)
                    .and_then(|dialog| dialog.messages.get(&id))
                    .ok_or_else(|| GatewayError::Other("the message replied to does not exist".into()))?
                    .clone(),
            ),
            None => None,
        };
        let recipients: Vec<i64> = match out.peer.kind() {
            PeerKind::User => {
                let to = out.peer.bare_id();
                if let std::collections::hash_map::Entry::Vacant(unknown) = self.users.entry(to) {
                    // A scripted contact exists wherever it is written to: another process's simulated network
                    // (a replica's) knows the dialog's peer by its id alone.
                    if !is_contact_id(to) {
                        return Err(GatewayError::PeerInvalid);
                    }
                    unknown.insert(Profile {
                        name: format!("Sandbox contact {to}"),
                        username: None,
                    });
                }
                // Contacts and the account itself (Saved Messages) keep no copy of their own.
                if to != out.from && self.accounts.contains_key(&to) {
                    vec![to]
                } else {
                    Vec::new()
                }
            }
            PeerKind::Group => {
                let group = self
                    .groups
                    .get(&out.peer.bare_id())
                    .filter(|group| group.members.contains(&out.from))
                    .ok_or(GatewayError::PeerInvalid)?;
                group.members.iter().copied().filter(|id| *id != out.from).collect()
            }
            PeerKind::Channel => return Err(GatewayError::PeerInvalid),
        };

        let sender_peer = PeerKey::user(out.from).map_err(|_| GatewayError::SessionInvalid)?;
        let sender_id = self.mailbox_or_invalid(out.from)?.allocate_message_id();
        let mut copies = Vec::with_capacity(recipients.len());
        for recipient in recipients {
            let peer = if out.peer.kind() == PeerKind::User {
                sender_peer
            } else {
                out.peer
            };
            let reply_to = reply.as_ref().and_then(|replied| copy_held_by(replied, recipient));
            let mailbox = self.mailbox_or_invalid(recipient)?;
            let id = mailbox.allocate_message_id();
            let mut received = message(id, peer, false, out.text, out.at, reply_to);
            received.media = out.file.as_ref().map(|file| file.info.clone());
            mailbox.store(Stored {
                message: received,
                copies: vec![(out.from, sender_id)],
                file: out.file.as_ref().map(|file| file.bytes.clone()),
            });
            copies.push((recipient, id));
        }
        let mut sent = message(sender_id, out.peer, true, out.text, out.at, out.reply_to);
        sent.media = out.file.as_ref().map(|file| file.info.clone());
        self.mailbox_or_invalid(out.from)?.store(Stored {
            message: sent.clone(),
            copies,
            file: out.file.map(|file| file.bytes),
        });
        Ok(sent)
    }

    /// Marks `reader`'s incoming messages of `peer` read up to `max_id` and sends the read receipts.
    pub fn mark_read(&mut self, reader: i64, peer: PeerKey, max_id: i32) -> Result<(), GatewayError> {
        let mailbox = self.mailbox_or_invalid(reader)?;
        let dialog = mailbox.dialogs.get_mut(&peer).ok_or(GatewayError::PeerInvalid)?;
        let new_max = max_id.min(dialog.top_message_id());
        if new_max <= dialog.read_inbox_max_id {
            return Ok(());
        }
        let mut receipts: BTreeMap<i64, i32> = BTreeMap::new();
        for stored in dialog
            .messages
            .range(dialog.read_inbox_max_id + 1..=new_max)
            .map(|(_, s)| s)
        {
            if stored.message.outgoing {
                continue;
            }
            for (owner, id) in &stored.copies {
                let entry = receipts.entry(*owner).or_insert(*id);
                *entry = (*entry).max(*id);
            }
        }
        dialog.read_inbox_max_id = new_max;
        mailbox.emit(GatewayUpdate::ReadInbox { peer, max_id: new_max });

        let reader_key = PeerKey::user(reader).map_err(|_| GatewayError::SessionInvalid)?;
        let owner_peer = if peer.kind() == PeerKind::User {
            reader_key
        } else {
            peer
        };
        for (owner, id) in receipts {
            let Some(owner_box) = self.accounts.get_mut(&owner) else {
                continue;
            };
            let dialog = owner_box.dialog_mut(owner_peer);
            if id > dialog.read_outbox_max_id {
                dialog.read_outbox_max_id = id;
                owner_box.emit(GatewayUpdate::ReadOutbox {
                    peer: owner_peer,
                    max_id: id,
                });
            }
        }
        Ok(())
    }

    fn mailbox_or_invalid(&mut self, user_id: i64) -> Result<&mut Mailbox, GatewayError> {
        self.accounts.get_mut(&user_id).ok_or(GatewayError::SessionInvalid)
    }
}

/// The id `recipient` knows the replied-to message by: its own copy, or the one sent to it.
fn copy_held_by(replied: &Stored, recipient: i64) -> Option<i32> {
    replied
        .copies
        .iter()
        .find(|(owner, _)| *owner == recipient)
        .map(|(_, id)| *id)
}

pub(crate) fn message(
    id: i32,
    peer: PeerKey,
    outgoing: bool,
    text: &str,
    at: DateTime<Utc>,
    reply_to: Option<i32>,
) -> RemoteMessage {
    RemoteMessage {
        id,
        peer,
        outgoing,
        text: text.to_owned(),
        sent_at: at,
        edited_at: None,
        reply_to,
        media: None,
    }
}

/// True when no account may sign in with this id because a contact holds it.
pub(crate) fn reserved_for_contacts(world: &World, user_id: i64) -> bool {
    is_contact_id(user_id) && world.users.contains_key(&user_id) && !world.accounts.contains_key(&user_id)
}
