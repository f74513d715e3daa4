//! Stripe top-ups: the real async-stripe client against a fake Stripe that answers as Stripe does, then
//! signed Checkout notifications delivered once, many times at once, and out of order.

use std::sync::Arc;

use serde_json::{Value, json};
use tgos_domain::billing::TopUpStatus;
use tgos_domain::ids::{TopUpId, WorkspaceId};
use tgos_persistence::payments::stripe::StripeWebhook;
use tgos_tests::app::{STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET};
use tgos_tests::{TestApp, backend_tests};

use super::billing::{TOP_UP, balance};

const AUDIT: &str = "query($w: ID!) { workspace(id: $w) { auditLog(first: 20) { edges { node { action actor { kind displayName } targetType targetId metadata } } } } }";

/// Starts a Stripe top-up over GraphQL; returns its id and the Checkout Session id the fake assigned.
pub(crate) async fn start_stripe_top_up(
    app: &TestApp,
    token: &str,
    workspace: &str,
    amount: i64,
) -> anyhow::Result<(String, String)> {
    let created = app
        .gql(
            Some(token),
            TOP_UP,
            json!({ "w": workspace, "p": "STRIPE", "a": amount, "c": "USD" }),
        )
        .await?;
    assert!(created.is_ok(), "{:?}", created.body);
    let url = created.str_at("/data/createTopUp/checkoutUrl")?;
    let session = url
        .strip_prefix("https://checkout.stripe.com/c/pay/")
        .and_then(|rest| rest.split('#').next())
        .ok_or_else(|| anyhow::anyhow!("not a Checkout URL: {url}"))?
        .to_owned();
    Ok((created.str_at("/data/createTopUp/id")?, session))
}

/// A Checkout Session event as Stripe sends it.
pub(crate) fn event(
    id: &str,
    kind: &str,
    session: &str,
    top_up: &str,
    workspace: &str,
    payment_status: &str,
) -> String {
    json!({
        "id": id,
        "object": "event",
        "api_version": "2025-09-30.clover",
        "created": chrono::Utc::now().timestamp(),
        "livemode": false,
        "pending_webhooks": 1,
        "type": kind,
        "data": { "object": {
            "id": session,
            "object": "checkout.session",
            "amount_subtotal": 1250,
            "amount_total": 1250,
            "client_reference_id": top_up,
            "currency": "usd",
            "metadata": { "top_up_id": top_up, "workspace_id": workspace },
            "mode": "payment",
            "payment_status": payment_status,
            "status": if kind == "checkout.session.expired" { "expired" } else { "complete" },
        } }
    })
    .to_string()
}

pub(crate) async fn deliver(app: &TestApp, body: &str) -> anyhow::Result<u16> {
    let signature =
        StripeWebhook::new(STRIPE_WEBHOOK_SECRET.to_owned()).sign(body.as_bytes(), chrono::Utc::now().timestamp());
    let response = app
        .http()
        .post(app.url("/webhooks/stripe"))
        .header("stripe-signature", signature)
        .header("content-type", "application/json; charset=utf-8")
        .body(body.to_owned())
        .send()
        .await?;
    Ok(response.status().as_u16())
}

pub(crate) async fn status_of(app: &TestApp, top_up: &str) -> anyhow::Result<TopUpStatus> {
    let id: TopUpId = top_up.parse()?;
    let record = app
        .store
        .find_top_up(id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("top-up {top_up} not stored"))?;
    Ok(record.status)
}

