//! Staff rotate an owner's data key (a workspace's, or the platform pool's) and move every payload sealed for
//! that owner onto the new version.
//!
//! Rules:
//! - Only staff (two-factor enrolled) may rotate. An owner without a live key (nothing sealed yet, or its keys
//!   were destroyed) is refused: rotation never creates a key for a workspace that was crypto-erased.
//! - The master key must unwrap the owner's current key before a new version is made, so a console started
//!   with the wrong master key changes nothing.
//! - Each payload moves in its own short step: open with the version it names, seal under the owner's current
//!   key, then one compare-and-swap on the exact payload read. A payload that changed hands meanwhile (a rental
//!   or a release re-sealed it) is left alone and counted; a payload that does not open is left as it was and
//!   named, never dropped.
//! - The rotation is audited `keys.rotated` on the platform chain with the owner, the versions and the counts,
//!   also when the re-sealing stopped on an infrastructure failure (`complete: false`). Running it again makes
//!   another version and finishes what was left: everything below the new version is re-sealed.

use serde_json::json;

use crate::accounts::pool::service::AccountsService;
use crate::audit::{self, Actor, AuditDraft, ChainId};
use crate::error::{DomainError, DomainResult};
use crate::identity::Principal;
use crate::ids::AccountId;
use crate::request::ClientInfo;
use crate::vault::{KeyOwner, KeyVersion, Purpose, VaultError};

/// Accounts read per page while re-sealing.
const PAGE: u64 = 200;

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRotation {
    pub owner: KeyOwner,
    /// The owner's current version before the rotation.
    pub previous: KeyVersion,
    /// The version the rotation made current.
    pub version: KeyVersion,
    /// Payloads now sealed under the current key.
    pub resealed: u64,
    /// Payloads that changed hands or were re-sealed by someone else while this ran (nothing to do for them).
    pub changed_meanwhile: u64,
    /// Accounts whose payload did not open (left untouched; their sessions need attention).
    pub unreadable: Vec<AccountId>,
}

/// The re-sealing so far, kept when an infrastructure failure stops it.
#[derive(Debug, Default)]
struct Progress {
    resealed: u64,
    changed_meanwhile: u64,
    unreadable: Vec<AccountId>,
}

impl AccountsService {
    /// Rotates `owner`'s data key and re-seals every payload of that owner under the new version.
    #[tracing::instrument(skip_all)]
    pub async fn rotate_owner_key(
        &self,
        principal: &Principal,
        client: &ClientInfo,
        owner: KeyOwner,
    ) -> DomainResult<KeyRotation> {
        let staff = principal.require_staff()?;
        let Some(previous) = self.vault.current_version(owner).await? else {
            return Err(DomainError::NotFound("data key of this owner"));
        };
        let version = self.vault.rotate(owner).await?;
        let mut progress = Progress::default();
        let outcome = self.reseal_owner_payloads(owner, version, &mut progress).await;

        let tx = self.store.begin().await?;
        let draft = AuditDraft {
            chain: ChainId::Platform,
            actor: Actor::staff(staff, principal.display_name()),
            action: "keys.rotated",
            target_type: Some("DATA_KEY"),
            target_id: Some(owner.to_text()),
            client: client.clone(),
            metadata: json!({
                "owner": owner.to_text(),
                "previousVersion": previous.get(),
                "version": version.get(),
                "resealed": progress.resealed,
                "changedMeanwhile": progress.changed_meanwhile,
                "unreadable": progress.unreadable.len(),
                "complete": outcome.is_ok(),
            }),
        };
        audit::append(&*tx, draft, self.clock.now()).await?;
        tx.commit().await?;
        outcome?;
        Ok(KeyRotation {
            owner,
            previous,
            version,
            resealed: progress.resealed,
            changed_meanwhile: progress.changed_meanwhile,
            unreadable: progress.unreadable,
        })
    }

    /// Moves every payload of `owner` sealed below `current` to the owner's current key, one account at a time.
    async fn reseal_owner_payloads(
        &self,
        owner: KeyOwner,
        current: KeyVersion,
        progress: &mut Progress,
    ) -> DomainResult<()> {
        let mut after = None;
        loop {
            let page = self.store.accounts_sealed_before(owner, current, after, PAGE).await?;
            let Some(last) = page.last() else {
                return Ok(());
            };
            after = Some(last.id);
            for account in page {
                let sealed = match self
                    .vault
                    .reseal(&account.sealed, account.id, Purpose::TelegramSession, owner)
                    .await
                {
                    Ok(sealed) => sealed,
                    Err(VaultError::Internal(error)) => return Err(DomainError::Internal(error)),
                    Err(_) => {
                        progress.unreadable.push(account.id);
                        continue;
                    }
                };
                let replaced = self
                    .store
                    .replace_sealed_payload(account.id, &account.sealed, &sealed, self.clock.now())
                    .await?;
                if replaced {
                    progress.resealed += 1;
                } else {
                    progress.changed_meanwhile += 1;
                }
            }
        }
    }
}
