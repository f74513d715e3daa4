//! The vault's behaviour end to end over the in-memory key store.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::memory::MemoryKeyStore;
use super::*;
use crate::clock::SystemClock;
use crate::crypto::MasterKey;
use crate::ids::{AccountId, WorkspaceId};

struct Fixture {
    store: Arc<MemoryKeyStore>,
    master: Arc<MasterKey>,
    vault: Vault,
}

fn fixture() -> Fixture {
    let store = Arc::new(MemoryKeyStore::default());
    let master = Arc::new(MasterKey::generate());
    let vault = vault_with(&store, &master);
    Fixture { store, master, vault }
}

fn vault_with(store: &Arc<MemoryKeyStore>, master: &Arc<MasterKey>) -> Vault {
    Vault::new(store.clone(), master.clone(), Arc::new(SystemClock))
}

fn workspace() -> KeyOwner {
    KeyOwner::Workspace(WorkspaceId::generate())
}

fn session(text: &str) -> SecretPayload {
    SecretPayload::new(text.as_bytes().to_vec())
}

const SESSION: Purpose = Purpose::TelegramSession;

fn is_open_failed<T>(result: &Result<T, VaultError>) -> bool {
    matches!(result, Err(VaultError::OpenFailed))
}

#[tokio::test]
async fn a_sealed_session_opens_to_the_same_bytes_under_version_one() {
    let f = fixture();
    let (owner, account) = (workspace(), AccountId::generate());
    let sealed = f
        .vault
        .seal(owner, account, SESSION, &session("dc2:auth-key"))
        .await
        .unwrap();
    assert_eq!(sealed.owner, owner);
    assert_eq!(sealed.key_version, KeyVersion::FIRST);
    let opened = f.vault.open(&sealed, account, SESSION).await.unwrap();
    assert_eq!(opened.expose(), b"dc2:auth-key");
    assert_eq!(f.store.records(owner).len(), 1);
}

#[tokio::test]
async fn later_seals_reuse_the_owners_current_key() {
    let f = fixture();
    let owner = workspace();
    for _ in 0..3 {
        let sealed = f
            .vault
            .seal(owner, AccountId::generate(), SESSION, &session("s"))
            .await
            .unwrap();
        assert_eq!(sealed.key_version, KeyVersion::FIRST);
    }
    assert_eq!(f.store.records(owner).len(), 1);
}

#[tokio::test]
async fn a_payload_copied_to_another_workspace_fails_to_open() {
    let f = fixture();
    let (owner, other, account) = (workspace(), workspace(), AccountId::generate());
    let sealed = f.vault.seal(owner, account, SESSION, &session("secret")).await.unwrap();

    let mut copied = sealed.clone();
    copied.owner = other;
    assert!(matches!(
        f.vault.open(&copied, account, SESSION).await,
        Err(VaultError::NoKey)
    ));

    f.vault
        .seal(other, AccountId::generate(), SESSION, &session("theirs"))
        .await
        .unwrap();
    assert!(is_open_failed(&f.vault.open(&copied, account, SESSION).await));
}

#[tokio::test]
async fn a_platform_payload_never_opens_as_a_workspace_payload_nor_the_reverse() {
    let f = fixture();
    let (owner, account) = (workspace(), AccountId::generate());
    let platform = f
        .vault
        .seal(KeyOwner::Platform, account, SESSION, &session("pool"))
        .await
        .unwrap();
    let tenant = f.vault.seal(owner, account, SESSION, &session("rented")).await.unwrap();

    let mut as_tenant = platform.clone();
    as_tenant.owner = owner;
    assert!(is_open_failed(&f.vault.open(&as_tenant, account, SESSION).await));
    let mut as_platform = tenant;
    as_platform.owner = KeyOwner::Platform;
    assert!(is_open_failed(&f.vault.open(&as_platform, account, SESSION).await));
    assert!(f.vault.open(&platform, account, SESSION).await.is_ok());
}

#[tokio::test]
async fn a_payload_opened_for_another_account_fails() {
    let f = fixture();
    let owner = workspace();
    let sealed = f
        .vault
        .seal(owner, AccountId::generate(), SESSION, &session("s"))
        .await
        .unwrap();
    assert!(is_open_failed(
        &f.vault.open(&sealed, AccountId::generate(), SESSION).await
    ));
}