backend_tests!(
    a_stripe_top_up_credits_once_when_its_event_arrives_twenty_times_at_once,
    |app| {
        let owner = app.sign_up("olive").await?;
        let workspace = app.create_workspace(&owner, "Growth").await?;
        let (top_up, session) = start_stripe_top_up(&app, &owner, &workspace, 1250).await?;

        // The real client sent Stripe the Checkout Session it needs.
        let requests = app.stripe.recorded.requests();
        assert_eq!(requests.len(), 1);
        let sent = &requests[0];
        assert_eq!(sent.authorization, format!("Bearer {STRIPE_SECRET_KEY}"));
        assert_eq!(sent.field("mode"), Some("payment"));
        assert_eq!(sent.field("line_items[0][price_data][unit_amount]"), Some("1250"));
        assert_eq!(sent.field("line_items[0][price_data][currency]"), Some("usd"));
        assert_eq!(sent.field("line_items[0][quantity]"), Some("1"));
        assert_eq!(sent.field("metadata[top_up_id]"), Some(top_up.as_str()));
        assert_eq!(sent.field("metadata[workspace_id]"), Some(workspace.as_str()));
        assert_eq!(sent.field("client_reference_id"), Some(top_up.as_str()));
        assert!(
            sent.field("success_url")
                .is_some_and(|u| u.ends_with("/billing?top_up=success"))
        );
        assert!(
            sent.form.iter().all(|(key, _)| !key.contains("card")),
            "no card data passes through the server: {:?}",
            sent.form
        );
        assert_eq!(status_of(&app, &top_up).await?, TopUpStatus::Pending);
        assert_eq!(balance(&app, &owner, &workspace).await?, 0);

        // Stripe retries a notification it thinks was lost: twenty copies of one event at once.
        let completed = Arc::new(event(
            "evt_1Paid",
            "checkout.session.completed",
            &session,
            &top_up,
            &workspace,
            "paid",
        ));
        let mut deliveries = Vec::new();
        for _ in 0..20 {
            let (app, body) = (Arc::clone(&app), Arc::clone(&completed));
            deliveries.push(tokio::spawn(async move { deliver(&app, &body).await }));
        }
        for delivery in deliveries {
            assert_eq!(delivery.await??, 200, "every copy is acknowledged");
        }
        assert_eq!(balance(&app, &owner, &workspace).await?, 1250, "credited exactly once");
        assert_eq!(status_of(&app, &top_up).await?, TopUpStatus::Paid);
        let check = app.billing_check(WorkspaceId::from_uuid(workspace.parse()?)).await?;
        assert_eq!(check.transactions, 1);
        assert_eq!(check.postings_sum, 0);
        assert_eq!(check.wallet_postings_sum, 1250);

        // The credit and its top-up are in the workspace's audit log, by Stripe.
        let log = app.gql(Some(&owner), AUDIT, json!({ "w": workspace })).await?;
        let entries = log
            .at("/data/workspace/auditLog/edges")?
            .as_array()
            .cloned()
            .unwrap_or_default();
        let actions: Vec<&str> = entries
            .iter()
            .filter_map(|e| e.pointer("/node/action").and_then(Value::as_str))
            .collect();
        assert_eq!(
            actions.iter().filter(|a| **a == "wallet.credited").count(),
            1,
            "one credit, one audit entry: {actions:?}"
        );
        assert_eq!(actions.iter().filter(|a| **a == "top_up.created").count(), 1);
        let credited = entries
            .iter()
            .find(|e| e.pointer("/node/action").and_then(Value::as_str) == Some("wallet.credited"))
            .ok_or_else(|| anyhow::anyhow!("no wallet.credited entry"))?;
        assert_eq!(credited.pointer("/node/actor/kind"), Some(&json!("SYSTEM")));
        assert_eq!(credited.pointer("/node/actor/displayName"), Some(&json!("Stripe")));
        assert_eq!(credited.pointer("/node/targetId"), Some(&json!(top_up)));
        assert_eq!(credited.pointer("/node/metadata/amountMinor"), Some(&json!(1250)));
        assert_eq!(credited.pointer("/node/metadata/event"), Some(&json!("evt_1Paid")));
        Ok(())
    }
);

