//! The wallet: top-ups through the providers' flows with signed notifications, and charges that never take a
//! wallet below zero or apply twice.

use std::sync::Arc;

use serde_json::{Value, json};
use tgos_domain::DomainError;
use tgos_domain::billing::{Currency, Money};
use tgos_domain::ids::WorkspaceId;
use tgos_domain::request::ClientInfo;
use tgos_persistence::payments::nowpayments::NowPaymentsIpn;
use tgos_tests::app::{NOWPAYMENTS_API_KEY, NOWPAYMENTS_IPN_SECRET};
use tgos_tests::{TestApp, TestOptions, backend_tests};

pub(crate) const TOP_UP: &str = "mutation($w: ID!, $p: PaymentProvider!, $a: Int!, $c: String!) { createTopUp(workspaceId: $w, provider: $p, amountMinor: $a, currency: $c) { id status checkoutUrl provider amount { amountMinor currency formatted } } }";
pub(crate) const WALLET: &str = "query($w: ID!) { workspace(id: $w) { wallet { balance { amountMinor formatted } entries(first: 10) { edges { node { kind amount { amountMinor } balanceAfter { amountMinor } reference } } } } } }";

pub(crate) async fn balance(app: &TestApp, token: &str, workspace: &str) -> anyhow::Result<i64> {
    let response = app.gql(Some(token), WALLET, json!({ "w": workspace })).await?;
    response
        .body
        .pointer("/data/workspace/wallet/balance/amountMinor")
        .and_then(Value::as_i64)
        .ok_or_else(|| anyhow::anyhow!("no balance in {:?}", response.body))
}

