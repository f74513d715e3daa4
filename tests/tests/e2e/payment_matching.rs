//! Payment matching and reversals: a provider's notification credits a top-up only for the checkout the
//! top-up started, at its amount and currency (a mismatch credits nothing and is recorded for staff); refunds
//! and lost disputes come off the wallet once per provider event, even into a recorded debt that refuses
//! rentals until a top-up clears it.

use serde_json::{Value, json};
use tgos_domain::audit::ports::AuditRepository as _;
use tgos_domain::billing::TopUpStatus;
use tgos_domain::billing::matching::PaymentDiscrepancy;
use tgos_domain::ids::WorkspaceId;
use tgos_persistence::payments::nowpayments::NowPaymentsIpn;
use tgos_tests::app::NOWPAYMENTS_IPN_SECRET;
use tgos_tests::{TestApp, backend_tests};

use super::accounts::{RENT, offer_ids};
use super::billing::{TOP_UP, WALLET, balance};
use super::stripe::{deliver, start_stripe_top_up, status_of};

/// A paid `checkout.session.completed` for `session` of `top_up`, for `amount` in `currency`, paid by the
/// PaymentIntent `payment`.
fn completed(id: &str, session: &str, top_up: &str, amount: i64, currency: &str, payment: &str) -> String {
    json!({
        "id": id,
        "object": "event",
        "type": "checkout.session.completed",
        "created": chrono::Utc::now().timestamp(),
        "data": { "object": {
            "id": session,
            "object": "checkout.session",
            "amount_total": amount,
            "client_reference_id": top_up,
            "currency": currency,
            "metadata": { "top_up_id": top_up },
            "mode": "payment",
            "payment_intent": payment,
            "payment_status": "paid",
            "status": "complete",
        } }
    })
    .to_string()
}

/// A `charge.refunded` event: the charge of `payment` with `refunded` refunded so far.
fn refunded(id: &str, payment: &str, amount: i64, refunded: i64) -> String {
    json!({
        "id": id,
        "object": "event",
        "type": "charge.refunded",
        "data": { "object": {
            "id": "ch_1",
            "object": "charge",
            "amount": amount,
            "amount_refunded": refunded,
            "currency": "usd",
            "payment_intent": payment,
            "refunded": refunded == amount,
        } }
    })
    .to_string()
}

/// A `charge.dispute.*` event for `payment`.
fn dispute(id: &str, kind: &str, dispute: &str, payment: &str, amount: i64, status: &str) -> String {
    json!({
        "id": id,
        "object": "event",
        "type": kind,
        "data": { "object": {
            "id": dispute,
            "object": "dispute",
            "amount": amount,
            "charge": "ch_1",
            "currency": "usd",
            "payment_intent": payment,
            "status": status,
        } }
    })
    .to_string()
}

async fn discrepancies(app: &TestApp) -> anyhow::Result<Vec<PaymentDiscrepancy>> {
    Ok(app.store.list_discrepancies(50).await?)
}

/// The actions of the platform's audit chain, as staff read it.
async fn platform_actions(app: &TestApp) -> anyhow::Result<Vec<String>> {
    let (entries, _) = app.console_store().await?.chain_entries("platform").await?;
    Ok(entries.into_iter().map(|e| e.action).collect())
}

/// The wallet's entries newest first: (kind, amount, balance after).
async fn entries(app: &TestApp, token: &str, workspace: &str) -> anyhow::Result<Vec<(String, i64, i64)>> {
    let wallet = app.gql(Some(token), WALLET, json!({ "w": workspace })).await?;
    Ok(wallet
        .at("/data/workspace/wallet/entries/edges")?
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let number = |p: &str| e.pointer(p).and_then(Value::as_i64).unwrap_or(i64::MIN);
            (
                e.pointer("/node/kind")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                number("/node/amount/amountMinor"),
                number("/node/balanceAfter/amountMinor"),
            )
        })
        .collect())
}