#[tokio::test]
async fn a_payload_opened_for_another_purpose_fails() {
    let f = fixture();
    let account = AccountId::generate();
    let sealed = f
        .vault
        .seal(workspace(), account, SESSION, &session("s"))
        .await
        .unwrap();
    let result = f.vault.open(&sealed, account, Purpose::TelegramTwoStepPassword).await;
    assert!(is_open_failed(&result));
}

#[tokio::test]
async fn a_payload_relabelled_with_another_key_version_fails_to_open() {
    let f = fixture();
    let (owner, account) = (workspace(), AccountId::generate());
    let sealed = f.vault.seal(owner, account, SESSION, &session("s")).await.unwrap();
    f.vault.rotate(owner).await.unwrap();
    let mut relabelled = sealed;
    relabelled.key_version = KeyVersion::FIRST.next();
    assert!(is_open_failed(&f.vault.open(&relabelled, account, SESSION).await));
}

#[tokio::test]
async fn a_payload_naming_a_version_never_made_reports_no_key() {
    let f = fixture();
    let (owner, account) = (workspace(), AccountId::generate());
    let mut sealed = f.vault.seal(owner, account, SESSION, &session("s")).await.unwrap();
    sealed.key_version = KeyVersion::new(9).unwrap();
    assert!(matches!(
        f.vault.open(&sealed, account, SESSION).await,
        Err(VaultError::NoKey)
    ));
}

#[tokio::test]
async fn a_tampered_or_truncated_payload_fails_to_open_through_the_vault() {
    let f = fixture();
    let (owner, account) = (workspace(), AccountId::generate());
    let sealed = f
        .vault
        .seal(owner, account, SESSION, &session("session"))
        .await
        .unwrap();
    for index in [0, 11, 12, sealed.ciphertext.len() - 1] {
        let mut tampered = sealed.clone();
        tampered.ciphertext[index] ^= 0x80;
        assert!(
            is_open_failed(&f.vault.open(&tampered, account, SESSION).await),
            "byte {index}"
        );
    }
    for len in [0, 11, 12, 27, sealed.ciphertext.len() - 1] {
        let mut truncated = sealed.clone();
        truncated.ciphertext.truncate(len);
        assert!(
            is_open_failed(&f.vault.open(&truncated, account, SESSION).await),
            "length {len}"
        );
    }
}

#[tokio::test]
async fn a_vault_with_another_master_key_cannot_unwrap_the_data_keys() {
    let f = fixture();
    let account = AccountId::generate();
    let sealed = f
        .vault
        .seal(workspace(), account, SESSION, &session("s"))
        .await
        .unwrap();
    let stranger = vault_with(&f.store, &Arc::new(MasterKey::generate()));
    assert!(matches!(
        stranger.open(&sealed, account, SESSION).await,
        Err(VaultError::DataKeyUnwrapFailed)
    ));
}

#[tokio::test]
async fn after_rotation_new_seals_use_the_new_version_and_old_payloads_still_open() {
    let f = fixture();
    let (owner, account) = (workspace(), AccountId::generate());
    let old = f.vault.seal(owner, account, SESSION, &session("old")).await.unwrap();

    assert_eq!(f.vault.rotate(owner).await.unwrap().get(), 2);
    let new = f.vault.seal(owner, account, SESSION, &session("new")).await.unwrap();

    assert_eq!(new.key_version.get(), 2);
    assert_eq!(f.vault.open(&old, account, SESSION).await.unwrap().expose(), b"old");
    assert_eq!(f.vault.open(&new, account, SESSION).await.unwrap().expose(), b"new");
    assert_eq!(f.store.records(owner).len(), 2);
}

#[tokio::test]
async fn rotating_an_owner_without_a_key_creates_version_one() {
    let f = fixture();
    let owner = workspace();
    assert_eq!(f.vault.rotate(owner).await.unwrap(), KeyVersion::FIRST);
    let sealed = f
        .vault
        .seal(owner, AccountId::generate(), SESSION, &session("s"))
        .await
        .unwrap();
    assert_eq!(sealed.key_version, KeyVersion::FIRST);
}