backend_tests!(stripe_events_out_of_order_only_ever_move_a_top_up_forward, |app| {
    let owner = app.sign_up("olive").await?;
    let workspace = app.create_workspace(&owner, "Growth").await?;

    // A delayed payment method: completed but unpaid, then the money arrives, then stale copies.
    let (delayed, session) = start_stripe_top_up(&app, &owner, &workspace, 1250).await?;
    let unpaid = event(
        "evt_2Unpaid",
        "checkout.session.completed",
        &session,
        &delayed,
        &workspace,
        "unpaid",
    );
    assert_eq!(deliver(&app, &unpaid).await?, 200);
    assert_eq!(
        balance(&app, &owner, &workspace).await?,
        0,
        "nothing is credited before the money arrives"
    );
    assert_eq!(status_of(&app, &delayed).await?, TopUpStatus::Pending);
    let succeeded = event(
        "evt_3Succeeded",
        "checkout.session.async_payment_succeeded",
        &session,
        &delayed,
        &workspace,
        "paid",
    );
    assert_eq!(deliver(&app, &succeeded).await?, 200);
    assert_eq!(balance(&app, &owner, &workspace).await?, 1250);
    for late in [
        unpaid,
        event(
            "evt_4Failed",
            "checkout.session.async_payment_failed",
            &session,
            &delayed,
            &workspace,
            "unpaid",
        ),
        event(
            "evt_5Expired",
            "checkout.session.expired",
            &session,
            &delayed,
            &workspace,
            "unpaid",
        ),
        event(
            "evt_6Paid",
            "checkout.session.completed",
            &session,
            &delayed,
            &workspace,
            "paid",
        ),
    ] {
        assert_eq!(deliver(&app, &late).await?, 200);
    }
    assert_eq!(
        status_of(&app, &delayed).await?,
        TopUpStatus::Paid,
        "a late event never moves it back"
    );
    assert_eq!(
        balance(&app, &owner, &workspace).await?,
        1250,
        "and never credits twice"
    );

    // An abandoned checkout expires; a late failure of the same session changes nothing.
    let (abandoned, session) = start_stripe_top_up(&app, &owner, &workspace, 1250).await?;
    let expired = event(
        "evt_7Expired",
        "checkout.session.expired",
        &session,
        &abandoned,
        &workspace,
        "unpaid",
    );
    assert_eq!(deliver(&app, &expired).await?, 200);
    assert_eq!(status_of(&app, &abandoned).await?, TopUpStatus::Expired);
    let failed = event(
        "evt_8Failed",
        "checkout.session.async_payment_failed",
        &session,
        &abandoned,
        &workspace,
        "unpaid",
    );
    assert_eq!(deliver(&app, &failed).await?, 200);
    assert_eq!(status_of(&app, &abandoned).await?, TopUpStatus::Expired);
    assert_eq!(balance(&app, &owner, &workspace).await?, 1250);

    let check = app.billing_check(WorkspaceId::from_uuid(workspace.parse()?)).await?;
    assert_eq!(
        (check.transactions, check.postings_sum, check.wallet_balance),
        (1, 0, 1250)
    );
    Ok(())
});

backend_tests!(
    stripe_webhooks_refuse_bad_signatures_and_acknowledge_what_they_ignore,
    |app| {
        let hook = StripeWebhook::new(STRIPE_WEBHOOK_SECRET.to_owned());
        let now = chrono::Utc::now().timestamp();
        let send = |body: String, signature: String| {
            let app = Arc::clone(&app);
            async move {
                let response = app
                    .http()
                    .post(app.url("/webhooks/stripe"))
                    .header("stripe-signature", signature)
                    .body(body)
                    .send()
                    .await?;
                anyhow::Ok(response.status().as_u16())
            }
        };
        let completed = json!({
            "id": "evt_1",
            "type": "checkout.session.completed",
            "data": { "object": {
                "id": "cs_test_1", "payment_status": "paid", "amount_total": 1000, "currency": "usd",
                "metadata": { "top_up_id": uuid::Uuid::now_v7().to_string() }
            } }
        })
        .to_string();
        let signed = hook.sign(completed.as_bytes(), now);
        assert_eq!(
            send(completed.replace("1000", "9000"), signed.clone()).await?,
            400,
            "tampered body"
        );
        let wrong = StripeWebhook::new("whsec_wrong".to_owned()).sign(completed.as_bytes(), now);
        assert_eq!(send(completed.clone(), wrong).await?, 400, "wrong secret");
        let stale = hook.sign(completed.as_bytes(), now - 301);
        assert_eq!(send(completed.clone(), stale).await?, 400, "stale timestamp");
        assert_eq!(send(completed.clone(), String::new()).await?, 400, "no signature");
        assert_eq!(
            send(completed.clone(), signed).await?,
            404,
            "a signed event for an unknown top-up"
        );
        let other = json!({ "id": "evt_2", "type": "customer.created", "data": { "object": {} } }).to_string();
        let signed_other = hook.sign(other.as_bytes(), now);
        assert_eq!(
            send(other, signed_other).await?,
            200,
            "unknown event types are acknowledged"
        );
        Ok(())
    }
);
