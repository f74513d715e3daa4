//! One account's live MTProto connection: requests as the account, and its updates as they arrive.
//!
//! Rules:
//! - Every request goes through the connection's own sender pool, with the account's session only, and
//!   repeats at most once ([`super::retry`]); failures come back classified ([`super::errors`]).
//! - Peers are addressed with the access hashes Telegram gave this account; one that is not known yet is
//!   looked up in the dialog list once, and refused as `PeerInvalid` when still unknown.
//! - Updates are read in order by grammers' update machinery (gaps filled from Telegram) and published to
//!   subscribers; when the connection ends the stream ends, and the caller catches up with
//!   [`GatewayConnection::updates_since`].
//! - A send under a `random_id` answers the same message when repeated (remembered for the connection's
//!   life, else found in the dialog's recent history after Telegram's `RANDOM_ID_DUPLICATE`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};

use async_trait::async_trait;
use grammers_client::Client;
use grammers_session::Session as _;
use grammers_session::storages::MemorySession;
use grammers_session::types::{PeerId, PeerInfo};
use grammers_tl_types as tl;
use tgos_domain::accounts::TelegramSession;
use tgos_domain::accounts::gateway::{
    GatewayConnection, GatewayError, GatewayUpdate, MAX_PAGE, MediaDownload, OutgoingDocument, Peer, PeerKey, PeerKind,
    RemoteDialog, RemoteMessage, StampedUpdate, UpdateDifference, UpdateFanout, UpdateState, UpdateStream,
    check_outgoing_text,
};
use tgos_domain::ids::AccountId;
use tokio::task::JoinHandle;

use super::answers;
use super::errors::classify;
use super::media::{self, FileOnTelegram};
use super::session;
use super::state::CommonState;

/// How many updates a subscriber may fall behind before it is told to catch up (with `updates_since`). Each
/// slot is allocated up front: 64 cost about 13 KiB per connection, 1,024 would cost about 200 KiB
/// (`mtproto-memory`, docs/PERFORMANCE.md).
const FANOUT_BUFFER: usize = 64;
/// The largest gap `updates.getDifference` fills before answering "too long" (then the dialogs are re-read).
const DIFFERENCE_LIMIT: i32 = 10_000;
/// How many recent messages a channel gap re-reads.
const CHANNEL_GAP_MESSAGES: usize = 50;

/// An account's connection (see the module docs).
pub struct MtprotoConnection {
    pub(super) account: AccountId,
    pub(super) client: Client,
    pub(super) session: Arc<MemorySession>,
    pub(super) original: TelegramSession,
    pub(super) me: Peer,
    pub(super) position: Arc<Mutex<Position>>,
    pub(super) fanout: Weak<UpdateFanout>,
    pub(super) sent: Mutex<HashMap<i64, RemoteMessage>>,
    pub(super) tasks: Mutex<Vec<JoinHandle<()>>>,
    pub(super) closed: AtomicBool,
}

/// Where the account's update sequence stands, as last seen.
#[derive(Debug, Clone, Copy)]
pub struct Position {
    pub common: CommonState,
    pub qts: i32,
}

