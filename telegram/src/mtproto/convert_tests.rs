//! Conversions from TL values built here as Telegram would send them.

use grammers_tl_types as tl;
use tgos_domain::accounts::gateway::{GatewayUpdate, MediaKind, PeerKey};

use super::*;

const ALICE: i64 = 5_000_001;
const CHANNEL: i64 = 1_234_567;

fn user_peer_id(id: i64) -> tl::enums::Peer {
    tl::enums::Peer::User(tl::types::PeerUser { user_id: id })
}

fn channel_peer_id(id: i64) -> tl::enums::Peer {
    tl::enums::Peer::Channel(tl::types::PeerChannel { channel_id: id })
}

fn text(id: i32, peer: tl::enums::Peer, body: &str) -> tl::types::Message {
    blank_message(id, peer, 1_700_000_000, body.to_owned())
}

fn blank_message(id: i32, peer_id: tl::enums::Peer, date: i32, message: String) -> tl::types::Message {
    tl::types::Message {
        out: false,
        mentioned: false,
        media_unread: false,
        silent: false,
        post: false,
        from_scheduled: false,
        legacy: false,
        edit_hide: false,
        pinned: false,
        noforwards: false,
        invert_media: false,
        offline: false,
        video_processing_pending: false,
        paid_suggested_post_stars: false,
        paid_suggested_post_ton: false,
        id,
        from_id: None,
        from_boosts_applied: None,
        from_rank: None,
        peer_id,
        saved_peer_id: None,
        fwd_from: None,
        via_bot_id: None,
        via_business_bot_id: None,
        guestchat_via_from: None,
        reply_to: None,
        date,
        message,
        media: None,
        reply_markup: None,
        entities: None,
        views: None,
        forwards: None,
        replies: None,
        edit_date: None,
        post_author: None,
        grouped_id: None,
        reactions: None,
        restriction_reason: None,
        ttl_period: None,
        quick_reply_shortcut_id: None,
        effect: None,
        factcheck: None,
        report_delivery_until_date: None,
        paid_message_stars: None,
        suggested_post: None,
        schedule_repeat_period: None,
        summary_from_language: None,
        rich_message: None,
    }
}

fn blank_user(id: i64) -> tl::types::User {
    tl::types::User {
        is_self: false,
        contact: false,
        mutual_contact: false,
        deleted: false,
        bot: false,
        bot_chat_history: false,
        bot_nochats: false,
        verified: false,
        restricted: false,
        min: false,
        bot_inline_geo: false,
        support: false,
        scam: false,
        apply_min_photo: false,
        fake: false,
        bot_attach_menu: false,
        premium: false,
        attach_menu_enabled: false,
        bot_can_edit: false,
        close_friend: false,
        stories_hidden: false,
        stories_unavailable: false,
        contact_require_premium: false,
        bot_business: false,
        bot_has_main_app: false,
        bot_forum_view: false,
        bot_forum_can_manage_topics: false,
        bot_can_manage_bots: false,
        bot_guestchat: false,
        bot_guard: false,
        id,
        access_hash: None,
        first_name: None,
        last_name: None,
        username: None,
        phone: None,
        photo: None,
        status: None,
        bot_info_version: None,
        restriction_reason: None,
        bot_inline_placeholder: None,
        lang_code: None,
        emoji_status: None,
        usernames: None,
        stories_max_id: None,
        color: None,
        profile_color: None,
        bot_active_users: None,
        bot_verification_icon: None,
        send_paid_messages_stars: None,
        linked_community_id: None,
    }
}

fn document(mime: &str, size: i64, attributes: Vec<tl::enums::DocumentAttribute>) -> tl::enums::MessageMedia {
    tl::enums::MessageMedia::Document(tl::types::MessageMediaDocument {
        nopremium: false,
        spoiler: false,
        video: false,
        round: false,
        voice: false,
        document: Some(tl::enums::Document::Document(tl::types::Document {
            id: 1,
            access_hash: 2,
            file_reference: vec![3],
            date: 1_700_000_000,
            mime_type: mime.to_owned(),
            size,
            thumbs: None,
            video_thumbs: None,
            dc_id: 2,
            attributes,
        })),
        alt_documents: None,
        video_cover: None,
        video_timestamp: None,
        ttl_seconds: None,
    })
}

