//! Reading Telegram's answers: the dialogs list, a page of history, the message a send produced, a
//! difference. Pure functions over TL values, so every rule here is tested without a network.
//!
//! Rules:
//! - A send is answered either with the short form (`updateShortSentMessage`: id and date only, the text is
//!   ours) or with full updates, where the message is the one whose `updateMessageID` carries our
//!   `random_id`. Anything else is "no message", never a guess.
//! - A difference slice is not the end: the caller asks again from its intermediate state.

use grammers_tl_types as tl;
use tgos_domain::accounts::gateway::{GatewayUpdate, PeerKey, RemoteDialog, RemoteMessage};

use super::convert::{self, Converted};
use super::state::CommonState;

/// The messages of a `messages.Messages` answer, newest first as Telegram lists them, with the users and
/// chats it named.
pub fn messages(
    answer: tl::enums::messages::Messages,
) -> (Vec<RemoteMessage>, Vec<tl::enums::User>, Vec<tl::enums::Chat>) {
    let (messages, users, chats) = match answer {
        tl::enums::messages::Messages::Messages(m) => (m.messages, m.users, m.chats),
        tl::enums::messages::Messages::Slice(m) => (m.messages, m.users, m.chats),
        tl::enums::messages::Messages::ChannelMessages(m) => (m.messages, m.users, m.chats),
        tl::enums::messages::Messages::NotModified(_) => (Vec::new(), Vec::new(), Vec::new()),
    };
    (messages.iter().filter_map(convert::message).collect(), users, chats)
}

/// The raw messages of a `messages.Messages` answer (to read their media).
pub fn raw_messages(answer: tl::enums::messages::Messages) -> Vec<tl::enums::Message> {
    match answer {
        tl::enums::messages::Messages::Messages(m) => m.messages,
        tl::enums::messages::Messages::Slice(m) => m.messages,
        tl::enums::messages::Messages::ChannelMessages(m) => m.messages,
        tl::enums::messages::Messages::NotModified(_) => Vec::new(),
    }
}

/// The dialogs of a `messages.Dialogs` answer, each with its last message, and the users and chats named.
pub fn dialogs(
    answer: tl::enums::messages::Dialogs,
) -> (Vec<RemoteDialog>, Vec<tl::enums::User>, Vec<tl::enums::Chat>) {
    let (dialogs, messages, users, chats) = match answer {
        tl::enums::messages::Dialogs::Dialogs(d) => (d.dialogs, d.messages, d.users, d.chats),
        tl::enums::messages::Dialogs::Slice(d) => (d.dialogs, d.messages, d.users, d.chats),
        tl::enums::messages::Dialogs::NotModified(_) => Default::default(),
    };
    let named = convert::peers(&users, &chats);
    let messages: Vec<RemoteMessage> = messages.iter().filter_map(convert::message).collect();
    let remote = dialogs
        .iter()
        .filter_map(|dialog| {
            let tl::enums::Dialog::Dialog(dialog) = dialog else {
                return None;
            };
            let key = convert::peer_key(&dialog.peer)?;
            Some(RemoteDialog {
                peer: convert::named(&named, key),
                top_message_id: dialog.top_message,
                unread_count: u32::try_from(dialog.unread_count).unwrap_or(0),
                read_inbox_max_id: dialog.read_inbox_max_id,
                last_message: messages
                    .iter()
                    .find(|m| m.peer == key && m.id == dialog.top_message)
                    .cloned(),
            })
        })
        .collect();
    (remote, users, chats)
}

/// The message a send produced, given what was sent.
pub fn sent_message(
    answer: &tl::enums::Updates,
    peer: PeerKey,
    text: &str,
    reply_to: Option<i32>,
    random_id: i64,
) -> Option<RemoteMessage> {
    match answer {
        tl::enums::Updates::UpdateShortSentMessage(short) => Some(RemoteMessage {
            id: short.id,
            peer,
            outgoing: true,
            text: text.to_owned(),
            sent_at: convert::time(short.date),
            edited_at: None,
            reply_to,
            media: short.media.as_ref().and_then(convert::media),
        }),
        tl::enums::Updates::Updates(u) => from_updates(&u.updates, random_id),
        tl::enums::Updates::Combined(u) => from_updates(&u.updates, random_id),
        tl::enums::Updates::UpdateShort(u) => from_updates(std::slice::from_ref(&u.update), random_id),
        _ => None,
    }
}

fn from_updates(updates: &[tl::enums::Update], random_id: i64) -> Option<RemoteMessage> {
    let id = updates.iter().find_map(|u| match u {
        tl::enums::Update::MessageId(m) if m.random_id == random_id => Some(m.id),
        _ => None,
    })?;
    updates.iter().find_map(|u| match convert::update(u) {
        Converted::Update(GatewayUpdate::NewMessage(m)) if m.id == id && m.outgoing => Some(m),
        _ => None,
    })
}

/// One answer of `updates.getDifference`, read.
#[derive(Debug, Default)]
pub struct DifferencePart {
    pub updates: Vec<GatewayUpdate>,
    pub channel_gaps: Vec<PeerKey>,
    pub users: Vec<tl::enums::User>,
    pub chats: Vec<tl::enums::Chat>,
    /// Where the next request starts (a slice) or where the account now is.
    pub state: Option<CommonState>,
    pub qts: Option<i32>,
    /// More follows: ask again from `state`.
    pub more: bool,
    /// The gap is too long: re-read the dialogs, then continue from `state`.
    pub too_long: bool,
}

