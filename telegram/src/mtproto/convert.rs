//! Telegram's TL values turned into the domain's messages, dialogs, media and updates.
//!
//! Rules:
//! - Only what the inbox keeps is read: text messages and their media description. Service messages
//!   (joins, pins, calls), empty messages and secret chats are skipped, never guessed at.
//! - A reply is kept when it points into the same dialog; a reply into another chat (a quote across chats)
//!   is not a reply here.
//! - An edit hidden by Telegram (`edit_hide`, e.g. a reaction) is not an edit.
//! - A peer is named by the users and chats that came in the same answer; a peer the answer does not name
//!   is shown by its id until the next read of the dialogs names it.

use chrono::{DateTime, Utc};
use grammers_tl_types as tl;
use tgos_domain::accounts::gateway::{GatewayUpdate, MediaInfo, MediaKind, Peer, PeerKey, RemoteMessage};

/// A TL update, as the inbox sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Converted {
    Update(GatewayUpdate),
    /// A channel's own sequence has a gap Telegram will not fill: re-read that channel's recent history.
    ChannelGap(PeerKey),
    /// Nothing the inbox keeps (typing, online status, reactions…).
    Ignored,
}

pub fn peer_key(peer: &tl::enums::Peer) -> Option<PeerKey> {
    match peer {
        tl::enums::Peer::User(user) => PeerKey::user(user.user_id).ok(),
        tl::enums::Peer::Chat(chat) => PeerKey::group(chat.chat_id).ok(),
        tl::enums::Peer::Channel(channel) => PeerKey::channel(channel.channel_id).ok(),
    }
}

pub fn time(unix: i32) -> DateTime<Utc> {
    DateTime::from_timestamp(i64::from(unix), 0).unwrap_or_default()
}

/// A text message (with or without media); `None` for service and empty messages.
pub fn message(message: &tl::enums::Message) -> Option<RemoteMessage> {
    let tl::enums::Message::Message(message) = message else {
        return None;
    };
    let peer = peer_key(&message.peer_id)?;
    let reply_to = match &message.reply_to {
        Some(tl::enums::MessageReplyHeader::Header(header)) if header.reply_to_peer_id.is_none() => {
            header.reply_to_msg_id
        }
        _ => None,
    };
    let edited_at = match message.edit_date {
        Some(date) if !message.edit_hide => Some(time(date)),
        _ => None,
    };
    Some(RemoteMessage {
        id: message.id,
        peer,
        outgoing: message.out,
        text: message.message.clone(),
        sent_at: time(message.date),
        edited_at,
        reply_to,
        media: message.media.as_ref().and_then(media),
    })
}

/// The description of a photo, video, voice note, document or sticker; `None` for anything else (a link
/// preview, a location, a poll…).
pub fn media(media: &tl::enums::MessageMedia) -> Option<MediaInfo> {
    match media {
        tl::enums::MessageMedia::Photo(photo) => match &photo.photo {
            Some(tl::enums::Photo::Photo(photo)) => Some(photo_info(photo)),
            _ => Some(MediaInfo::of(MediaKind::Photo)),
        },
        tl::enums::MessageMedia::Document(document) => match &document.document {
            Some(tl::enums::Document::Document(file)) => Some(document_info(file, document.voice, document.round)),
            _ => None,
        },
        _ => None,
    }
}

fn photo_info(photo: &tl::types::Photo) -> MediaInfo {
    // The largest size is the photo as sent; Telegram lists sizes smallest first.
    let largest = photo
        .sizes
        .iter()
        .filter_map(|size| match size {
            tl::enums::PhotoSize::Size(s) => Some((s.w, s.h, Some(s.size))),
            tl::enums::PhotoSize::Progressive(s) => Some((s.w, s.h, s.sizes.iter().max().copied())),
            _ => None,
        })
        .max_by_key(|(w, h, _)| i64::from(*w) * i64::from(*h));
    let mut info = MediaInfo::of(MediaKind::Photo);
    info.mime_type = Some("image/jpeg".to_owned());
    if let Some((w, h, size)) = largest {
        info.width = u32::try_from(w).ok();
        info.height = u32::try_from(h).ok();
        info.size_bytes = size.and_then(|s| u64::try_from(s).ok());
    }
    info
}