fn ipn(top_up: &str, status: &str, extra: Value) -> Value {
    let mut body = json!({
        "payment_id": 5_077_125_051_u64,
        "payment_status": status,
        "order_id": top_up,
        "price_amount": 25.5,
        "price_currency": "usd",
        "pay_amount": 0.001,
        "actually_paid": 0.0004,
        "pay_currency": "btc",
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    body
}

async fn deliver_ipn(app: &TestApp, body: &Value, signature: &str) -> anyhow::Result<u16> {
    let response = app
        .http()
        .post(app.url("/webhooks/nowpayments"))
        .header("x-nowpayments-sig", signature)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await?;
    Ok(response.status().as_u16())
}

async fn start_nowpayments_top_up(app: &TestApp, token: &str, workspace: &str) -> anyhow::Result<String> {
    let created = app
        .gql(
            Some(token),
            TOP_UP,
            json!({ "w": workspace, "p": "NOWPAYMENTS", "a": 2550, "c": "usd" }),
        )
        .await?;
    assert!(created.is_ok(), "{:?}", created.body);
    created.str_at("/data/createTopUp/id")
}

/// A workspace whose wallet holds 25.50 USD, paid through NOWPayments.
async fn funded_workspace(app: &TestApp, username: &str) -> anyhow::Result<(String, String)> {
    let owner = app.sign_up(username).await?;
    let workspace = app.create_workspace(&owner, "Funded").await?;
    let top_up = start_nowpayments_top_up(app, &owner, &workspace).await?;
    let signer = NowPaymentsIpn::new(NOWPAYMENTS_IPN_SECRET.to_owned().into());
    let body = ipn(&top_up, "finished", json!({}));
    assert_eq!(deliver_ipn(app, &body, &signer.sign(&body)).await?, 200);
    assert_eq!(balance(app, &owner, &workspace).await?, 2550);
    Ok((owner, workspace))
}

backend_tests!(
    a_nowpayments_top_up_credits_what_arrived_once_and_only_moves_forward,
    |app| {
        let owner = app.sign_up("olive").await?;
        let workspace = app.create_workspace(&owner, "Growth").await?;
        let created = app
            .gql(
                Some(&owner),
                TOP_UP,
                json!({ "w": workspace, "p": "NOWPAYMENTS", "a": 2550, "c": "USD" }),
            )
            .await?;
        assert_eq!(created.str_at("/data/createTopUp/status")?, "PENDING");
        assert_eq!(created.str_at("/data/createTopUp/amount/formatted")?, "25.50 USD");
        let top_up = created.str_at("/data/createTopUp/id")?;
        let url = created.str_at("/data/createTopUp/checkoutUrl")?;
        assert!(url.starts_with("https://nowpayments.test/payment/"), "{url}");
        // The real client sent the invoice request the provider expects.
        let requests = app.nowpayments.recorded.requests();
        assert_eq!(requests.len(), 1);
        let (key, body) = &requests[0];
        assert_eq!(key, NOWPAYMENTS_API_KEY);
        assert_eq!(body["order_id"], json!(top_up));
        assert_eq!(body["price_amount"], json!(25.5));
        assert_eq!(body["price_currency"], json!("usd"));
        assert!(
            body["ipn_callback_url"]
                .as_str()
                .is_some_and(|u| u.ends_with("/webhooks/nowpayments"))
        );

        let signer = NowPaymentsIpn::new(NOWPAYMENTS_IPN_SECRET.to_owned().into());
        let forger = NowPaymentsIpn::new("not-the-secret".to_owned().into());
        let partial = ipn(&top_up, "partially_paid", json!({ "actually_paid_at_fiat": 10.0 }));
        assert_eq!(deliver_ipn(&app, &partial, &forger.sign(&partial)).await?, 400);
        assert_eq!(deliver_ipn(&app, &partial, "deadbeef").await?, 400);
        assert_eq!(
            balance(&app, &owner, &workspace).await?,
            0,
            "a bad signature changes nothing"
        );

        assert_eq!(deliver_ipn(&app, &partial, &signer.sign(&partial)).await?, 200);
        assert_eq!(
            balance(&app, &owner, &workspace).await?,
            1000,
            "a partial payment credits what arrived"
        );
        assert_eq!(deliver_ipn(&app, &partial, &signer.sign(&partial)).await?, 200);
        assert_eq!(
            balance(&app, &owner, &workspace).await?,
            1000,
            "a replay credits nothing"
        );

        let finished = ipn(&top_up, "finished", json!({}));
        assert_eq!(deliver_ipn(&app, &finished, &signer.sign(&finished)).await?, 200);
        assert_eq!(
            balance(&app, &owner, &workspace).await?,
            2550,
            "finishing credits the rest"
        );
        let late = ipn(&top_up, "waiting", json!({}));
        assert_eq!(deliver_ipn(&app, &late, &signer.sign(&late)).await?, 200);
        let expired = ipn(&top_up, "expired", json!({}));
        assert_eq!(deliver_ipn(&app, &expired, &signer.sign(&expired)).await?, 200);
        assert_eq!(
            balance(&app, &owner, &workspace).await?,
            2550,
            "status never moves back"
        );

        let wallet = app.gql(Some(&owner), WALLET, json!({ "w": workspace })).await?;
        let entries = wallet
            .body
            .pointer("/data/workspace/wallet/entries/edges")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let seen: Vec<(i64, i64)> = entries
            .iter()
            .map(|e| {
                (
                    e.pointer("/node/amount/amountMinor")
                        .and_then(Value::as_i64)
                        .unwrap_or(0),
                    e.pointer("/node/balanceAfter/amountMinor")
                        .and_then(Value::as_i64)
                        .unwrap_or(0),
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![(1550, 2550), (1000, 1000)],
            "newest first, each with its balance"
        );

        let check = app.billing_check(WorkspaceId::from_uuid(workspace.parse()?)).await?;
        assert_eq!(check.postings_sum, 0, "debits equal credits");
        assert_eq!(check.wallet_postings_sum, check.wallet_balance);

        let unknown = ipn(&uuid::Uuid::now_v7().to_string(), "finished", json!({}));
        assert_eq!(deliver_ipn(&app, &unknown, &signer.sign(&unknown)).await?, 404);
        Ok(())
    }
);

backend_tests!(
    fifty_parallel_charges_of_the_whole_balance_leave_exactly_one_success,
    |app| {
        let (owner, workspace) = funded_workspace(&app, "olive").await?;
        let principal = app
            .identity
            .authenticate(&owner)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the owner's session does not authenticate"))?
            .principal;
        let workspace_id = WorkspaceId::from_uuid(workspace.parse()?);
        let scope = Arc::new(app.tenancy.scope(&principal, workspace_id).await?);
        let principal = Arc::new(principal);
        let mut calls = Vec::new();
        for i in 0..50 {
            let (app, scope, principal) = (Arc::clone(&app), Arc::clone(&scope), Arc::clone(&principal));
            calls.push(tokio::spawn(async move {
                app.billing
                    .charge(
                        &scope,
                        &principal,
                        &ClientInfo::default(),
                        Money::new(2550, Currency::USD),
                        &format!("rent-{i}"),
                        "Account rental",
                    )
                    .await
            }));
        }
        let (mut charged, mut refused) = (0, 0);
        for call in calls {
            match call.await? {
                Ok(result) => {
                    assert_eq!(result.balance_after.minor(), 0);
                    charged += 1;
                }
                Err(DomainError::InsufficientFunds(_)) => refused += 1,
                Err(other) => anyhow::bail!("unexpected outcome: {other:?}"),
            }
        }
        assert_eq!((charged, refused), (1, 49));
        assert_eq!(balance(&app, &owner, &workspace).await?, 0);
        let check = app.billing_check(workspace_id).await?;
        assert_eq!(check.postings_sum, 0);
        assert_eq!(check.wallet_balance, 0);
        assert_eq!(check.wallet_postings_sum, 0);
        assert_eq!(
            check.transactions, 2,
            "the top-up and one charge; refused charges left nothing"
        );

        // The winner's key again returns its first result; every other key is still refused; the winner's key
        // with another amount is a conflict.
        let mut replayed = Vec::new();
        for i in 0..50 {
            let key = format!("rent-{i}");
            let charge = Money::new(2550, Currency::USD);
            match app
                .billing
                .charge(
                    &scope,
                    &principal,
                    &ClientInfo::default(),
                    charge,
                    &key,
                    "Account rental",
                )
                .await
            {
                Ok(result) if result.replayed => {
                    assert_eq!(result.balance_after.minor(), 0);
                    replayed.push(key);
                }
                Ok(_) => anyhow::bail!("a charge went through twice"),
                Err(DomainError::InsufficientFunds(_)) => {}
                Err(other) => anyhow::bail!("unexpected outcome: {other:?}"),
            }
        }
        assert_eq!(replayed.len(), 1);
        let conflict = app
            .billing
            .charge(
                &scope,
                &principal,
                &ClientInfo::default(),
                Money::new(100, Currency::USD),
                &replayed[0],
                "Other",
            )
            .await;
        assert!(matches!(conflict, Err(DomainError::Conflict { .. })), "{conflict:?}");
        assert_eq!(app.billing_check(workspace_id).await?.transactions, 2);
        Ok(())
    }
);

backend_tests!(
    an_idempotency_key_belongs_to_its_workspace_so_two_tenants_may_use_the_same_one,
    |app| {
        let mut charged = Vec::new();
        for username in ["olive", "peter"] {
            let (owner, workspace) = funded_workspace(&app, username).await?;
            let principal = app
                .identity
                .authenticate(&owner)
                .await?
                .ok_or_else(|| anyhow::anyhow!("the owner's session does not authenticate"))?
                .principal;
            let scope = app
                .tenancy
                .scope(&principal, WorkspaceId::from_uuid(workspace.parse()?))
                .await?;
            let charge = app
                .billing
                .charge(
                    &scope,
                    &principal,
                    &ClientInfo::default(),
                    Money::new(1000, Currency::USD),
                    "order-1",
                    "Account rental",
                )
                .await?;
            assert!(!charge.replayed, "another tenant's key is not this tenant's replay");
            assert_eq!(charge.balance_after.minor(), 1550);
            charged.push(balance(&app, &owner, &workspace).await?);
        }
        assert_eq!(charged, vec![1550, 1550], "each wallet was charged once");
        Ok(())
    }
);

backend_tests!(
    top_ups_refuse_bad_input_field_by_field,
    options = TestOptions {
        stripe_configured: false,
        ..TestOptions::default()
    },
    |app| {
        let owner = app.sign_up("olive").await?;
        let workspace = app.create_workspace(&owner, "Growth").await?;
        let bad = app
            .gql(
                Some(&owner),
                TOP_UP,
                json!({ "w": workspace, "p": "NOWPAYMENTS", "a": -5, "c": "XYZ" }),
            )
            .await?;
        assert_eq!(bad.code().as_deref(), Some("BAD_USER_INPUT"));
        let fields: Vec<_> = bad
            .errors()
            .iter()
            .filter_map(|e| {
                e.pointer("/extensions/field")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .collect();
        assert_eq!(fields, vec!["currency".to_owned(), "amountMinor".to_owned()]);
        let unconfigured = app
            .gql(
                Some(&owner),
                TOP_UP,
                json!({ "w": workspace, "p": "STRIPE", "a": 1000, "c": "USD" }),
            )
            .await?;
        assert_eq!(unconfigured.code().as_deref(), Some("BAD_USER_INPUT"));
        assert_eq!(unconfigured.str_at("/errors/0/extensions/field")?, "provider");
        assert!(unconfigured.str_at("/errors/0/message")?.contains("not configured"));
        assert!(
            app.nowpayments.recorded.requests().is_empty() && app.stripe.recorded.requests().is_empty(),
            "nothing reached a provider"
        );
        Ok(())
    }
);
