//! Offers, rentals paid from the wallet, the rental race, renewals, releases and expiry.

use std::sync::Arc;

use sea_orm::{ConnectionTrait as _, DatabaseBackend, Statement};
use serde_json::{Value, json};
use tgos_domain::ids::{AccountId, WorkspaceId};
use tgos_tests::backend_tests;

use super::super::billing::balance;
use super::*;

backend_tests!(a_workspace_rents_an_account_on_offer_and_pays_for_it, |app| {
    let stocked = app.stock_pool(2, 500).await?;
    let (owner, workspace) = funded(&app, "olive", 2550).await?;
    let offers = app.gql(Some(&owner), OFFERS, json!({})).await?;
    let first = offers.at("/data/accountOffers/edges/0/node")?;
    assert_eq!(first["pricePerDay"]["formatted"], json!("5.00 USD"));
    assert_eq!(first["sandbox"], json!(true));
    assert_eq!(first["accountAgeDays"], json!(0));
    let offered = offer_ids(&app, &owner).await?;
    assert_eq!(offered.len(), 2);
    let account = offered[0].clone();
    assert_eq!(
        sealed_owner(&app, &account).await?,
        "platform",
        "on offer, sealed for the pool"
    );

    let rented = app
        .gql(Some(&owner), RENT, json!({ "w": workspace, "o": account, "d": 3 }))
        .await?;
    assert!(rented.is_ok(), "{:?}", rented.body);
    assert_eq!(rented.str_at("/data/rentAccount/status")?, "ACTIVE");
    assert_eq!(rented.str_at("/data/rentAccount/account/id")?, account);
    assert_eq!(rented.str_at("/data/rentAccount/account/status")?, "LEASED");
    assert!(rented.str_at("/data/rentAccount/account/phoneMasked")?.contains('•'));
    let starts = chrono::DateTime::parse_from_rfc3339(&rented.str_at("/data/rentAccount/startsAt")?)?;
    let ends = chrono::DateTime::parse_from_rfc3339(&rented.str_at("/data/rentAccount/endsAt")?)?;
    assert_eq!(ends - starts, chrono::Duration::days(3));
    assert_eq!(balance(&app, &owner, &workspace).await?, 2550 - 1500, "3 days at 5.00");
    assert_eq!(
        sealed_owner(&app, &account).await?,
        format!("workspace:{workspace}"),
        "leased, re-sealed under the renter's key"
    );
    assert_eq!(
        offer_ids(&app, &owner).await?,
        vec![offered[1].clone()],
        "no longer on offer"
    );
    let holdings = app.gql(Some(&owner), HOLDINGS, json!({ "w": workspace })).await?;
    assert_eq!(holdings.str_at("/data/workspace/accounts/edges/0/node/id")?, account);
    assert_eq!(holdings.str_at("/data/workspace/leases/edges/0/node/status")?, "ACTIVE");
    let check = app.billing_check(WorkspaceId::from_uuid(workspace.parse()?)).await?;
    assert_eq!((check.postings_sum, check.wallet_balance), (0, 1050));
    assert!(stocked.iter().any(|id| id.to_string() == account));

    // Another workspace cannot rent it, see it among its accounts, or touch the lease.
    let (other, elsewhere) = funded(&app, "peter", 5000).await?;
    let taken = app
        .gql(Some(&other), RENT, json!({ "w": elsewhere, "o": account, "d": 1 }))
        .await?;
    assert_eq!(taken.code().as_deref(), Some("ACCOUNT_UNAVAILABLE"));
    assert_eq!(
        balance(&app, &other, &elsewhere).await?,
        5000,
        "the refused rental charged nothing"
    );
    let theirs = app.gql(Some(&other), HOLDINGS, json!({ "w": elsewhere })).await?;
    assert_eq!(theirs.at("/data/workspace/accounts/edges")?, &json!([]));
    let lease = rented.str_at("/data/rentAccount/id")?;
    let renew = app.gql(Some(&other), RENEW, json!({ "l": lease, "d": 1 })).await?;
    assert_eq!(
        renew.code().as_deref(),
        Some("NOT_FOUND"),
        "another tenant's lease is unknown"
    );
    Ok(())
});