fn document_info(document: &tl::types::Document, voice_flag: bool, round_flag: bool) -> MediaInfo {
    let mut info = MediaInfo {
        kind: Some(MediaKind::Document),
        size_bytes: u64::try_from(document.size).ok(),
        mime_type: Some(document.mime_type.clone()).filter(|m| !m.is_empty()),
        ..MediaInfo::default()
    };
    let mut sticker = false;
    let mut video = round_flag;
    let mut voice = voice_flag;
    for attribute in &document.attributes {
        match attribute {
            tl::enums::DocumentAttribute::Filename(name) => info.file_name = Some(name.file_name.clone()),
            tl::enums::DocumentAttribute::Sticker(_) => sticker = true,
            tl::enums::DocumentAttribute::Video(v) => {
                video = true;
                info.width = u32::try_from(v.w).ok();
                info.height = u32::try_from(v.h).ok();
                info.duration_secs = Some(v.duration.max(0.0).round() as u32);
            }
            tl::enums::DocumentAttribute::Audio(a) => {
                voice |= a.voice;
                info.duration_secs = u32::try_from(a.duration).ok();
            }
            tl::enums::DocumentAttribute::ImageSize(size) => {
                info.width = info.width.or(u32::try_from(size.w).ok());
                info.height = info.height.or(u32::try_from(size.h).ok());
            }
            _ => {}
        }
    }
    info.kind = Some(if sticker {
        MediaKind::Sticker
    } else if voice {
        MediaKind::Voice
    } else if video {
        MediaKind::Video
    } else {
        MediaKind::Document
    });
    info
}

/// One TL update as the inbox sees it.
pub fn update(update: &tl::enums::Update) -> Converted {
    use tl::enums::Update as U;
    let converted = match update {
        U::NewMessage(u) => message(&u.message).map(GatewayUpdate::NewMessage),
        U::NewChannelMessage(u) => message(&u.message).map(GatewayUpdate::NewMessage),
        U::EditMessage(u) => message(&u.message).map(GatewayUpdate::EditedMessage),
        U::EditChannelMessage(u) => message(&u.message).map(GatewayUpdate::EditedMessage),
        U::DeleteMessages(u) => Some(GatewayUpdate::DeletedMessages {
            peer: None,
            ids: u.messages.clone(),
        }),
        U::DeleteChannelMessages(u) => PeerKey::channel(u.channel_id)
            .ok()
            .map(|peer| GatewayUpdate::DeletedMessages {
                peer: Some(peer),
                ids: u.messages.clone(),
            }),
        U::ReadHistoryInbox(u) => peer_key(&u.peer).map(|peer| GatewayUpdate::ReadInbox { peer, max_id: u.max_id }),
        U::ReadHistoryOutbox(u) => peer_key(&u.peer).map(|peer| GatewayUpdate::ReadOutbox { peer, max_id: u.max_id }),
        U::ReadChannelInbox(u) => PeerKey::channel(u.channel_id)
            .ok()
            .map(|peer| GatewayUpdate::ReadInbox { peer, max_id: u.max_id }),
        U::ReadChannelOutbox(u) => PeerKey::channel(u.channel_id)
            .ok()
            .map(|peer| GatewayUpdate::ReadOutbox { peer, max_id: u.max_id }),
        U::ChannelTooLong(u) => {
            return PeerKey::channel(u.channel_id).map_or(Converted::Ignored, Converted::ChannelGap);
        }
        _ => None,
    };
    converted.map_or(Converted::Ignored, Converted::Update)
}

/// A user as a dialog names it: first and last name, else the username, else Telegram's own wording.
pub fn user_peer(user: &tl::types::User) -> Option<Peer> {
    let key = PeerKey::user(user.id).ok()?;
    let name = [user.first_name.as_deref(), user.last_name.as_deref()]
        .into_iter()
        .flatten()
        .filter(|part| !part.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let title = if !name.is_empty() {
        name
    } else if user.deleted {
        "Deleted Account".to_owned()
    } else {
        user.username.clone().unwrap_or_else(|| key.to_string())
    };
    Some(Peer::new(key, title, user.username.clone()))
}

/// A basic group, supergroup or channel as a dialog names it.
pub fn chat_peer(chat: &tl::enums::Chat) -> Option<Peer> {
    match chat {
        tl::enums::Chat::Chat(c) => Some(Peer::new(PeerKey::group(c.id).ok()?, c.title.clone(), None)),
        tl::enums::Chat::Forbidden(c) => Some(Peer::new(PeerKey::group(c.id).ok()?, c.title.clone(), None)),
        tl::enums::Chat::Channel(c) => Some(Peer::new(
            PeerKey::channel(c.id).ok()?,
            c.title.clone(),
            c.username.clone(),
        )),
        tl::enums::Chat::ChannelForbidden(c) => Some(Peer::new(PeerKey::channel(c.id).ok()?, c.title.clone(), None)),
        _ => None,
    }
}

/// Every peer an answer names, by key.
pub fn peers(users: &[tl::enums::User], chats: &[tl::enums::Chat]) -> std::collections::HashMap<PeerKey, Peer> {
    let users = users.iter().filter_map(|user| match user {
        tl::enums::User::User(user) => user_peer(user),
        tl::enums::User::Empty(_) => None,
    });
    users
        .chain(chats.iter().filter_map(chat_peer))
        .map(|peer| (peer.key(), peer))
        .collect()
}

/// The peer of `key` as `named` has it, or known only by its key.
pub fn named(named: &std::collections::HashMap<PeerKey, Peer>, key: PeerKey) -> Peer {
    named
        .get(&key)
        .cloned()
        .unwrap_or_else(|| Peer::new(key, key.get().to_string(), None))
}

#[cfg(test)]
#[path = "convert_tests.rs"]
mod tests;
