//! The account pool end to end: offers, rentals paid from the wallet, renewals, releases and expiry
//! ([`rentals`]), account health and operators' pauses ([`health`]), and the sandbox gateway's tools over one
//! connection per account ([`sandbox`]).

mod health;
mod rentals;
mod sandbox;

use sea_orm::{ConnectionTrait as _, DatabaseBackend, Statement};
use serde_json::{Value, json};
use tgos_tests::TestApp;

pub(crate) const OFFERS: &str = "query($c: String) { accountOffers(first: 10, country: $c) { edges { node { id country premium sandbox accountAgeDays pricePerDay { amountMinor formatted } } } } }";
pub(crate) const RENT: &str = "mutation($w: ID!, $o: ID!, $d: Int!) { rentAccount(workspaceId: $w, offerId: $o, days: $d) { id status startsAt endsAt pricePerDay { amountMinor } account { id displayName phoneMasked sandbox status leasedUntil } } }";
pub(crate) const RENEW: &str = "mutation($l: ID!, $d: Int!) { renewLease(leaseId: $l, days: $d) { id status endsAt } }";
pub(crate) const RELEASE: &str = "mutation($l: ID!) { releaseLease(leaseId: $l) { id status endsAt account { id } } }";
pub(crate) const HOLDINGS: &str = "query($w: ID!) { workspace(id: $w) { accounts { edges { node { id sandbox } } } leases { edges { node { id status account { id } } } } } }";

pub(crate) const HEALTH: &str = "query($w: ID!) { workspace(id: $w) { accounts { edges { node { id health { state riskScore restrictions cooldownUntil signals { at points } } counters(days: 2) { day messagesSent messagesReceived replies distinctPeers } } } } } }";
pub(crate) const CONTACT_SEND: &str =
    "mutation($a: ID!, $c: String!, $t: String!) { sandboxContactSend(accountId: $a, contact: $c, text: $t) }";
pub(crate) const INJECT: &str =
    "mutation($a: ID!, $f: SandboxFault!, $s: Int) { sandboxInjectFault(accountId: $a, fault: $f, seconds: $s) }";
pub(crate) const PAUSE: &str = "mutation($a: ID!) { pauseAccount(accountId: $a) { state restrictions } }";
pub(crate) const RESUME: &str = "mutation($a: ID!) { resumeAccount(accountId: $a) { state restrictions } }";

pub(crate) async fn offer_ids(app: &TestApp, token: &str) -> anyhow::Result<Vec<String>> {
    let offers = app.gql(Some(token), OFFERS, json!({})).await?;
    assert!(offers.is_ok(), "{:?}", offers.body);
    Ok(offers
        .at("/data/accountOffers/edges")?
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e.pointer("/node/id").and_then(Value::as_str).map(str::to_owned))
        .collect())
}

/// A workspace of a new owner with `credit` cents in its wallet.
pub(crate) async fn funded(app: &TestApp, username: &str, credit: i64) -> anyhow::Result<(String, String)> {
    let owner = app.sign_up(username).await?;
    let workspace = app.create_workspace(&owner, "Agency").await?;
    if credit > 0 {
        app.credit_wallet(&owner, &workspace, credit).await?;
    }
    Ok((owner, workspace))
}

/// Who holds the account's payload key now, read behind the server's back.
pub(crate) async fn sealed_owner(app: &TestApp, account: &str) -> anyhow::Result<String> {
    let db = app.db().await?;
    let backend = db.get_database_backend();
    let sql = if backend == DatabaseBackend::Postgres {
        "SELECT key_owner FROM telegram_accounts WHERE id = $1::uuid"
    } else {
        "SELECT key_owner FROM telegram_accounts WHERE id = ?"
    };
    let id: uuid::Uuid = account.parse()?;
    let value: sea_orm::Value = if backend == DatabaseBackend::Postgres {
        id.to_string().into()
    } else {
        id.into()
    };
    let row = db
        .query_one_raw(Statement::from_sql_and_values(backend, sql, [value]))
        .await?
        .ok_or_else(|| anyhow::anyhow!("account {account} not stored"))?;
    Ok(row.try_get::<String>("", "key_owner")?)
}
