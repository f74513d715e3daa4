//! The session vault over the real key store on both backends: racing first seals create one data key,
//! rotation keeps old payloads readable, and crypto-erasure makes them unreadable for good.

use std::sync::Arc;

use sea_orm::{ConnectionTrait as _, DatabaseBackend, Statement};
use tgos_domain::ids::{AccountId, WorkspaceId};
use tgos_domain::vault::{KeyOwner, KeyVersion, Purpose, SecretPayload, VaultError};
use tgos_tests::{TestApp, backend_tests};

async fn data_keys_of(app: &TestApp, owner: &KeyOwner) -> anyhow::Result<Vec<(i64, bool)>> {
    let db = app.db().await?;
    let backend = db.get_database_backend();
    let sql = if backend == DatabaseBackend::Postgres {
        "SELECT version::bigint AS version, (wrapped IS NULL) AS wiped FROM data_keys WHERE owner = $1 ORDER BY version"
    } else {
        "SELECT version, (wrapped IS NULL) AS wiped FROM data_keys WHERE owner = ? ORDER BY version"
    };
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, [owner.to_text().into()]))
        .await?;
    rows.iter()
        .map(|row| Ok((row.try_get::<i64>("", "version")?, row.try_get::<bool>("", "wiped")?)))
        .collect()
}

backend_tests!(racing_first_seals_share_one_key_and_erasure_is_final, |app| {
    let owner = KeyOwner::Workspace(WorkspaceId::generate());
    let mut seals = Vec::new();
    for i in 0..8_u8 {
        let app = Arc::clone(&app);
        seals.push(tokio::spawn(async move {
            let account = AccountId::generate();
            let sealed = app
                .vault
                .seal(
                    owner,
                    account,
                    Purpose::TelegramSession,
                    &SecretPayload::new(vec![i; 64]),
                )
                .await?;
            anyhow::Ok((account, sealed, i))
        }));
    }
    let mut sealed = Vec::new();
    for seal in seals {
        sealed.push(seal.await??);
    }
    assert_eq!(
        data_keys_of(&app, &owner).await?,
        vec![(1, false)],
        "one data key for eight racing seals"
    );
    for (account, payload, byte) in &sealed {
        assert_eq!(payload.key_version, KeyVersion::FIRST);
        let opened = app.vault.open(payload, *account, Purpose::TelegramSession).await?;
        assert_eq!(opened.expose(), vec![*byte; 64].as_slice());
    }

    // Rotation: new seals use version 2, the old payloads still open.
    assert_eq!(app.vault.rotate(owner).await?.get(), 2);
    let (account, old, byte) = &sealed[0];
    let fresh = app
        .vault
        .seal(
            owner,
            *account,
            Purpose::TelegramSession,
            &SecretPayload::new(vec![9; 8]),
        )
        .await?;
    assert_eq!(fresh.key_version.get(), 2);
    assert_eq!(
        app.vault.open(old, *account, Purpose::TelegramSession).await?.expose(),
        vec![*byte; 64].as_slice()
    );

    // Crypto-erasure: both versions are wiped, kept as tombstones, and nothing opens again.
    assert_eq!(app.vault.destroy(owner).await?, 2);
    assert_eq!(data_keys_of(&app, &owner).await?, vec![(1, true), (2, true)]);
    for payload in [old, &fresh] {
        let refused = app.vault.open(payload, *account, Purpose::TelegramSession).await;
        assert!(matches!(refused, Err(VaultError::KeyDestroyed)), "{refused:?}");
    }
    let after = app
        .vault
        .seal(
            owner,
            *account,
            Purpose::TelegramSession,
            &SecretPayload::new(vec![1; 8]),
        )
        .await?;
    assert_eq!(after.key_version.get(), 3, "a version is never reused");
    Ok(())
});