fn file_name(name: &str) -> tl::enums::DocumentAttribute {
    tl::enums::DocumentAttribute::Filename(tl::types::DocumentAttributeFilename {
        file_name: name.to_owned(),
    })
}

#[test]
fn a_text_message_keeps_its_id_peer_direction_time_and_same_dialog_reply() {
    let mut tl_message = text(42, user_peer_id(ALICE), "hello");
    tl_message.out = true;
    tl_message.reply_to = Some(tl::enums::MessageReplyHeader::Header(tl::types::MessageReplyHeader {
        reply_to_scheduled: false,
        forum_topic: false,
        quote: false,
        reply_to_ephemeral: false,
        reply_to_msg_id: Some(41),
        reply_to_peer_id: None,
        reply_from: None,
        reply_media: None,
        reply_to_top_id: None,
        quote_text: None,
        quote_entities: None,
        quote_offset: None,
        todo_item_id: None,
        poll_option: None,
    }));
    let converted = message(&tl::enums::Message::Message(tl_message.clone())).unwrap();
    assert_eq!(converted.id, 42);
    assert_eq!(converted.peer, PeerKey::user(ALICE).unwrap());
    assert!(converted.outgoing);
    assert_eq!(converted.text, "hello");
    assert_eq!(converted.sent_at.timestamp(), 1_700_000_000);
    assert_eq!(converted.reply_to, Some(41));
    assert_eq!(converted.edited_at, None);
    assert_eq!(converted.media, None);

    // A reply into another chat is not a reply in this dialog.
    if let Some(tl::enums::MessageReplyHeader::Header(header)) = tl_message.reply_to.as_mut() {
        header.reply_to_peer_id = Some(user_peer_id(7));
    }
    assert_eq!(
        message(&tl::enums::Message::Message(tl_message)).unwrap().reply_to,
        None
    );
}

#[test]
fn service_and_empty_messages_are_skipped() {
    let empty = tl::enums::Message::Empty(tl::types::MessageEmpty {
        id: 1,
        peer_id: Some(user_peer_id(ALICE)),
    });
    assert_eq!(message(&empty), None);
}

#[test]
fn hidden_edits_are_not_edits() {
    let mut edited = text(5, user_peer_id(ALICE), "v2");
    edited.edit_date = Some(1_700_000_100);
    assert_eq!(
        message(&tl::enums::Message::Message(edited.clone()))
            .unwrap()
            .edited_at
            .map(|t| t.timestamp()),
        Some(1_700_000_100)
    );
    edited.edit_hide = true;
    assert_eq!(message(&tl::enums::Message::Message(edited)).unwrap().edited_at, None);
}

#[test]
fn photos_are_described_by_their_largest_size() {
    let photo = tl::enums::MessageMedia::Photo(tl::types::MessageMediaPhoto {
        spoiler: false,
        live_photo: false,
        photo: Some(tl::enums::Photo::Photo(tl::types::Photo {
            has_stickers: false,
            id: 9,
            access_hash: 8,
            file_reference: vec![1],
            date: 1_700_000_000,
            sizes: vec![
                tl::enums::PhotoSize::Size(tl::types::PhotoSize {
                    r#type: "m".into(),
                    w: 320,
                    h: 240,
                    size: 10_000,
                }),
                tl::enums::PhotoSize::Progressive(tl::types::PhotoSizeProgressive {
                    r#type: "y".into(),
                    w: 1280,
                    h: 960,
                    sizes: vec![20_000, 90_000, 120_000],
                }),
            ],
            video_sizes: None,
            dc_id: 2,
        })),
        ttl_seconds: None,
        video: None,
    });
    let info = media(&photo).unwrap();
    assert_eq!(info.kind, Some(MediaKind::Photo));
    assert_eq!((info.width, info.height), (Some(1280), Some(960)));
    assert_eq!(info.size_bytes, Some(120_000));
    assert_eq!(info.mime_type.as_deref(), Some("image/jpeg"));
}