#[tokio::test]
async fn the_current_version_is_the_highest_live_one_and_proves_the_master_key() {
    let f = fixture();
    let owner = workspace();
    assert_eq!(f.vault.current_version(owner).await.unwrap(), None, "no key yet");
    f.vault
        .seal(owner, AccountId::generate(), SESSION, &session("s"))
        .await
        .unwrap();
    assert_eq!(f.vault.current_version(owner).await.unwrap(), Some(KeyVersion::FIRST));
    f.vault.rotate(owner).await.unwrap();
    assert_eq!(
        f.vault.current_version(owner).await.unwrap().map(KeyVersion::get),
        Some(2)
    );

    let stranger = vault_with(&f.store, &Arc::new(MasterKey::generate()));
    assert!(matches!(
        stranger.current_version(owner).await,
        Err(VaultError::DataKeyUnwrapFailed)
    ));
    f.vault.destroy(owner).await.unwrap();
    assert_eq!(
        f.vault.current_version(owner).await.unwrap(),
        None,
        "destroyed keys are not current"
    );
}

#[tokio::test]
async fn reseal_moves_an_old_payload_to_the_current_version() {
    let f = fixture();
    let (owner, account) = (workspace(), AccountId::generate());
    let old = f.vault.seal(owner, account, SESSION, &session("moved")).await.unwrap();
    f.vault.rotate(owner).await.unwrap();

    let moved = f.vault.reseal(&old, account, SESSION, owner).await.unwrap();

    assert_eq!(moved.owner, owner);
    assert_eq!(moved.key_version.get(), 2);
    assert_eq!(f.vault.open(&moved, account, SESSION).await.unwrap().expose(), b"moved");
}

#[tokio::test]
async fn a_rented_account_is_resealed_under_the_renters_key_and_back_on_release() {
    let f = fixture();
    let (renter, account) = (workspace(), AccountId::generate());
    let pooled = f
        .vault
        .seal(KeyOwner::Platform, account, SESSION, &session("pool"))
        .await
        .unwrap();

    let rented = f.vault.reseal(&pooled, account, SESSION, renter).await.unwrap();
    assert_eq!(rented.owner, renter);
    assert_eq!(f.vault.open(&rented, account, SESSION).await.unwrap().expose(), b"pool");
    let mut mislabelled = rented.clone();
    mislabelled.owner = KeyOwner::Platform;
    assert!(is_open_failed(&f.vault.open(&mislabelled, account, SESSION).await));

    let released = f
        .vault
        .reseal(&rented, account, SESSION, KeyOwner::Platform)
        .await
        .unwrap();
    assert_eq!(released.owner, KeyOwner::Platform);
    assert_eq!(
        f.vault.open(&released, account, SESSION).await.unwrap().expose(),
        b"pool"
    );
}

#[tokio::test]
async fn master_key_rotation_rewraps_every_data_key_and_payloads_open_with_the_new_one() {
    let f = fixture();
    let (a, b, account) = (workspace(), workspace(), AccountId::generate());
    let mut sealed = Vec::new();
    for owner in [a, b, KeyOwner::Platform] {
        sealed.push(f.vault.seal(owner, account, SESSION, &session("v1")).await.unwrap());
        f.vault.rotate(owner).await.unwrap();
        sealed.push(f.vault.seal(owner, account, SESSION, &session("v2")).await.unwrap());
    }
    let new_master = Arc::new(MasterKey::generate());

    assert_eq!(f.vault.rewrap_all(&f.master, &new_master).await.unwrap(), 6);

    for owner in [a, b, KeyOwner::Platform] {
        for record in f.store.records(owner) {
            let KeyRecord::Live(wrapped) = record else {
                panic!("a live key was lost")
            };
            assert!(matches!(
                wrapped.unwrap(&f.master),
                Err(VaultError::DataKeyUnwrapFailed)
            ));
            assert!(wrapped.unwrap(&new_master).is_ok());
        }
    }
    let renewed = vault_with(&f.store, &new_master);
    for payload in &sealed {
        assert!(renewed.open(payload, account, SESSION).await.is_ok());
        assert!(matches!(
            f.vault.open(payload, account, SESSION).await,
            Err(VaultError::DataKeyUnwrapFailed)
        ));
    }
}