impl std::fmt::Debug for MtprotoConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MtprotoConnection")
            .field("account", &self.account)
            .field("closed", &self.closed.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// The publishing half of a connection's updates: the fan-out lives as long as the task that reads updates.
pub(super) fn fanout() -> Arc<UpdateFanout> {
    Arc::new(UpdateFanout::new(FANOUT_BUFFER))
}

impl MtprotoConnection {
    fn live(&self) -> Result<(), GatewayError> {
        if self.closed.load(Ordering::Acquire) {
            Err(GatewayError::Network("the connection is closed".to_owned()))
        } else {
            Ok(())
        }
    }

    pub(super) async fn invoke<R: tl::RemoteCall>(&self, request: &R) -> Result<R::Return, GatewayError> {
        self.live()?;
        self.client.invoke(request).await.map_err(|e| classify(&e))
    }

    /// Remembers the access hashes of the users and chats an answer named.
    pub(super) async fn cache(&self, users: &[tl::enums::User], chats: &[tl::enums::Chat]) {
        cache(&self.session, users, chats).await;
    }

    /// The input peer of `key`, with this account's access hash.
    pub(super) async fn input_peer(&self, key: PeerKey) -> Result<tl::enums::InputPeer, GatewayError> {
        if key.kind() == PeerKind::Group {
            return Ok(tl::enums::InputPeer::Chat(tl::types::InputPeerChat {
                chat_id: key.bare_id(),
            }));
        }
        let id = peer_id(key).ok_or(GatewayError::PeerInvalid)?;
        if let Some(found) = self.session.peer_ref(id).await.ok().flatten() {
            return Ok((&found).into());
        }
        self.dialogs(MAX_PAGE).await?;
        match self.session.peer_ref(id).await.ok().flatten() {
            Some(found) => Ok((&found).into()),
            None => Err(GatewayError::PeerInvalid),
        }
    }

    async fn input_channel(&self, key: PeerKey) -> Result<tl::enums::InputChannel, GatewayError> {
        match self.input_peer(key).await? {
            tl::enums::InputPeer::Channel(c) => Ok(tl::enums::InputChannel::Channel(tl::types::InputChannel {
                channel_id: c.channel_id,
                access_hash: c.access_hash,
            })),
            _ => Err(GatewayError::PeerInvalid),
        }
    }

    async fn send_text(
        &self,
        peer: PeerKey,
        text: &str,
        reply_to: Option<i32>,
        silent: bool,
        random_id: i64,
    ) -> Result<RemoteMessage, GatewayError> {
        check_outgoing_text(text)?;
        if let Some(first) = self.remembered(random_id) {
            return Ok(first);
        }
        let request = tl::functions::messages::SendMessage {
            no_webpage: false,
            silent,
            background: false,
            clear_draft: false,
            noforwards: false,
            update_stickersets_order: false,
            invert_media: false,
            allow_paid_floodskip: false,
            peer: self.input_peer(peer).await?,
            reply_to: reply_to.map(reply_header),
            message: text.to_owned(),
            random_id,
            reply_markup: None,
            entities: None,
            schedule_date: None,
            schedule_repeat_period: None,
            send_as: None,
            quick_reply_shortcut: None,
            effect: None,
            allow_paid_stars: None,
            suggested_post: None,
            rich_message: None,
        };
        self.live()?;
        match self.client.invoke(&request).await {
            Ok(answer) => self.remember(
                random_id,
                answers::sent_message(&answer, peer, text, reply_to, random_id),
            ),
            Err(error) if error.is("RANDOM_ID_DUPLICATE") => self.find_repeat(peer, text).await,
            Err(error) => Err(classify(&error)),
        }
    }

    pub(super) fn remembered(&self, random_id: i64) -> Option<RemoteMessage> {
        self.sent.lock().ok()?.get(&random_id).cloned()
    }

    pub(super) fn remember(&self, random_id: i64, sent: Option<RemoteMessage>) -> Result<RemoteMessage, GatewayError> {
        let sent = sent.ok_or_else(|| GatewayError::Other("Telegram's answer named no message".to_owned()))?;
        if let Ok(mut map) = self.sent.lock() {
            map.insert(random_id, sent.clone());
        }
        Ok(sent)
    }

    /// The message an earlier send under the same `random_id` produced: the newest outgoing one with this text.
    pub(super) async fn find_repeat(&self, peer: PeerKey, text: &str) -> Result<RemoteMessage, GatewayError> {
        self.history(peer, 20, None)
            .await?
            .into_iter()
            .find(|m| m.outgoing && m.text == text)
            .ok_or_else(|| GatewayError::Other("400 RANDOM_ID_DUPLICATE".to_owned()))
    }

    /// The raw message `message_id` of `peer` (to read its media).
    pub(super) async fn raw_message(&self, peer: PeerKey, message_id: i32) -> Result<tl::enums::Message, GatewayError> {
        let id = vec![tl::enums::InputMessage::Id(tl::types::InputMessageId {
            id: message_id,
        })];
        let answer = match peer.kind() {
            PeerKind::Channel => {
                let channel = self.input_channel(peer).await?;
                self.invoke(&tl::functions::channels::GetMessages { channel, id })
                    .await?
            }
            _ => self.invoke(&tl::functions::messages::GetMessages { id }).await?,
        };
        answers::raw_messages(answer)
            .into_iter()
            .find(|m| matches!(m, tl::enums::Message::Message(m) if m.id == message_id && super::convert::peer_key(&m.peer_id) == Some(peer)))
            .ok_or(GatewayError::NoMedia)
    }
}

/// Remembers the access hashes of `users` and `chats` in `session`.
pub(super) async fn cache(session: &MemorySession, users: &[tl::enums::User], chats: &[tl::enums::Chat]) {
    let infos: Vec<PeerInfo> = users
        .iter()
        .map(PeerInfo::from)
        .chain(chats.iter().map(PeerInfo::from))
        .collect();
    if !infos.is_empty() {
        let _memory_cannot_fail = session.cache_peers(infos).await;
    }
}

pub(super) fn peer_id(key: PeerKey) -> Option<PeerId> {
    match key.kind() {
        PeerKind::User => PeerId::user(key.bare_id()),
        PeerKind::Group => PeerId::chat(key.bare_id()),
        PeerKind::Channel => PeerId::channel(key.bare_id()),
    }
}

fn reply_header(message_id: i32) -> tl::enums::InputReplyTo {
    tl::enums::InputReplyTo::Message(tl::types::InputReplyToMessage {
        reply_to_msg_id: message_id,
        top_msg_id: None,
        reply_to_peer_id: None,
        quote_text: None,
        quote_entities: None,
        quote_offset: None,
        monoforum_peer_id: None,
        todo_item_id: None,
        poll_option: None,
    })
}

#[async_trait]
impl GatewayConnection for MtprotoConnection {
    fn account(&self) -> AccountId {
        self.account
    }

    async fn me(&self) -> Result<Peer, GatewayError> {
        self.live()?;
        Ok(self.me.clone())
    }

    async fn dialogs(&self, limit: usize) -> Result<Vec<RemoteDialog>, GatewayError> {
        let answer = self
            .invoke(&tl::functions::messages::GetDialogs {
                exclude_pinned: false,
                folder_id: None,
                offset_date: 0,
                offset_id: 0,
                offset_peer: tl::enums::InputPeer::Empty,
                limit: i32::try_from(limit.min(MAX_PAGE)).unwrap_or(100),
                hash: 0,
            })
            .await?;
        let (dialogs, users, chats) = answers::dialogs(answer);
        self.cache(&users, &chats).await;
        Ok(dialogs)
    }

    async fn history(
        &self,
        peer: PeerKey,
        limit: usize,
        before_id: Option<i32>,
    ) -> Result<Vec<RemoteMessage>, GatewayError> {
        let answer = self
            .invoke(&tl::functions::messages::GetHistory {
                peer: self.input_peer(peer).await?,
                offset_id: before_id.unwrap_or(0),
                offset_date: 0,
                add_offset: 0,
                limit: i32::try_from(limit.min(MAX_PAGE)).unwrap_or(100),
                max_id: 0,
                min_id: 0,
                hash: 0,
            })
            .await?;
        let (messages, users, chats) = answers::messages(answer);
        self.cache(&users, &chats).await;
        Ok(messages.into_iter().filter(|m| m.peer == peer).collect())
    }

    async fn send_message(
        &self,
        peer: PeerKey,
        text: &str,
        reply_to: Option<i32>,
        silent: bool,
    ) -> Result<RemoteMessage, GatewayError> {
        self.send_text(peer, text, reply_to, silent, rand::random()).await
    }

    async fn send_message_once(
        &self,
        peer: PeerKey,
        text: &str,
        reply_to: Option<i32>,
        random_id: i64,
    ) -> Result<RemoteMessage, GatewayError> {
        self.send_text(peer, text, reply_to, false, random_id).await
    }

    async fn send_document_once(
        &self,
        peer: PeerKey,
        document: &OutgoingDocument,
        caption: &str,
        reply_to: Option<i32>,
        random_id: i64,
    ) -> Result<RemoteMessage, GatewayError> {
        media::send_document(self, peer, document, caption, reply_to.map(reply_header), random_id).await
    }

    async fn download_media(
        &self,
        peer: PeerKey,
        message_id: i32,
        max_bytes: u64,
    ) -> Result<MediaDownload, GatewayError> {
        let raw = self.raw_message(peer, message_id).await?;
        let file = FileOnTelegram::of(&raw).ok_or(GatewayError::NoMedia)?;
        Ok(media::download(self.client.clone(), file, max_bytes))
    }

    fn changed_session(&self) -> Option<TelegramSession> {
        let now = session::from_grammers(&*self.session, Some(&self.original), None, self.original.test_mode()).ok()?;
        session::changed(&self.original, &now).then_some(now)
    }

    async fn mark_read(&self, peer: PeerKey, max_id: i32) -> Result<(), GatewayError> {
        match peer.kind() {
            PeerKind::Channel => {
                let channel = self.input_channel(peer).await?;
                self.invoke(&tl::functions::channels::ReadHistory { channel, max_id })
                    .await?;
            }
            _ => {
                let input = self.input_peer(peer).await?;
                self.invoke(&tl::functions::messages::ReadHistory { peer: input, max_id })
                    .await?;
            }
        }
        Ok(())
    }

    async fn update_state(&self) -> Result<UpdateState, GatewayError> {
        let tl::enums::updates::State::State(state) = self.invoke(&tl::functions::updates::GetState {}).await?;
        let common = CommonState {
            pts: state.pts,
            date: state.date,
        };
        if let Ok(mut position) = self.position.lock() {
            position.qts = state.qts;
        }
        Ok(common.to_state())
    }

    async fn updates_since(&self, state: UpdateState) -> Result<UpdateDifference, GatewayError> {
        let mut from = CommonState::from_state(state);
        if from.pts <= 0 {
            return Ok(UpdateDifference::TooLong {
                state: self.update_state().await?,
            });
        }
        let qts = self.position.lock().map(|p| p.qts).unwrap_or(0);
        let mut updates = Vec::new();
        loop {
            let answer = self
                .invoke(&tl::functions::updates::GetDifference {
                    pts: from.pts,
                    pts_limit: None,
                    pts_total_limit: Some(DIFFERENCE_LIMIT),
                    date: from.date,
                    qts,
                    qts_limit: None,
                })
                .await?;
            let part = answers::difference(answer, from);
            self.cache(&part.users, &part.chats).await;
            let reached = part.state.unwrap_or(from);
            if part.too_long {
                return Ok(UpdateDifference::TooLong {
                    state: reached.to_state(),
                });
            }
            let stamp = reached.to_state();
            updates.extend(
                part.updates
                    .into_iter()
                    .map(|update| StampedUpdate { state: stamp, update }),
            );
            for channel in part.channel_gaps {
                for message in self
                    .history(channel, CHANNEL_GAP_MESSAGES, None)
                    .await?
                    .into_iter()
                    .rev()
                {
                    updates.push(StampedUpdate {
                        state: stamp,
                        update: GatewayUpdate::NewMessage(message),
                    });
                }
            }
            let progressed = reached.pts > from.pts;
            from = reached;
            if !part.more || !progressed {
                break;
            }
        }
        Ok(UpdateDifference::Updates {
            updates,
            state: from.to_state(),
        })
    }

    fn subscribe(&self) -> UpdateStream {
        match (self.closed.load(Ordering::Acquire), self.fanout.upgrade()) {
            (false, Some(fanout)) => fanout.subscribe(),
            _ => UpdateStream::closed(),
        }
    }

    async fn disconnect(&self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        self.client.disconnect();
        let tasks = self
            .tasks
            .lock()
            .map(|mut t| std::mem::take(&mut *t))
            .unwrap_or_default();
        for task in tasks {
            task.abort();
        }
    }
}

impl Drop for MtprotoConnection {
    fn drop(&mut self) {
        self.client.disconnect();
        if let Ok(tasks) = self.tasks.lock() {
            for task in tasks.iter() {
                task.abort();
            }
        }
    }
}