backend_tests!(
    two_workspaces_racing_for_one_account_leave_one_lease_and_one_charge,
    |app| {
        let account = app.stock_pool(1, 700).await?[0].to_string();
        let mut contenders = Vec::new();
        for name in ["alpha", "bravo", "charlie", "delta"] {
            contenders.push(funded(&app, name, 10_000).await?);
        }
        let mut attempts = Vec::new();
        for (owner, workspace) in contenders.clone() {
            let (app, account) = (Arc::clone(&app), account.clone());
            attempts.push(tokio::spawn(async move {
                app.gql(Some(&owner), RENT, json!({ "w": workspace, "o": account, "d": 2 }))
                    .await
            }));
        }
        let mut outcomes = Vec::new();
        for attempt in attempts {
            let response = attempt.await??;
            outcomes.push(if response.is_ok() {
                "RENTED".to_owned()
            } else {
                response.code().unwrap_or_default()
            });
        }
        let rented = outcomes.iter().filter(|o| *o == "RENTED").count();
        let unavailable = outcomes.iter().filter(|o| *o == "ACCOUNT_UNAVAILABLE").count();
        assert_eq!((rented, unavailable), (1, 3), "{outcomes:?}");
        let mut balances = Vec::new();
        for (owner, workspace) in &contenders {
            balances.push(balance(&app, owner, workspace).await?);
        }
        balances.sort_unstable();
        assert_eq!(balances, vec![8_600, 10_000, 10_000, 10_000], "only the winner paid");
        Ok(())
    }
);

backend_tests!(renting_without_enough_credit_or_with_bad_input_changes_nothing, |app| {
    let account = app.stock_pool(1, 500).await?[0].to_string();
    let (owner, workspace) = funded(&app, "olive", 999).await?;
    let poor = app
        .gql(Some(&owner), RENT, json!({ "w": workspace, "o": account, "d": 2 }))
        .await?;
    assert_eq!(poor.code().as_deref(), Some("INSUFFICIENT_FUNDS"));
    assert_eq!(balance(&app, &owner, &workspace).await?, 999);
    assert_eq!(offer_ids(&app, &owner).await?, vec![account.clone()], "still on offer");
    assert_eq!(sealed_owner(&app, &account).await?, "platform");

    for (days, field) in [(0, "days"), (91, "days")] {
        let bad = app
            .gql(Some(&owner), RENT, json!({ "w": workspace, "o": account, "d": days }))
            .await?;
        assert_eq!(bad.code().as_deref(), Some("BAD_USER_INPUT"));
        assert_eq!(bad.str_at("/errors/0/extensions/field")?, field);
    }
    let garbage = app
        .gql(Some(&owner), RENT, json!({ "w": workspace, "o": "not-an-id", "d": 1 }))
        .await?;
    assert_eq!(garbage.str_at("/errors/0/extensions/field")?, "offerId");
    let unknown = app
        .gql(
            Some(&owner),
            RENT,
            json!({ "w": workspace, "o": AccountId::generate().to_string(), "d": 1 }),
        )
        .await?;
    assert_eq!(unknown.code().as_deref(), Some("ACCOUNT_UNAVAILABLE"));
    let bad_country = app.gql(Some(&owner), OFFERS, json!({ "c": "Narnia" })).await?;
    assert_eq!(bad_country.str_at("/errors/0/extensions/field")?, "country");

    let (viewer, _) = app.join(&owner, &workspace, "victor", "VIEWER").await?;
    let viewer_rents = app
        .gql(Some(&viewer), RENT, json!({ "w": workspace, "o": account, "d": 1 }))
        .await?;
    assert_eq!(viewer_rents.code().as_deref(), Some("FORBIDDEN"));
    assert_eq!(balance(&app, &owner, &workspace).await?, 999);
    Ok(())
});