#[test]
fn documents_are_told_apart_by_their_attributes() {
    let voice = document(
        "audio/ogg",
        4_000,
        vec![tl::enums::DocumentAttribute::Audio(tl::types::DocumentAttributeAudio {
            voice: true,
            duration: 7,
            title: None,
            performer: None,
            waveform: None,
        })],
    );
    let info = media(&voice).unwrap();
    assert_eq!(info.kind, Some(MediaKind::Voice));
    assert_eq!(info.duration_secs, Some(7));
    assert_eq!(info.size_bytes, Some(4_000));

    let video = document(
        "video/mp4",
        2_000_000,
        vec![
            tl::enums::DocumentAttribute::Video(tl::types::DocumentAttributeVideo {
                round_message: false,
                supports_streaming: true,
                nosound: false,
                duration: 12.6,
                w: 1920,
                h: 1080,
                preload_prefix_size: None,
                video_start_ts: None,
                video_codec: None,
            }),
            file_name("clip.mp4"),
        ],
    );
    let info = media(&video).unwrap();
    assert_eq!(info.kind, Some(MediaKind::Video));
    assert_eq!(
        (info.width, info.height, info.duration_secs),
        (Some(1920), Some(1080), Some(13))
    );
    assert_eq!(info.file_name.as_deref(), Some("clip.mp4"));

    let pdf = media(&document("application/pdf", 512, vec![file_name("offer.pdf")])).unwrap();
    assert_eq!(pdf.kind, Some(MediaKind::Document));
    assert_eq!(pdf.file_name.as_deref(), Some("offer.pdf"));
    assert_eq!(pdf.mime_type.as_deref(), Some("application/pdf"));

    let sticker = document(
        "image/webp",
        30_000,
        vec![
            tl::enums::DocumentAttribute::ImageSize(tl::types::DocumentAttributeImageSize { w: 512, h: 512 }),
            tl::enums::DocumentAttribute::Sticker(tl::types::DocumentAttributeSticker {
                mask: false,
                alt: "🙂".into(),
                stickerset: tl::enums::InputStickerSet::Empty,
                mask_coords: None,
            }),
        ],
    );
    let info = media(&sticker).unwrap();
    assert_eq!(info.kind, Some(MediaKind::Sticker));
    assert_eq!((info.width, info.height), (Some(512), Some(512)));

    assert_eq!(media(&tl::enums::MessageMedia::Empty), None, "no media");
    assert_eq!(media(&tl::enums::MessageMedia::Unsupported), None);
}

#[test]
fn a_message_with_media_carries_its_description() {
    let mut with_file = text(3, user_peer_id(ALICE), "the offer");
    with_file.media = Some(document("application/pdf", 512, vec![file_name("offer.pdf")]));
    let converted = message(&tl::enums::Message::Message(with_file)).unwrap();
    assert_eq!(converted.media.unwrap().file_name.as_deref(), Some("offer.pdf"));
    assert_eq!(converted.text, "the offer");
}

