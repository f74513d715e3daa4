use tgos_domain::accounts::gateway::{GatewayError, MediaInfo, MediaKind, OutgoingDocument};
use tgos_telegram::sandbox::{CHUNK_BYTES, SandboxError, SandboxFault, SandboxFile};

use crate::support::*;

#[cfg(test)]
fn photo(bytes: Vec<u8>) -> SandboxFile {
    let info = MediaInfo {
        width: Some(640),
        height: Some(480),
        mime_type: Some("image/jpeg".to_owned()),
        ..MediaInfo::of(MediaKind::Photo)
    };
    SandboxFile::new(info, bytes).unwrap()
}

#[tokio::test]
async fn a_contacts_photo_arrives_described_and_downloads_byte_for_byte_in_chunks() {
    let gateway = gateway();
    let alice = connect(&gateway, ALICE).await;
    let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let received = gateway
        .network()
        .contact_send_media(ALICE, "Dana", "", photo(bytes.clone()))
        .unwrap();
    let media = received.media.clone().unwrap();
    assert_eq!(media.kind, Some(MediaKind::Photo));
    assert_eq!(media.size_bytes, Some(200_000), "the size is the bytes'");
    assert_eq!((media.width, media.height), (Some(640), Some(480)));
    assert_eq!(received.text, "", "a caption may be empty");

    let history = alice.history(received.peer, 1, None).await.unwrap();
    assert_eq!(history[0].media, Some(media.clone()));

    let mut download = alice.download_media(received.peer, received.id, 200_000).await.unwrap();
    assert_eq!(download.info, media);
    let mut chunks = 0;
    let mut all = Vec::new();
    while let Some(chunk) = download.next_chunk().await {
        let chunk = chunk.unwrap();
        assert!(chunk.len() <= CHUNK_BYTES);
        all.extend_from_slice(&chunk);
        chunks += 1;
    }
    assert_eq!(all, bytes);
    assert_eq!(chunks, 200_000usize.div_ceil(CHUNK_BYTES));
}

#[tokio::test]
async fn a_download_is_refused_over_the_cap_and_without_media() {
    let gateway = gateway();
    let alice = connect(&gateway, ALICE).await;
    let network = gateway.network();
    let with_file = network
        .contact_send_media(ALICE, "Dana", "big", photo(vec![7; 1000]))
        .unwrap();
    let text_only = network.contact_send(ALICE, "Dana", "just text").unwrap();
    assert_eq!(
        alice
            .download_media(with_file.peer, with_file.id, 999)
            .await
            .unwrap_err(),
        GatewayError::FileTooLarge { limit: 999 }
    );
    assert_eq!(
        alice
            .download_media(text_only.peer, text_only.id, 10_000)
            .await
            .unwrap_err(),
        GatewayError::NoMedia
    );
    assert_eq!(
        alice.download_media(with_file.peer, 9_999, 10_000).await.unwrap_err(),
        GatewayError::NoMedia,
        "an unknown message has no media"
    );
    // Another account cannot reach Alice's file by its id.
    let bob = connect(&gateway, BOB).await;
    assert_eq!(
        bob.download_media(with_file.peer, with_file.id, 10_000)
            .await
            .unwrap_err(),
        GatewayError::NoMedia
    );
    assert_eq!(
        alice
            .download_media(with_file.peer, with_file.id, 1000)
            .await
            .unwrap()
            .collect()
            .await
            .unwrap(),
        vec![7; 1000]
    );
}

#[tokio::test]
async fn a_document_sent_once_reaches_the_other_account_once_with_its_bytes() {
    let gateway = gateway();
    let alice = connect(&gateway, ALICE).await;
    let bob = connect(&gateway, BOB).await;
    let mut bob_stream = bob.subscribe();
    let document = OutgoingDocument::new("report.pdf", "application/pdf", b"%PDF-1.7 tiny".to_vec()).unwrap();

    let sent = alice
        .send_document_once(user(BOB), &document, "the report", None, 42)
        .await
        .unwrap();
    let again = alice
        .send_document_once(user(BOB), &document, "the report", None, 42)
        .await
        .unwrap();
    assert_eq!(again, sent, "the same random id answers the first message");
    assert_eq!(sent.text, "the report");
    assert_eq!(sent.media, Some(document.info()));

    let updates = drain(&mut bob_stream);
    let received = new_messages(&updates);
    assert_eq!(received.len(), 1, "delivered once: {updates:?}");
    assert_eq!(received[0].media, Some(document.info()));
    let bytes = bob
        .download_media(user(ALICE), received[0].id, 1 << 20)
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    assert_eq!(bytes, b"%PDF-1.7 tiny");
    let own = alice.download_media(user(BOB), sent.id, 1 << 20).await.unwrap();
    assert_eq!(
        own.collect().await.unwrap(),
        b"%PDF-1.7 tiny",
        "the sender reads its own copy"
    );
}

#[tokio::test]
async fn a_document_to_a_contact_is_kept_for_the_test_to_read_and_faults_apply() {
    let gateway = gateway();
    let network = gateway.network();
    network.contact_send(ALICE, "Dana", "hi").unwrap();
    let alice = connect(&gateway, ALICE).await;
    let dana = network.contact_send(ALICE, "Dana", "send it").unwrap().peer;
    let document = OutgoingDocument::new("a.txt", "text/plain", b"hello".to_vec()).unwrap();

    network.inject_fault(ALICE, SandboxFault::PeerFlood).unwrap();
    assert_eq!(
        alice
            .send_document_once(dana, &document, "", None, 1)
            .await
            .unwrap_err(),
        GatewayError::PeerFlood
    );
    let sent = alice.send_document_once(dana, &document, "", None, 2).await.unwrap();
    assert_eq!(network.sent_to_contact(ALICE, "Dana").unwrap(), vec![sent.clone()]);
    assert_eq!(
        network.file_in_contact_dialog(ALICE, "Dana", sent.id).unwrap(),
        Some(b"hello".to_vec())
    );
    assert_eq!(
        alice
            .send_document_once(dana, &document, &"a".repeat(1025), None, 3)
            .await
            .unwrap_err(),
        GatewayError::MessageTooLong,
        "a caption has Telegram's limit"
    );
}

#[test]
fn the_sandbox_refuses_empty_and_oversized_files() {
    assert_eq!(
        SandboxFile::new(MediaInfo::of(MediaKind::Voice), Vec::new()),
        Err(SandboxError::EmptyFile)
    );
    let limit = tgos_telegram::sandbox::MAX_SANDBOX_FILE_BYTES;
    assert_eq!(
        SandboxFile::new(MediaInfo::default(), vec![0; limit + 1]),
        Err(SandboxError::FileTooLarge { limit })
    );
    let untyped = SandboxFile::new(MediaInfo::default(), vec![1]).unwrap();
    assert_eq!(
        untyped.info.kind,
        Some(MediaKind::Document),
        "a file of no kind is a document"
    );
}
