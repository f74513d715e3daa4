//! Files on Telegram: where a message's photo or document is, streaming it out under a cap, and sending a
//! document.
//!
//! Rules: a file larger than the cap is refused before the first request for its bytes; the bytes pass
//! through in chunks and are never written to disk; a stream that runs past the cap ends with
//! `FileTooLarge` (Telegram's size was wrong or the file changed).

use grammers_client::Client;
use grammers_client::media::Downloadable;
use grammers_tl_types as tl;
use tgos_domain::accounts::gateway::{
    GatewayError, MediaDownload, MediaInfo, OutgoingDocument, PeerKey, RemoteMessage, check_caption,
};
use tokio::sync::mpsc;

use super::answers;
use super::connection::MtprotoConnection;
use super::convert;
use super::errors::classify;

/// How many chunks may wait for a slow reader.
const CHUNKS_IN_FLIGHT: usize = 4;

/// A photo or document of a message: where to fetch it, its size and its data centre.
#[derive(Debug, Clone)]
pub struct FileOnTelegram {
    pub info: MediaInfo,
    location: tl::enums::InputFileLocation,
    size: Option<usize>,
    dc_id: i32,
}

impl FileOnTelegram {
    pub fn of(message: &tl::enums::Message) -> Option<Self> {
        let tl::enums::Message::Message(message) = message else {
            return None;
        };
        let media = message.media.as_ref()?;
        let info = convert::media(media)?;
        match media {
            tl::enums::MessageMedia::Photo(photo) => {
                let tl::enums::Photo::Photo(photo) = photo.photo.as_ref()? else {
                    return None;
                };
                let largest = photo
                    .sizes
                    .iter()
                    .filter_map(|size| match size {
                        tl::enums::PhotoSize::Size(s) => Some((s.r#type.clone(), s.w * s.h)),
                        tl::enums::PhotoSize::Progressive(s) => Some((s.r#type.clone(), s.w * s.h)),
                        _ => None,
                    })
                    .max_by_key(|(_, area)| *area)?;
                Some(Self {
                    size: info.size_bytes.and_then(|s| usize::try_from(s).ok()),
                    info,
                    location: tl::enums::InputFileLocation::InputPhotoFileLocation(tl::types::InputPhotoFileLocation {
                        id: photo.id,
                        access_hash: photo.access_hash,
                        file_reference: photo.file_reference.clone(),
                        thumb_size: largest.0,
                    }),
                    dc_id: photo.dc_id,
                })
            }
            tl::enums::MessageMedia::Document(document) => {
                let tl::enums::Document::Document(document) = document.document.as_ref()? else {
                    return None;
                };
                Some(Self {
                    size: usize::try_from(document.size).ok(),
                    info,
                    location: tl::enums::InputFileLocation::InputDocumentFileLocation(
                        tl::types::InputDocumentFileLocation {
                            id: document.id,
                            access_hash: document.access_hash,
                            file_reference: document.file_reference.clone(),
                            thumb_size: String::new(),
                        },
                    ),
                    dc_id: document.dc_id,
                })
            }
            _ => None,
        }
    }
}

impl Downloadable for FileOnTelegram {
    fn to_raw_input_location(&self) -> Option<tl::enums::InputFileLocation> {
        Some(self.location.clone())
    }

    fn size(&self) -> Option<usize> {
        self.size
    }

    fn dc_id(&self) -> Option<i32> {
        Some(self.dc_id)
    }
}

/// Streams `file` under `max_bytes` (see the module docs).
pub fn download(client: Client, file: FileOnTelegram, max_bytes: u64) -> MediaDownload {
    let (sender, receiver) = mpsc::channel(CHUNKS_IN_FLIGHT);
    let too_large = GatewayError::FileTooLarge { limit: max_bytes };
    if file.info.size_bytes.is_some_and(|size| size > max_bytes) {
        let _reader_may_be_gone = sender.try_send(Err(too_large));
        return MediaDownload::new(file.info, receiver);
    }
    let info = file.info.clone();
    tokio::spawn(async move {
        let mut chunks = client.iter_download(&file);
        let mut total: u64 = 0;
        loop {
            let next = match chunks.next().await {
                Ok(Some(chunk)) => {
                    total += chunk.len() as u64;
                    if total > max_bytes {
                        Err(too_large.clone())
                    } else {
                        Ok(chunk)
                    }
                }
                Ok(None) => break,
                Err(error) => Err(classify(&error)),
            };
            let stop = next.is_err();
            if sender.send(next).await.is_err() || stop {
                break;
            }
        }
    });
    MediaDownload::new(info, receiver)
}

/// Uploads `document` and sends it with `caption`, once per `random_id`.
pub async fn send_document(
    connection: &MtprotoConnection,
    peer: PeerKey,
    document: &OutgoingDocument,
    caption: &str,
    reply_to: Option<tl::enums::InputReplyTo>,
    random_id: i64,
) -> Result<RemoteMessage, GatewayError> {
    check_caption(caption)?;
    if let Some(first) = connection.remembered(random_id) {
        return Ok(first);
    }
    let input = connection.input_peer(peer).await?;
    let mut bytes = std::io::Cursor::new(document.bytes().to_vec());
    let uploaded = connection
        .client
        .upload_stream(&mut bytes, document.bytes().len(), document.file_name().to_owned())
        .await
        .map_err(|e| GatewayError::Network(format!("the upload failed ({:?})", e.kind())))?;
    let reply_id = match &reply_to {
        Some(tl::enums::InputReplyTo::Message(m)) => Some(m.reply_to_msg_id),
        _ => None,
    };
    let request = tl::functions::messages::SendMedia {
        silent: false,
        background: false,
        clear_draft: false,
        noforwards: false,
        update_stickersets_order: false,
        invert_media: false,
        allow_paid_floodskip: false,
        peer: input,
        reply_to,
        media: tl::enums::InputMedia::UploadedDocument(tl::types::InputMediaUploadedDocument {
            nosound_video: false,
            force_file: true,
            spoiler: false,
            file: uploaded.raw,
            thumb: None,
            mime_type: document.mime_type().to_owned(),
            attributes: vec![tl::enums::DocumentAttribute::Filename(
                tl::types::DocumentAttributeFilename {
                    file_name: document.file_name().to_owned(),
                },
            )],
            stickers: None,
            video_cover: None,
            video_timestamp: None,
            ttl_seconds: None,
        }),
        message: caption.to_owned(),
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
    };
    match connection.client.invoke(&request).await {
        Ok(answer) => {
            let sent = answers::sent_message(&answer, peer, caption, reply_id, random_id).map(|mut m| {
                m.media = m.media.or_else(|| Some(document.info()));
                m
            });
            connection.remember(random_id, sent)
        }
        Err(error) if error.is("RANDOM_ID_DUPLICATE") => connection.find_repeat(peer, caption).await,
        Err(error) => Err(classify(&error)),
    }
}