#[test]
fn updates_of_private_chats_and_channels_become_inbox_updates() {
    let alice = PeerKey::user(ALICE).unwrap();
    let channel = PeerKey::channel(CHANNEL).unwrap();
    let new = tl::enums::Update::NewMessage(tl::types::UpdateNewMessage {
        message: tl::enums::Message::Message(text(10, user_peer_id(ALICE), "hi")),
        pts: 100,
        pts_count: 1,
    });
    match update(&new) {
        Converted::Update(GatewayUpdate::NewMessage(m)) => assert_eq!((m.id, m.peer), (10, alice)),
        other => panic!("{other:?}"),
    }
    let in_channel = tl::enums::Update::NewChannelMessage(tl::types::UpdateNewChannelMessage {
        message: tl::enums::Message::Message(text(3, channel_peer_id(CHANNEL), "news")),
        pts: 7,
        pts_count: 1,
    });
    match update(&in_channel) {
        Converted::Update(GatewayUpdate::NewMessage(m)) => assert_eq!((m.id, m.peer), (3, channel)),
        other => panic!("{other:?}"),
    }
    let mut edited = text(10, user_peer_id(ALICE), "hi!");
    edited.edit_date = Some(1_700_000_050);
    match update(&tl::enums::Update::EditMessage(tl::types::UpdateEditMessage {
        message: tl::enums::Message::Message(edited),
        pts: 101,
        pts_count: 1,
    })) {
        Converted::Update(GatewayUpdate::EditedMessage(m)) => {
            assert_eq!(m.text, "hi!");
            assert!(m.edited_at.is_some());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        update(&tl::enums::Update::DeleteMessages(tl::types::UpdateDeleteMessages {
            messages: vec![10, 11],
            pts: 103,
            pts_count: 2,
        })),
        Converted::Update(GatewayUpdate::DeletedMessages {
            peer: None,
            ids: vec![10, 11]
        })
    );
    assert_eq!(
        update(&tl::enums::Update::DeleteChannelMessages(
            tl::types::UpdateDeleteChannelMessages {
                channel_id: CHANNEL,
                messages: vec![3],
                pts: 8,
                pts_count: 1,
            }
        )),
        Converted::Update(GatewayUpdate::DeletedMessages {
            peer: Some(channel),
            ids: vec![3]
        })
    );
    assert_eq!(
        update(&tl::enums::Update::ReadHistoryInbox(
            tl::types::UpdateReadHistoryInbox {
                folder_id: None,
                peer: user_peer_id(ALICE),
                top_msg_id: None,
                max_id: 10,
                still_unread_count: 0,
                pts: 104,
                pts_count: 1,
            }
        )),
        Converted::Update(GatewayUpdate::ReadInbox {
            peer: alice,
            max_id: 10
        })
    );
    assert_eq!(
        update(&tl::enums::Update::ReadHistoryOutbox(
            tl::types::UpdateReadHistoryOutbox {
                peer: user_peer_id(ALICE),
                max_id: 9,
                pts: 105,
                pts_count: 1,
            }
        )),
        Converted::Update(GatewayUpdate::ReadOutbox { peer: alice, max_id: 9 })
    );
    assert_eq!(
        update(&tl::enums::Update::ReadChannelInbox(
            tl::types::UpdateReadChannelInbox {
                folder_id: None,
                channel_id: CHANNEL,
                max_id: 3,
                still_unread_count: 0,
                pts: 9,
            }
        )),
        Converted::Update(GatewayUpdate::ReadInbox {
            peer: channel,
            max_id: 3
        })
    );
    assert_eq!(
        update(&tl::enums::Update::ReadChannelOutbox(
            tl::types::UpdateReadChannelOutbox {
                channel_id: CHANNEL,
                max_id: 2,
            }
        )),
        Converted::Update(GatewayUpdate::ReadOutbox {
            peer: channel,
            max_id: 2
        })
    );
    assert_eq!(
        update(&tl::enums::Update::ChannelTooLong(tl::types::UpdateChannelTooLong {
            channel_id: CHANNEL,
            pts: None,
        })),
        Converted::ChannelGap(channel)
    );
    assert_eq!(
        update(&tl::enums::Update::MessageId(tl::types::UpdateMessageId {
            id: 1,
            random_id: 2
        })),
        Converted::Ignored
    );
}

#[test]
fn users_are_named_by_name_then_username_then_telegrams_wording() {
    let mut user = blank_user(ALICE);
    user.first_name = Some("Alice".into());
    user.last_name = Some("Liddell".into());
    user.username = Some("alice".into());
    let peer = user_peer(&user).unwrap();
    assert_eq!(peer.title(), "Alice Liddell");
    assert_eq!(peer.username(), Some("alice"));
    let mut nameless = blank_user(ALICE);
    nameless.username = Some("al".into());
    assert_eq!(user_peer(&nameless).unwrap().title(), "al");
    let mut deleted = blank_user(ALICE);
    deleted.deleted = true;
    assert_eq!(user_peer(&deleted).unwrap().title(), "Deleted Account");

    let named_peers = peers(&[tl::enums::User::User(user)], &[]);
    let alice = PeerKey::user(ALICE).unwrap();
    assert_eq!(named(&named_peers, alice).title(), "Alice Liddell");
    let unknown = PeerKey::user(77).unwrap();
    assert_eq!(named(&named_peers, unknown).title(), "77");
}