backend_tests!(
    a_renewal_charges_again_and_a_release_returns_the_account_to_the_pool,
    |app| {
        let account = app.stock_pool(1, 500).await?[0].to_string();
        let (owner, workspace) = funded(&app, "olive", 10_000).await?;
        let rented = app
            .gql(Some(&owner), RENT, json!({ "w": workspace, "o": account, "d": 1 }))
            .await?;
        let lease = rented.str_at("/data/rentAccount/id")?;
        let ends = chrono::DateTime::parse_from_rfc3339(&rented.str_at("/data/rentAccount/endsAt")?)?;

        let renewed = app.gql(Some(&owner), RENEW, json!({ "l": lease, "d": 2 })).await?;
        assert!(renewed.is_ok(), "{:?}", renewed.body);
        let extended = chrono::DateTime::parse_from_rfc3339(&renewed.str_at("/data/renewLease/endsAt")?)?;
        assert_eq!(extended - ends, chrono::Duration::days(2));
        assert_eq!(balance(&app, &owner, &workspace).await?, 10_000 - 500 - 1000);

        let released = app.gql(Some(&owner), RELEASE, json!({ "l": lease })).await?;
        assert!(released.is_ok(), "{:?}", released.body);
        assert_eq!(released.str_at("/data/releaseLease/status")?, "RELEASED");
        assert_eq!(
            released.body.pointer("/data/releaseLease/account"),
            Some(&Value::Null),
            "an ended lease no longer shows the account"
        );
        assert_eq!(
            sealed_owner(&app, &account).await?,
            "platform",
            "re-sealed for the pool"
        );
        assert_eq!(offer_ids(&app, &owner).await?, vec![account.clone()]);
        assert_eq!(
            balance(&app, &owner, &workspace).await?,
            8_500,
            "no refund of unused days"
        );

        let again = app.gql(Some(&owner), RELEASE, json!({ "l": lease })).await?;
        assert_eq!(again.code().as_deref(), Some("CONFLICT"));
        let renew_ended = app.gql(Some(&owner), RENEW, json!({ "l": lease, "d": 1 })).await?;
        assert_eq!(renew_ended.code().as_deref(), Some("CONFLICT"));
        assert_eq!(balance(&app, &owner, &workspace).await?, 8_500);

        let log = app
            .gql(
                Some(&owner),
                "query($w: ID!) { workspace(id: $w) { auditLog(first: 10) { edges { node { action } } } } }",
                json!({ "w": workspace }),
            )
            .await?;
        let actions: Vec<&str> = log
            .at("/data/workspace/auditLog/edges")?
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e.pointer("/node/action").and_then(Value::as_str))
            .collect();
        for action in ["lease.created", "lease.renewed", "lease.released"] {
            assert!(actions.contains(&action), "{action} missing from {actions:?}");
        }
        Ok(())
    }
);

backend_tests!(a_lease_that_ran_out_returns_its_account_to_the_pool, |app| {
    let account = app.stock_pool(1, 500).await?[0].to_string();
    let (owner, workspace) = funded(&app, "olive", 10_000).await?;
    let rented = app
        .gql(Some(&owner), RENT, json!({ "w": workspace, "o": account, "d": 1 }))
        .await?;
    let lease = rented.str_at("/data/rentAccount/id")?;
    assert_eq!(app.accounts.expire_due_leases().await?, 0, "not due yet");

    // Move the lease's end into the past, as a day passing would.
    let db = app.db().await?;
    let backend = db.get_database_backend();
    let sql = if backend == DatabaseBackend::Postgres {
        "UPDATE leases SET ends_at = now() - interval '1 minute' WHERE id = $1::uuid"
    } else {
        "UPDATE leases SET ends_at = '2020-01-01T00:00:00+00:00' WHERE id = ?"
    };
    let id: uuid::Uuid = lease.parse()?;
    let value: sea_orm::Value = if backend == DatabaseBackend::Postgres {
        id.to_string().into()
    } else {
        id.into()
    };
    db.execute_raw(Statement::from_sql_and_values(backend, sql, [value]))
        .await?;

    assert_eq!(app.accounts.expire_due_leases().await?, 1);
    assert_eq!(app.accounts.expire_due_leases().await?, 0, "once");
    let holdings = app.gql(Some(&owner), HOLDINGS, json!({ "w": workspace })).await?;
    assert_eq!(
        holdings.str_at("/data/workspace/leases/edges/0/node/status")?,
        "EXPIRED"
    );
    assert_eq!(holdings.at("/data/workspace/accounts/edges")?, &json!([]));
    assert_eq!(offer_ids(&app, &owner).await?, vec![account.clone()]);
    assert_eq!(sealed_owner(&app, &account).await?, "platform");
    Ok(())
});