/// A workspace whose wallet holds `amount` paid through Stripe by the PaymentIntent `payment`.
async fn paid_through_stripe(
    app: &TestApp,
    username: &str,
    amount: i64,
    payment: &str,
) -> anyhow::Result<(String, String, String)> {
    let owner = app.sign_up(username).await?;
    let workspace = app.create_workspace(&owner, "Growth").await?;
    let (top_up, session) = start_stripe_top_up(app, &owner, &workspace, amount).await?;
    let body = completed("evt_paid", &session, &top_up, amount, "usd", payment);
    assert_eq!(deliver(app, &body).await?, 200);
    assert_eq!(balance(app, &owner, &workspace).await?, amount);
    Ok((owner, workspace, top_up))
}

backend_tests!(
    a_completed_session_of_another_checkout_credits_nothing_and_is_recorded_for_staff,
    |app| {
        let owner = app.sign_up("olive").await?;
        let workspace = app.create_workspace(&owner, "Growth").await?;
        let (top_up, session) = start_stripe_top_up(&app, &owner, &workspace, 1250).await?;

        // A session someone else created (a payment link naming our top-up), paid and signed by Stripe.
        let foreign = completed("evt_foreign", "cs_test_someone_else", &top_up, 1250, "usd", "pi_x");
        for _ in 0..2 {
            assert_eq!(
                deliver(&app, &foreign).await?,
                200,
                "acknowledged, so Stripe stops retrying"
            );
        }
        assert_eq!(balance(&app, &owner, &workspace).await?, 0, "nothing credited");
        assert_eq!(status_of(&app, &top_up).await?, TopUpStatus::Pending);
        let recorded = discrepancies(&app).await?;
        assert_eq!(
            recorded.len(),
            1,
            "one record however often it is retried: {recorded:?}"
        );
        assert_eq!(recorded[0].reason, "CHECKOUT_MISMATCH");
        assert_eq!(recorded[0].event_id, "evt_foreign");
        assert_eq!(recorded[0].top_up_id.map(|id| id.to_string()), Some(top_up.clone()));
        assert_eq!(
            recorded[0].details,
            json!({ "expected": session, "received": "cs_test_someone_else" })
        );
        let actions = platform_actions(&app).await?;
        assert_eq!(
            actions.iter().filter(|a| *a == "payment.discrepancy").count(),
            1,
            "{actions:?}"
        );

        // The top-up's own session still pays it.
        let own = completed("evt_own", &session, &top_up, 1250, "usd", "pi_1");
        assert_eq!(deliver(&app, &own).await?, 200);
        assert_eq!(balance(&app, &owner, &workspace).await?, 1250);
        assert_eq!(status_of(&app, &top_up).await?, TopUpStatus::Paid);
        Ok(())
    }
);

backend_tests!(
    a_completed_session_for_another_amount_or_currency_credits_nothing_and_is_recorded,
    |app| {
        let owner = app.sign_up("olive").await?;
        let workspace = app.create_workspace(&owner, "Growth").await?;
        let (top_up, session) = start_stripe_top_up(&app, &owner, &workspace, 1250).await?;
        let cheaper = completed("evt_cheap", &session, &top_up, 100, "usd", "pi_1");
        assert_eq!(deliver(&app, &cheaper).await?, 200);
        let dearer = completed("evt_dear", &session, &top_up, 125_000, "usd", "pi_1");
        assert_eq!(deliver(&app, &dearer).await?, 200);
        let euros = completed("evt_eur", &session, &top_up, 1250, "eur", "pi_1");
        assert_eq!(deliver(&app, &euros).await?, 200);
        assert_eq!(balance(&app, &owner, &workspace).await?, 0, "nothing credited");
        assert_eq!(status_of(&app, &top_up).await?, TopUpStatus::Pending);
        let mut recorded = discrepancies(&app).await?;
        recorded.sort_by(|a, b| a.event_id.cmp(&b.event_id));
        let seen: Vec<(&str, &str)> = recorded
            .iter()
            .map(|d| (d.event_id.as_str(), d.reason.as_str()))
            .collect();
        assert_eq!(
            seen,
            vec![
                ("evt_cheap", "AMOUNT_MISMATCH"),
                ("evt_dear", "AMOUNT_MISMATCH"),
                ("evt_eur", "AMOUNT_MISMATCH"),
            ]
        );
        assert_eq!(
            recorded[0].details,
            json!({
                "expected": { "amountMinor": 1250, "currency": "USD" },
                "received": { "amountMinor": 100, "currency": "USD" },
            })
        );
        Ok(())
    }
);