#[tokio::test]
async fn a_rewrap_with_the_wrong_old_master_key_changes_nothing() {
    let f = fixture();
    let account = AccountId::generate();
    let sealed = f
        .vault
        .seal(workspace(), account, SESSION, &session("s"))
        .await
        .unwrap();
    f.vault
        .seal(workspace(), account, SESSION, &session("s"))
        .await
        .unwrap();

    let result = f.vault.rewrap_all(&MasterKey::generate(), &MasterKey::generate()).await;

    assert!(matches!(result, Err(VaultError::DataKeyUnwrapFailed)));
    assert!(f.vault.open(&sealed, account, SESSION).await.is_ok());
}

#[tokio::test]
async fn an_interrupted_rewrap_is_finished_by_running_it_again() {
    let f = fixture();
    let (first, second, account) = (workspace(), workspace(), AccountId::generate());
    let sealed = f.vault.seal(first, account, SESSION, &session("s")).await.unwrap();
    f.vault.seal(second, account, SESSION, &session("s")).await.unwrap();
    let new_master = Arc::new(MasterKey::generate());

    // The first owner's key alone was re-wrapped before the interruption.
    let KeyRecord::Live(done) = f.store.records(first).remove(0) else {
        panic!("a live key was expected")
    };
    let rewrapped = done
        .unwrap(&f.master)
        .unwrap()
        .wrap(&new_master, first, done.version, done.created_at)
        .unwrap();
    assert!(
        f.store
            .replace_wrapped(first, done.version, &done.wrapped, &rewrapped.wrapped)
            .await
            .unwrap()
    );

    assert_eq!(f.vault.rewrap_all(&f.master, &new_master).await.unwrap(), 1);
    assert_eq!(f.vault.rewrap_all(&f.master, &new_master).await.unwrap(), 0);
    assert!(
        vault_with(&f.store, &new_master)
            .open(&sealed, account, SESSION)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn after_crypto_erasure_payloads_never_open_and_a_new_seal_uses_a_fresh_key() {
    let f = fixture();
    let (owner, bystander, account) = (workspace(), workspace(), AccountId::generate());
    let v1 = f.vault.seal(owner, account, SESSION, &session("one")).await.unwrap();
    f.vault.rotate(owner).await.unwrap();
    let v2 = f.vault.seal(owner, account, SESSION, &session("two")).await.unwrap();
    let kept = f
        .vault
        .seal(bystander, account, SESSION, &session("kept"))
        .await
        .unwrap();

    assert_eq!(f.vault.destroy(owner).await.unwrap(), 2);

    for payload in [&v1, &v2] {
        assert!(matches!(
            f.vault.open(payload, account, SESSION).await,
            Err(VaultError::KeyDestroyed)
        ));
    }
    assert!(
        f.store
            .records(owner)
            .iter()
            .all(|r| matches!(r, KeyRecord::Destroyed { .. }))
    );
    assert_eq!(f.vault.open(&kept, account, SESSION).await.unwrap().expose(), b"kept");

    let fresh = f.vault.seal(owner, account, SESSION, &session("fresh")).await.unwrap();
    assert_eq!(fresh.key_version.get(), 3, "destroyed versions are never reused");
    assert_eq!(f.vault.open(&fresh, account, SESSION).await.unwrap().expose(), b"fresh");
    let mut old_under_fresh_key = v2;
    old_under_fresh_key.key_version = fresh.key_version;
    assert!(is_open_failed(
        &f.vault.open(&old_under_fresh_key, account, SESSION).await
    ));

    assert_eq!(f.vault.destroy(workspace()).await.unwrap(), 0);
}

#[tokio::test]
async fn a_rewrap_never_brings_back_a_destroyed_key() {
    let f = fixture();
    let (owner, account) = (workspace(), AccountId::generate());
    let sealed = f.vault.seal(owner, account, SESSION, &session("s")).await.unwrap();
    let KeyRecord::Live(stale) = f.store.records(owner).remove(0) else {
        panic!("a live key was expected")
    };
    f.vault.destroy(owner).await.unwrap();

    // A re-wrap that read the key before the destroy tries to write it back afterwards.
    let new_master = MasterKey::generate();
    let rewrapped = stale
        .unwrap(&f.master)
        .unwrap()
        .wrap(&new_master, owner, stale.version, stale.created_at)
        .unwrap();
    let replaced = f
        .store
        .replace_wrapped(owner, stale.version, &stale.wrapped, &rewrapped.wrapped)
        .await
        .unwrap();

    assert!(!replaced);
    assert_eq!(f.vault.rewrap_all(&f.master, &new_master).await.unwrap(), 0);
    assert!(matches!(
        f.vault.open(&sealed, account, SESSION).await,
        Err(VaultError::KeyDestroyed)
    ));
}

#[tokio::test]
async fn eight_concurrent_first_seals_for_one_owner_end_with_exactly_one_version_one_key() {
    let f = fixture();
    let owner = workspace();
    let barrier = Arc::new(tokio::sync::Barrier::new(8));
    let mut tasks = Vec::new();
    for n in 0..8 {
        let (vault, barrier) = (f.vault.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            let account = AccountId::generate();
            barrier.wait().await;
            let sealed = vault
                .seal(owner, account, SESSION, &session(&format!("session {n}")))
                .await
                .unwrap();
            (account, sealed)
        }));
    }
    let mut sealed = Vec::new();
    for task in tasks {
        sealed.push(task.await.unwrap());
    }

    let records = f.store.records(owner);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].version(), KeyVersion::FIRST);
    assert!(f.store.lost_races() > 0, "the race was not exercised");
    for (n, (account, payload)) in sealed.iter().enumerate() {
        assert_eq!(payload.key_version, KeyVersion::FIRST);
        let opened = f.vault.open(payload, *account, SESSION).await.unwrap();
        assert_eq!(opened.expose(), format!("session {n}").as_bytes());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_seals_on_many_threads_also_end_with_one_key() {
    let f = fixture();
    let owner = workspace();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let vault = f.vault.clone();
        tasks.push(tokio::spawn(async move {
            vault
                .seal(owner, AccountId::generate(), SESSION, &session("s"))
                .await
                .unwrap()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap().key_version, KeyVersion::FIRST);
    }
    assert_eq!(f.store.records(owner).len(), 1);
}

#[tokio::test]
async fn the_debug_of_the_vault_never_shows_a_key_or_a_payload() {
    let f = fixture();
    let owner = workspace();
    let secret = b"very-secret-session\x00\x01\xfe".to_vec();
    let payload = SecretPayload::new(secret.clone());
    let sealed = f
        .vault
        .seal(owner, AccountId::generate(), SESSION, &payload)
        .await
        .unwrap();
    let KeyRecord::Live(wrapped) = f.store.records(owner).remove(0) else {
        panic!("a live key was expected")
    };
    let data_key = wrapped.unwrap(&f.master).unwrap();

    let printed = format!("{:?} {:#?} {:?} {:?}", f.vault, f.vault, payload, sealed);

    assert!(printed.contains("MasterKey(<redacted>)"));
    assert!(printed.contains("SecretPayload(<redacted>)"));
    let master = STANDARD.decode(f.master.to_base64()).unwrap();
    for bytes in [&data_key.bytes()[..], &secret[..], &master[..]] {
        assert!(!printed.contains(&hex::encode(bytes)));
        assert!(!printed.contains(&hex::encode_upper(bytes)));
        assert!(!printed.contains(&STANDARD.encode(bytes)));
        assert!(!printed.contains(&format!("{bytes:?}")));
    }
    assert!(!printed.contains("very-secret"));
}

#[tokio::test]
async fn a_census_counts_keys_under_each_master_key_and_names_the_rest() {
    let f = fixture();
    let (first, second, account) = (workspace(), workspace(), AccountId::generate());
    f.vault.seal(first, account, SESSION, &session("s")).await.unwrap();
    f.vault.seal(second, account, SESSION, &session("s")).await.unwrap();
    let new_master = MasterKey::generate();

    let before = f.vault.census(&f.master, &new_master).await.unwrap();
    assert_eq!((before.under_old, before.under_new), (2, 0));
    assert!(before.unreadable.is_empty());

    f.vault.rewrap_all(&f.master, &new_master).await.unwrap();
    let after = f.vault.census(&f.master, &new_master).await.unwrap();
    assert_eq!((after.under_old, after.under_new), (0, 2));

    let wrong = f
        .vault
        .census(&MasterKey::generate(), &MasterKey::generate())
        .await
        .unwrap();
    assert_eq!((wrong.under_old, wrong.under_new), (0, 0));
    assert_eq!(wrong.unreadable.len(), 2);
    assert!(wrong.unreadable.contains(&(first, KeyVersion::FIRST)));
}