backend_tests!(
    concurrent_renewals_never_extend_without_charging_or_charge_without_extending,
    |app| {
        let account = app.stock_pool(1, 500).await?[0].to_string();
        let (owner, workspace) = funded(&app, "olive", 10_000).await?;
        let rented = app
            .gql(Some(&owner), RENT, json!({ "w": workspace, "o": account, "d": 1 }))
            .await?;
        let lease = rented.str_at("/data/rentAccount/id")?;
        let ends = chrono::DateTime::parse_from_rfc3339(&rented.str_at("/data/rentAccount/endsAt")?)?;
        let mut renewals = Vec::new();
        for _ in 0..6 {
            let (app, owner, lease) = (Arc::clone(&app), owner.clone(), lease.clone());
            renewals.push(tokio::spawn(async move {
                app.gql(Some(&owner), RENEW, json!({ "l": lease, "d": 2 })).await
            }));
        }
        let mut outcomes = Vec::new();
        for renewal in renewals {
            let response = renewal.await??;
            outcomes.push(if response.is_ok() {
                "RENEWED".to_owned()
            } else {
                response.code().unwrap_or_default()
            });
        }
        // Each renewal extends from the end it read: racing ones either extend from a later end (a real second
        // renewal, charged) or find the end moved and are refused. Money and time always move together.
        let renewed = outcomes.iter().filter(|o| *o == "RENEWED").count() as i64;
        assert!(renewed >= 1, "{outcomes:?}");
        assert!(
            outcomes.iter().all(|o| o == "RENEWED" || o == "CONFLICT"),
            "{outcomes:?}"
        );
        let holdings = app
            .gql(
                Some(&owner),
                "query($w: ID!) { workspace(id: $w) { leases { edges { node { endsAt } } } } }",
                json!({ "w": workspace }),
            )
            .await?;
        let now_ends =
            chrono::DateTime::parse_from_rfc3339(&holdings.str_at("/data/workspace/leases/edges/0/node/endsAt")?)?;
        assert_eq!(now_ends - ends, chrono::Duration::days(2 * renewed));
        assert_eq!(balance(&app, &owner, &workspace).await?, 10_000 - 500 - 1000 * renewed);
        let check = app.billing_check(WorkspaceId::from_uuid(workspace.parse()?)).await?;
        assert_eq!(check.postings_sum, 0);
        Ok(())
    }
);

backend_tests!(
    an_account_telegram_no_longer_accepts_is_retired_not_offered_again,
    |app| {
        let account = app.stock_pool(1, 500).await?[0].to_string();
        let (owner, workspace) = funded(&app, "olive", 10_000).await?;
        let rented = app
            .gql(Some(&owner), RENT, json!({ "w": workspace, "o": account, "d": 1 }))
            .await?;
        let lease = rented.str_at("/data/rentAccount/id")?;
        // Telegram revokes the session; the server learns it when it connects.
        app.gql(Some(&owner), INJECT, json!({ "a": account, "f": "SESSION_INVALID" }))
            .await?;
        let scope = app.scope_of(&owner, &workspace).await?;
        let record = app.accounts.held(&scope, account.parse()?).await?;
        assert!(app.connections.connect(&record).await.is_err());
        let released = app.gql(Some(&owner), RELEASE, json!({ "l": lease })).await?;
        assert_eq!(released.str_at("/data/releaseLease/status")?, "RELEASED");
        assert!(
            offer_ids(&app, &owner).await?.is_empty(),
            "a dead account is never offered again"
        );
        let (other, elsewhere) = funded(&app, "peter", 10_000).await?;
        let again = app
            .gql(Some(&other), RENT, json!({ "w": elsewhere, "o": account, "d": 1 }))
            .await?;
        assert_eq!(again.code().as_deref(), Some("ACCOUNT_UNAVAILABLE"));
        assert_eq!(balance(&app, &other, &elsewhere).await?, 10_000);
        assert_eq!(
            sealed_owner(&app, &account).await?,
            "platform",
            "retired, sealed for the pool"
        );
        Ok(())
    }
);

backend_tests!(
    ending_a_lease_needs_the_end_it_read_so_a_renewal_in_between_wins,
    |app| {
        use tgos_domain::accounts::pool::LeaseStatus;
        use tgos_domain::ids::LeaseId;

        let account = app.stock_pool(1, 500).await?[0].to_string();
        let (owner, workspace) = funded(&app, "olive", 10_000).await?;
        let rented = app
            .gql(Some(&owner), RENT, json!({ "w": workspace, "o": account, "d": 1 }))
            .await?;
        let lease: LeaseId = rented.str_at("/data/rentAccount/id")?.parse()?;
        let scope = app.scope_of(&owner, &workspace).await?;
        let read = app
            .store
            .find_lease(&scope, lease)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no lease"))?;
        // A renewal lands between the sweep's read and its write.
        let renewed = app
            .gql(Some(&owner), RENEW, json!({ "l": lease.to_string(), "d": 1 }))
            .await?;
        assert!(renewed.is_ok(), "{:?}", renewed.body);
        let now = chrono::Utc::now();
        assert!(
            !app.store
                .end_lease(&scope, lease, read.ends_at, read.ends_at, LeaseStatus::Expired, now)
                .await?,
            "an end read before the renewal ends nothing"
        );
        let current = app
            .store
            .find_lease(&scope, lease)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no lease"))?;
        assert_eq!(current.status, LeaseStatus::Active);
        assert_eq!(current.ends_at - read.ends_at, chrono::Duration::days(1));
        Ok(())
    }
);