backend_tests!(
    a_nowpayments_callback_for_another_amount_or_invoice_credits_nothing,
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
        let top_up = created.str_at("/data/createTopUp/id")?;
        let invoice = app
            .store
            .find_top_up(top_up.parse()?)
            .await?
            .and_then(|t| t.provider_ref)
            .ok_or_else(|| anyhow::anyhow!("no invoice stored"))?;
        let signer = NowPaymentsIpn::new(NOWPAYMENTS_IPN_SECRET.to_owned().into());
        let send = |body: Value| {
            let app = std::sync::Arc::clone(&app);
            let signature = signer.sign(&body);
            async move {
                let response = app
                    .http()
                    .post(app.url("/webhooks/nowpayments"))
                    .header("x-nowpayments-sig", signature)
                    .header("content-type", "application/json")
                    .body(body.to_string())
                    .send()
                    .await?;
                anyhow::Ok(response.status().as_u16())
            }
        };
        let ipn = |payment: u64, price: f64, invoice: &str| {
            json!({
                "payment_id": payment,
                "invoice_id": invoice.parse::<u64>().unwrap_or_default(),
                "payment_status": "finished",
                "order_id": top_up,
                "price_amount": price,
                "price_currency": "usd",
                "pay_amount": 0.001,
                "actually_paid": 0.001,
                "pay_currency": "btc",
            })
        };
        assert_eq!(send(ipn(1, 0.5, &invoice)).await?, 200);
        assert_eq!(send(ipn(2, 25.5, "4999999999")).await?, 200);
        assert_eq!(balance(&app, &owner, &workspace).await?, 0, "nothing credited");
        let mut reasons: Vec<String> = discrepancies(&app).await?.into_iter().map(|d| d.reason).collect();
        reasons.sort();
        assert_eq!(reasons, vec!["AMOUNT_MISMATCH", "CHECKOUT_MISMATCH"]);
        assert_eq!(send(ipn(3, 25.5, &invoice)).await?, 200);
        assert_eq!(
            balance(&app, &owner, &workspace).await?,
            2550,
            "its own invoice pays it"
        );
        Ok(())
    }
);

backend_tests!(
    a_refund_after_credit_takes_the_balance_back_down_once_per_event,
    |app| {
        let (owner, workspace, _) = paid_through_stripe(&app, "olive", 1250, "pi_1").await?;
        let partial = refunded("evt_refund_1", "pi_1", 1250, 500);
        for _ in 0..3 {
            assert_eq!(deliver(&app, &partial).await?, 200);
        }
        assert_eq!(balance(&app, &owner, &workspace).await?, 750);
        // The rest, then a stale copy of the first: the running total only moves forward.
        assert_eq!(deliver(&app, &refunded("evt_refund_2", "pi_1", 1250, 1250)).await?, 200);
        assert_eq!(deliver(&app, &partial).await?, 200);
        assert_eq!(balance(&app, &owner, &workspace).await?, 0);
        assert_eq!(
            entries(&app, &owner, &workspace).await?,
            vec![
                ("REFUND".to_owned(), -750, 0),
                ("REFUND".to_owned(), -500, 750),
                ("TOP_UP".to_owned(), 1250, 1250),
            ]
        );
        let check = app.billing_check(WorkspaceId::from_uuid(workspace.parse()?)).await?;
        assert_eq!(
            (check.transactions, check.postings_sum, check.wallet_balance),
            (3, 0, 0)
        );

        // A refund of a payment no top-up was credited for moves nothing and is recorded.
        assert_eq!(
            deliver(&app, &refunded("evt_refund_x", "pi_unknown", 900, 900)).await?,
            200
        );
        let recorded = discrepancies(&app).await?;
        assert_eq!(recorded.len(), 1);
        assert_eq!(recorded[0].reason, "UNKNOWN_PAYMENT");
        assert_eq!(balance(&app, &owner, &workspace).await?, 0);
        Ok(())
    }
);