pub fn difference(answer: tl::enums::updates::Difference, asked: CommonState) -> DifferencePart {
    let mut part = DifferencePart::default();
    let (new_messages, other, users, chats, state) = match answer {
        tl::enums::updates::Difference::Empty(empty) => {
            part.state = Some(CommonState {
                pts: asked.pts,
                date: empty.date,
            });
            return part;
        }
        tl::enums::updates::Difference::TooLong(long) => {
            part.state = Some(CommonState {
                pts: long.pts,
                date: asked.date,
            });
            part.too_long = true;
            return part;
        }
        tl::enums::updates::Difference::Difference(d) => (d.new_messages, d.other_updates, d.users, d.chats, d.state),
        tl::enums::updates::Difference::Slice(d) => {
            part.more = true;
            (d.new_messages, d.other_updates, d.users, d.chats, d.intermediate_state)
        }
    };
    part.updates = new_messages
        .iter()
        .filter_map(convert::message)
        .map(GatewayUpdate::NewMessage)
        .collect();
    for update in &other {
        match convert::update(update) {
            Converted::Update(u) => part.updates.push(u),
            Converted::ChannelGap(peer) => part.channel_gaps.push(peer),
            Converted::Ignored => {}
        }
    }
    let tl::enums::updates::State::State(state) = state;
    part.state = Some(CommonState {
        pts: state.pts,
        date: state.date,
    });
    part.qts = Some(state.qts);
    part.users = users;
    part.chats = chats;
    part
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> PeerKey {
        PeerKey::user(5_000_001).unwrap()
    }

    #[test]
    fn a_short_send_answer_is_the_message_we_sent_with_telegrams_id_and_date() {
        let answer = tl::enums::Updates::UpdateShortSentMessage(tl::types::UpdateShortSentMessage {
            out: true,
            id: 77,
            pts: 10,
            pts_count: 1,
            date: 1_700_000_000,
            media: None,
            entities: None,
            ttl_period: None,
        });
        let sent = sent_message(&answer, alice(), "hello", Some(70), 123).unwrap();
        assert_eq!((sent.id, sent.peer, sent.outgoing), (77, alice(), true));
        assert_eq!(sent.text, "hello");
        assert_eq!(sent.reply_to, Some(70));
        assert_eq!(sent.sent_at.timestamp(), 1_700_000_000);
    }

    #[test]
    fn a_full_send_answer_is_read_through_the_random_id_only() {
        let answer = |random_id| {
            tl::enums::Updates::Updates(tl::types::Updates {
                updates: vec![tl::enums::Update::MessageId(tl::types::UpdateMessageId {
                    id: 5,
                    random_id,
                })],
                users: Vec::new(),
                chats: Vec::new(),
                date: 0,
                seq: 0,
            })
        };
        // The answer names message 5 for another random id, and carries no message 5: nothing is guessed.
        assert_eq!(sent_message(&answer(999), alice(), "x", None, 123), None);
        assert_eq!(sent_message(&answer(123), alice(), "x", None, 123), None);
        assert_eq!(
            sent_message(&tl::enums::Updates::TooLong, alice(), "x", None, 123),
            None
        );
    }

    #[test]
    fn difference_answers_say_where_to_continue() {
        let asked = CommonState { pts: 10, date: 100 };
        let empty = difference(
            tl::enums::updates::Difference::Empty(tl::types::updates::DifferenceEmpty { date: 150, seq: 0 }),
            asked,
        );
        assert_eq!(empty.state, Some(CommonState { pts: 10, date: 150 }));
        assert!(!empty.more && !empty.too_long && empty.updates.is_empty());

        let long = difference(
            tl::enums::updates::Difference::TooLong(tl::types::updates::DifferenceTooLong { pts: 90_000 }),
            asked,
        );
        assert!(long.too_long);
        assert_eq!(long.state, Some(CommonState { pts: 90_000, date: 100 }));

        let slice = difference(
            tl::enums::updates::Difference::Slice(tl::types::updates::DifferenceSlice {
                new_messages: Vec::new(),
                new_encrypted_messages: Vec::new(),
                other_updates: vec![tl::enums::Update::DeleteMessages(tl::types::UpdateDeleteMessages {
                    messages: vec![3],
                    pts: 11,
                    pts_count: 1,
                })],
                chats: Vec::new(),
                users: Vec::new(),
                intermediate_state: tl::enums::updates::State::State(tl::types::updates::State {
                    pts: 11,
                    qts: 4,
                    date: 160,
                    seq: 2,
                    unread_count: 0,
                }),
            }),
            asked,
        );
        assert!(slice.more, "a slice is not the end");
        assert_eq!(slice.state, Some(CommonState { pts: 11, date: 160 }));
        assert_eq!(slice.qts, Some(4));
        assert_eq!(
            slice.updates,
            vec![GatewayUpdate::DeletedMessages {
                peer: None,
                ids: vec![3]
            }]
        );
    }
}
