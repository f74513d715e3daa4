//! The sandbox gateway's tools, and connecting an account over one connection lease.

use serde_json::json;
use tgos_domain::ids::AccountId;
use tgos_tests::backend_tests;

use super::*;

backend_tests!(
    a_sandbox_contact_writes_to_a_rented_account_over_one_connection_and_faults_become_health,
    |app| {
        use tgos_domain::accounts::pool::connections::ConnectionHolder;

        let account = app.stock_pool(1, 500).await?[0].to_string();
        let (owner, workspace) = funded(&app, "olive", 10_000).await?;
        app.gql(Some(&owner), RENT, json!({ "w": workspace, "o": account, "d": 1 }))
            .await?;
        let sent = app
            .gql(
                Some(&owner),
                CONTACT_SEND,
                json!({ "a": account, "c": "Ada", "t": "hello there" }),
            )
            .await?;
        assert_eq!(
            sent.body.pointer("/data/sandboxContactSend"),
            Some(&json!(true)),
            "{:?}",
            sent.body
        );

        // The server connects the account with its sealed session and sees the contact's message.
        let scope = app.scope_of(&owner, &workspace).await?;
        let id: AccountId = account.parse()?;
        let record = app.accounts.held(&scope, id).await?;
        let connected = app.connections.connect(&record).await?;
        let dialogs = connected.connection.dialogs(10).await?;
        assert_eq!(dialogs.len(), 1);
        assert_eq!(dialogs[0].peer.title(), "Ada");
        assert_eq!(
            dialogs[0].last_message.as_ref().map(|m| m.text.as_str()),
            Some("hello there")
        );

        // While connected, no other connection can take the account's connection lease: not one of another
        // server process, not a second one of this process.
        let elsewhere = ConnectionHolder::generate();
        let now = chrono::Utc::now();
        let later = now + chrono::Duration::seconds(60);
        assert!(!app.store.acquire_connection(id, &elsewhere, later, now).await?);
        let twice = app.connections.connect(&record).await;
        assert!(
            matches!(twice, Err(tgos_domain::DomainError::AccountUnavailable(_))),
            "{twice:?}"
        );
        assert!(
            app.connections.renew(&connected).await?,
            "the first connection still holds it"
        );
        app.connections.disconnect(connected).await?;
        assert!(app.store.acquire_connection(id, &elsewhere, later, now).await?);
        app.store.release_connection(id, &elsewhere).await?;

        // A revoked session: connecting fails, and the health shows it.
        let injected = app
            .gql(Some(&owner), INJECT, json!({ "a": account, "f": "SESSION_INVALID" }))
            .await?;
        assert!(injected.is_ok(), "{:?}", injected.body);
        let refused = app.connections.connect(&record).await;
        assert!(
            matches!(refused, Err(tgos_domain::DomainError::Conflict { .. })),
            "{refused:?}"
        );
        let health = app.gql(Some(&owner), HEALTH, json!({ "w": workspace })).await?;
        let node = health.at("/data/workspace/accounts/edges/0/node/health")?;
        assert_eq!(node["state"], json!("SESSION_INVALID"));
        assert_eq!(node["riskScore"], json!(100));
        assert!(
            app.store.acquire_connection(id, &elsewhere, later, now).await?,
            "a failed connect gives its lease back"
        );

        // Bad input is named field by field; other roles and tenants are refused.
        let no_seconds = app
            .gql(Some(&owner), INJECT, json!({ "a": account, "f": "FLOOD_WAIT" }))
            .await?;
        assert_eq!(no_seconds.str_at("/errors/0/extensions/field")?, "seconds");
        let blank = app
            .gql(Some(&owner), CONTACT_SEND, json!({ "a": account, "c": " ", "t": "x" }))
            .await?;
        assert_eq!(blank.str_at("/errors/0/extensions/field")?, "contact");
        let long = app
            .gql(
                Some(&owner),
                CONTACT_SEND,
                json!({ "a": account, "c": "Ada", "t": "x".repeat(4097) }),
            )
            .await?;
        assert_eq!(long.str_at("/errors/0/extensions/field")?, "text");
        let (viewer, _) = app.join(&owner, &workspace, "victor", "VIEWER").await?;
        let as_viewer = app
            .gql(
                Some(&viewer),
                CONTACT_SEND,
                json!({ "a": account, "c": "Ada", "t": "x" }),
            )
            .await?;
        assert_eq!(as_viewer.code().as_deref(), Some("FORBIDDEN"));
        let stranger = app.sign_up("mallory").await?;
        let as_stranger = app
            .gql(
                Some(&stranger),
                CONTACT_SEND,
                json!({ "a": account, "c": "Ada", "t": "x" }),
            )
            .await?;
        assert_eq!(as_stranger.code().as_deref(), Some("NOT_FOUND"));
        Ok(())
    }
);

backend_tests!(
    a_sandbox_account_takes_a_bounded_number_of_scripted_messages_a_minute,
    |app| {
        let account = app.stock_pool(1, 500).await?[0].to_string();
        let (owner, workspace) = funded(&app, "olive", 10_000).await?;
        app.gql(Some(&owner), RENT, json!({ "w": workspace, "o": account, "d": 1 }))
            .await?;
        for i in 0..60 {
            let sent = app
                .gql(
                    Some(&owner),
                    CONTACT_SEND,
                    json!({ "a": account, "c": "Ada", "t": format!("message {i}") }),
                )
                .await?;
            assert!(sent.is_ok(), "message {i}: {:?}", sent.body);
        }
        let over = app
            .gql(
                Some(&owner),
                CONTACT_SEND,
                json!({ "a": account, "c": "Ada", "t": "one too many" }),
            )
            .await?;
        assert_eq!(over.code().as_deref(), Some("RATE_LIMITED"));
        let retry = over
            .body
            .pointer("/errors/0/extensions/retryAfter")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0);
        assert!((1..=60).contains(&retry), "{retry}");
        Ok(())
    }
);