backend_tests!(
    a_refund_larger_than_the_balance_leaves_a_recorded_debt_that_refuses_rentals,
    |app| {
        let (owner, workspace, top_up) = paid_through_stripe(&app, "olive", 1250, "pi_1").await?;
        app.stock_pool(2, 500).await?;
        let offers = offer_ids(&app, &owner).await?;
        let rented = app
            .gql(Some(&owner), RENT, json!({ "w": workspace, "o": offers[0], "d": 2 }))
            .await?;
        assert!(rented.is_ok(), "{:?}", rented.body);
        assert_eq!(balance(&app, &owner, &workspace).await?, 250, "the money was spent");

        assert_eq!(deliver(&app, &refunded("evt_refund", "pi_1", 1250, 1250)).await?, 200);
        assert_eq!(balance(&app, &owner, &workspace).await?, -1000, "a debt");
        assert_eq!(
            entries(&app, &owner, &workspace).await?[0],
            ("REFUND".to_owned(), -1250, -1000)
        );
        let log = app
            .gql(
                Some(&owner),
                "query($w: ID!) { workspace(id: $w) { auditLog(first: 5) { edges { node { action targetId metadata } } } } }",
                json!({ "w": workspace }),
            )
            .await?;
        let newest = log.at("/data/workspace/auditLog/edges/0/node")?;
        assert_eq!(newest["action"], json!("wallet.refunded"));
        assert_eq!(newest["targetId"], json!(top_up));
        assert_eq!(newest["metadata"]["debtMinor"], json!(1000));

        let refused = app
            .gql(Some(&owner), RENT, json!({ "w": workspace, "o": offers[1], "d": 1 }))
            .await?;
        assert_eq!(refused.code().as_deref(), Some("INSUFFICIENT_FUNDS"));
        let message = refused.str_at("/errors/0/message")?;
        assert!(message.contains("in debt (-10.00 USD)"), "{message}");
        assert!(message.contains("top up"), "{message}");
        assert_eq!(balance(&app, &owner, &workspace).await?, -1000, "nothing charged");
        let check = app.billing_check(WorkspaceId::from_uuid(workspace.parse()?)).await?;
        assert_eq!((check.postings_sum, check.wallet_balance), (0, -1000));
        assert_eq!(check.wallet_postings_sum, check.wallet_balance);
        Ok(())
    }
);

backend_tests!(a_lost_dispute_reverses_once_and_a_won_one_moves_nothing, |app| {
    let (owner, workspace, _) = paid_through_stripe(&app, "olive", 1250, "pi_1").await?;
    let opened = dispute(
        "evt_d1",
        "charge.dispute.created",
        "dp_1",
        "pi_1",
        1250,
        "needs_response",
    );
    assert_eq!(deliver(&app, &opened).await?, 200);
    assert_eq!(
        balance(&app, &owner, &workspace).await?,
        1250,
        "an open dispute moves nothing"
    );
    let lost = dispute("evt_d2", "charge.dispute.closed", "dp_1", "pi_1", 1250, "lost");
    for _ in 0..2 {
        assert_eq!(deliver(&app, &lost).await?, 200);
    }
    // The same dispute's closing in another event (Stripe's retries carry the same id; a replay does not).
    let again = dispute("evt_d3", "charge.dispute.closed", "dp_1", "pi_1", 1250, "lost");
    assert_eq!(deliver(&app, &again).await?, 200);
    assert_eq!(balance(&app, &owner, &workspace).await?, 0);
    assert_eq!(
        entries(&app, &owner, &workspace).await?[0],
        ("REVERSAL".to_owned(), -1250, 0)
    );

    let (owner, workspace, _) = paid_through_stripe(&app, "peter", 1250, "pi_2").await?;
    let won = dispute("evt_d4", "charge.dispute.closed", "dp_2", "pi_2", 1250, "won");
    assert_eq!(deliver(&app, &won).await?, 200);
    assert_eq!(balance(&app, &owner, &workspace).await?, 1250);
    Ok(())
});
