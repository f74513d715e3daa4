//! Sending a document: an operator uploads it with `sendMessage` as a GraphQL multipart request, the contact
//! receives it with its description and bytes, and it downloads back the same; a viewer is refused, and an
//! oversized or empty file is refused naming `document`.

use serde_json::json;
use tgos_domain::accounts::gateway::{MAX_UPLOAD_BYTES, MediaKind};
use tgos_tests::upload::UploadFile;
use tgos_tests::{GqlResponse, TestApp, backend_tests};

use super::media::{MEDIA_FIELDS, get, header, network, newest_message, renting};

fn send_document() -> String {
    format!(
        "mutation($a: ID!, $d: ID!, $t: String!, $f: Upload) {{ sendMessage(accountId: $a, dialogId: $d, text: $t, document: $f) {{ id text status telegramId {MEDIA_FIELDS} }} }}"
    )
}

/// A rented account with one dialog (the contact Ada wrote first): owner, workspace, account, dialog, user.
async fn with_dialog(app: &TestApp) -> anyhow::Result<(String, String, String, String, i64)> {
    let (owner, workspace, scope, record, user) = renting(app).await?;
    network(app)?.contact_send(user, "Ada", "send me the report")?;
    app.inbox.sync_account(&scope, &record).await?;
    let dialogs = app
        .gql(
            Some(&owner),
            "query($w: ID!) { workspace(id: $w) { dialogs(first: 1) { edges { node { id } } } } }",
            json!({ "w": workspace }),
        )
        .await?;
    let dialog = dialogs.str_at("/data/workspace/dialogs/edges/0/node/id")?;
    Ok((owner, workspace, record.id.to_string(), dialog, user))
}

fn field_error(response: &GqlResponse) -> (String, String) {
    let error = response.errors().into_iter().next().unwrap_or_default();
    (
        error["extensions"]["code"].as_str().unwrap_or_default().to_owned(),
        error["extensions"]["field"].as_str().unwrap_or_default().to_owned(),
    )
}

backend_tests!(
    an_operators_document_reaches_the_contact_and_downloads_back_the_same,
    |app| {
        let (owner, workspace, account, dialog, user) = with_dialog(&app).await?;
        let (operator, _) = app.join(&owner, &workspace, "otto", "OPERATOR").await?;
        let bytes: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
        let file = UploadFile {
            name: "report Q3.pdf",
            mime_type: "application/pdf",
            bytes: &bytes,
        };
        let sent = app
            .gql_upload(
                Some(&operator),
                &send_document(),
                json!({ "a": account, "d": dialog, "t": "", "f": null }),
                "f",
                &file,
            )
            .await?;
        assert!(sent.is_ok(), "{:?}", sent.body);
        let message = sent.at("/data/sendMessage")?.clone();
        let id = message["id"].as_str().unwrap_or_default().to_owned();
        assert_eq!(message["status"], "SENT");
        assert_eq!(message["text"], "", "the caption may be empty with a document");
        assert_eq!(
            message["media"],
            json!({ "kind": "DOCUMENT", "fileName": "report Q3.pdf", "sizeBytes": 300_000,
                "mimeType": "application/pdf", "width": null, "height": null, "durationSeconds": null,
                "url": format!("/media/{id}") })
        );

        // The contact received it once, described, with exactly these bytes.
        let received = network(&app)?.sent_to_contact(user, "Ada")?;
        assert_eq!(received.len(), 1);
        let media = received[0].media.clone().unwrap_or_default();
        assert_eq!(media.kind, Some(MediaKind::Document));
        assert_eq!(media.file_name.as_deref(), Some("report Q3.pdf"));
        assert_eq!(media.mime_type.as_deref(), Some("application/pdf"));
        assert_eq!(media.size_bytes, Some(300_000));
        assert_eq!(message["telegramId"], received[0].id);
        assert_eq!(
            network(&app)?.file_in_contact_dialog(user, "Ada", received[0].id)?,
            Some(bytes.clone())
        );

        // It downloads back the same, and the inbox shows it.
        let response = get(&app, &format!("/media/{id}"), Some(&owner)).await?;
        assert_eq!(response.status(), 200);
        assert_eq!(header(&response, "content-type"), "application/pdf");
        assert!(header(&response, "content-disposition").contains("filename*=UTF-8''report%20Q3.pdf"));
        assert_eq!(response.bytes().await?.to_vec(), bytes);
        let newest = newest_message(&app, &owner, &workspace).await?;
        assert_eq!(newest["id"], id.as_str());
        assert_eq!(newest["media"]["fileName"], "report Q3.pdf");

        // A syncing of the account finds the sent document stored already.
        let scope = app.scope_of(&owner, &workspace).await?;
        let record = app.accounts.held(&scope, account.parse()?).await?;
        app.inbox.sync_account(&scope, &record).await?;
        let again = newest_message(&app, &owner, &workspace).await?;
        assert_eq!(again["id"], id.as_str(), "stored once");
        Ok(())
    }
);

