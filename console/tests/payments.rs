//! `tgos-console payments discrepancies`: staff list the payment notifications that did not match.

use tgos_domain::billing::Provider;
use tgos_domain::billing::matching::{Mismatch, PaymentDiscrepancy};
use tgos_domain::billing::ports::PaymentMatchingRepository as _;
use tgos_domain::ids::{DiscrepancyId, TopUpId, WorkspaceId};
use tgos_persistence::{DatabaseSettings, Privileges, connect};

mod common;
use common::{backup_codes, prepared_data_dir, run_console, run_create, staff_answers, totp_code};

#[tokio::test]
async fn staff_list_payment_discrepancies_after_signing_in() -> anyhow::Result<()> {
    let dir = prepared_data_dir().await?;
    let (ok, transcript) = run_create(dir.path(), totp_code)?;
    assert!(ok, "{transcript}");
    let codes = backup_codes(&transcript);

    let empty = run_console(dir.path(), &["payments", "discrepancies"], &staff_answers(&codes[0]))?;
    assert!(empty.ok, "{empty:?}");
    assert!(empty.stdout.contains("no payment discrepancies"), "{empty:?}");

    let url = format!("sqlite://{}?mode=rw", dir.path().join("tgos.db").display());
    let store = connect(&DatabaseSettings {
        url,
        owner_url: None,
        max_connections: 1,
        privileges: Privileges::Owner,
        migrate: tgos_persistence::MigrateMode::Auto,
    })
    .await?;
    let top_up = TopUpId::generate();
    let mismatch = Mismatch::Checkout {
        expected: Some("cs_own".to_owned()),
        received: Some("cs_foreign".to_owned()),
    };
    store
        .record_discrepancy(&PaymentDiscrepancy {
            id: DiscrepancyId::generate(),
            provider: Provider::Stripe,
            event_id: "evt_foreign".to_owned(),
            top_up_id: Some(top_up),
            workspace_id: Some(WorkspaceId::generate()),
            reason: mismatch.reason().to_owned(),
            details: mismatch.details(),
            created_at: sea_orm::prelude::DateTimeUtc::from(std::time::SystemTime::now()),
        })
        .await?;

    let listed = run_console(dir.path(), &["payments", "discrepancies"], &staff_answers(&codes[1]))?;
    assert!(listed.ok, "{listed:?}");
    let line = listed
        .stdout
        .lines()
        .find(|l| l.contains("event=evt_foreign"))
        .ok_or_else(|| anyhow::anyhow!("not listed: {listed:?}"))?;
    assert!(
        line.contains("stripe") && line.contains("reason=CHECKOUT_MISMATCH"),
        "{line}"
    );
    assert!(
        line.contains(&format!("top_up={top_up}")) && line.contains("cs_foreign"),
        "{line}"
    );

    let refused = run_console(
        dir.path(),
        &["payments", "discrepancies"],
        &["root", "not the password", &codes[2]],
    )?;
    assert!(!refused.ok && !refused.stdout.contains("evt_foreign"), "{refused:?}");
    Ok(())
}