backend_tests!(
    a_viewers_upload_is_forbidden_and_bad_files_are_refused_naming_document,
    |app| {
        let (owner, workspace, account, dialog, user) = with_dialog(&app).await?;
        let (viewer, _) = app.join(&owner, &workspace, "vera", "VIEWER").await?;
        let small = UploadFile {
            name: "a.txt",
            mime_type: "text/plain",
            bytes: b"hello",
        };
        let variables = json!({ "a": account, "d": dialog, "t": "here", "f": null });
        let refused = app
            .gql_upload(Some(&viewer), &send_document(), variables.clone(), "f", &small)
            .await?;
        assert_eq!(refused.code().as_deref(), Some("FORBIDDEN"), "{:?}", refused.body);

        // 11 MiB: refused before it is read whole, naming the argument.
        let big = vec![0u8; 11 * 1024 * 1024];
        let oversized = UploadFile {
            name: "big.bin",
            mime_type: "application/octet-stream",
            bytes: &big,
        };
        let refused = app
            .gql_upload(Some(&owner), &send_document(), variables.clone(), "f", &oversized)
            .await?;
        assert_eq!(refused.status, 413);
        assert_eq!(
            field_error(&refused),
            ("BAD_USER_INPUT".to_owned(), "document".to_owned())
        );
        let message = refused.errors()[0]["message"].as_str().unwrap_or_default().to_owned();
        assert!(message.contains(&MAX_UPLOAD_BYTES.to_string()), "{message}");

        // Exactly at the cap it goes.
        let at_cap = vec![1u8; MAX_UPLOAD_BYTES];
        let fits = UploadFile {
            name: "fits.bin",
            mime_type: "application/octet-stream",
            bytes: &at_cap,
        };
        let sent = app
            .gql_upload(Some(&owner), &send_document(), variables.clone(), "f", &fits)
            .await?;
        assert!(sent.is_ok(), "{:?}", sent.body);

        // An empty file, and a text without a document that is empty.
        let empty = UploadFile {
            name: "empty.txt",
            mime_type: "text/plain",
            bytes: b"",
        };
        let refused = app
            .gql_upload(Some(&owner), &send_document(), variables.clone(), "f", &empty)
            .await?;
        assert_eq!(
            field_error(&refused),
            ("BAD_USER_INPUT".to_owned(), "document".to_owned())
        );
        let blank = app
            .gql(
                Some(&owner),
                &send_document(),
                json!({ "a": account, "d": dialog, "t": "", "f": null }),
            )
            .await?;
        assert_eq!(field_error(&blank), ("BAD_USER_INPUT".to_owned(), "text".to_owned()));

        // Nothing refused reached the contact; the one at the cap did.
        let received = network(&app)?.sent_to_contact(user, "Ada")?;
        assert_eq!(received.len(), 1);
        assert_eq!(
            received[0].media.as_ref().and_then(|m| m.size_bytes),
            Some(MAX_UPLOAD_BYTES as u64)
        );

        // A multipart request without a token (what a cross-site form sends) is refused before it is read.
        let anonymous = app.gql_upload(None, &send_document(), variables, "f", &small).await?;
        assert_eq!(anonymous.status, 415);
        assert_eq!(anonymous.code().as_deref(), Some("BAD_USER_INPUT"));
        Ok(())
    }
);
