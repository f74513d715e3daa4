//! Staff rotate the master key (KEK): every data key of the vault is re-wrapped and every TOTP secret re-sealed
//! under the new key. Nothing else is sealed under the master key.
//!
//! Rules:
//! - Only staff (two-factor enrolled) may rotate, and the new key must differ from the old one.
//! - Nothing is written unless every data key and every TOTP secret opens with the old key or the new one (a
//!   census of both first): a wrong old key is refused, naming what does not open, and changes nothing.
//! - Values already under the new key are skipped, so running the rotation again with the same two keys
//!   finishes an interrupted one. Each write is a compare-and-swap on the bytes read ([`Vault::rewrap_all`],
//!   [`crate::identity::totp_rekey`]): a destroyed data key stays destroyed, a TOTP secret changed meanwhile is
//!   left to that change.
//! - A census afterwards counts what is still not under the new key (a server running with the old key wrote
//!   it): the outcome is complete only when that is nothing. Servers hold the master key in memory, so they must
//!   be stopped during a rotation; the caller tells the operator so.
//! - Audited `keys.master_rotated` on the platform chain with counts only, never key material, once writing
//!   began, also when it was stopped by a failure (`complete: false`). A refusal before writing writes nothing.

use std::sync::Arc;

use serde_json::json;

use super::service::Vault;
use crate::audit::{self, Actor, AuditDraft, ChainId};
use crate::clock::Clock;
use crate::crypto::MasterKey;
use crate::error::{DomainError, DomainResult};
use crate::identity::{Principal, totp_rekey};
use crate::request::ClientInfo;
use crate::store::Store;

/// How many names a refusal lists before it only counts.
const NAMED: usize = 5;

/// The master-key rotation use case.
#[derive(Debug, Clone)]
pub struct MasterKeyRotation {
    store: Arc<dyn Store>,
    vault: Vault,
    clock: Arc<dyn Clock>,
}

/// What a master-key rotation did (counts only).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MasterKeyRotated {
    /// Data keys re-wrapped under the new key by this run.
    pub data_keys_rewrapped: u64,
    /// Data keys an earlier run had already moved.
    pub data_keys_already_new: u64,
    /// Data keys still not under the new key after this run.
    pub data_keys_left: u64,
    /// TOTP secrets (active or pending) re-sealed under the new key by this run.
    pub totp_resealed: u64,
    /// TOTP secrets an earlier run had already moved.
    pub totp_already_new: u64,
    /// TOTP secrets that changed between reading and writing (left to that change).
    pub totp_changed_meanwhile: u64,
    /// TOTP secrets still not under the new key after this run.
    pub totp_left: u64,
}

impl MasterKeyRotated {
    /// Everything the master key seals is under the new key: the old key may be retired.
    pub fn complete(&self) -> bool {
        self.data_keys_left == 0 && self.totp_left == 0
    }
}

impl MasterKeyRotation {
    pub fn new(store: Arc<dyn Store>, vault: Vault, clock: Arc<dyn Clock>) -> Self {
        Self { store, vault, clock }
    }

    /// Moves everything sealed under `old` to `new`.
    pub async fn rotate(
        &self,
        principal: &Principal,
        client: &ClientInfo,
        old: &MasterKey,
        new: &MasterKey,
    ) -> DomainResult<MasterKeyRotated> {
        let staff = principal.require_staff()?;
        if old.same_key(new) {
            return Err(DomainError::invalid("newKey", "the new master key is the current one"));
        }
        let mut report = self.check(old, new).await?;
        let outcome = self.move_everything(old, new, &mut report).await;

        let tx = self.store.begin().await?;
        let draft = AuditDraft {
            chain: ChainId::Platform,
            actor: Actor::staff(staff, principal.display_name()),
            action: "keys.master_rotated",
            target_type: Some("MASTER_KEY"),
            target_id: None,
            client: client.clone(),
            metadata: json!({
                "dataKeysRewrapped": report.data_keys_rewrapped,
                "dataKeysAlreadyNew": report.data_keys_already_new,
                "dataKeysLeft": report.data_keys_left,
                "totpResealed": report.totp_resealed,
                "totpAlreadyNew": report.totp_already_new,
                "totpChangedMeanwhile": report.totp_changed_meanwhile,
                "totpLeft": report.totp_left,
                "complete": outcome.is_ok() && report.complete(),
            }),
        };
        audit::append(&*tx, draft, self.clock.now()).await?;
        tx.commit().await?;
        outcome?;
        Ok(report)
    }

    /// The census before writing: refuses when anything opens with neither key.
    async fn check(&self, old: &MasterKey, new: &MasterKey) -> DomainResult<MasterKeyRotated> {
        let keys = self.vault.census(old, new).await?;
        if !keys.unreadable.is_empty() {
            let named: Vec<String> = keys
                .unreadable
                .iter()
                .take(NAMED)
                .map(|(owner, version)| format!("{owner} {version}"))
                .collect();
            return Err(DomainError::conflict(
                "currentKey",
                format!(
                    "{} data keys ({}) unwrap with neither the current master key nor the new one: is the current \
                     key the right one? Nothing was changed",
                    keys.unreadable.len(),
                    named.join(", ")
                ),
            ));
        }
        let totp = totp_rekey::census(&*self.store, old, new).await?;
        if !totp.unreadable.is_empty() {
            let named: Vec<String> = totp.unreadable.iter().take(NAMED).map(ToString::to_string).collect();
            return Err(DomainError::conflict(
                "currentKey",
                format!(
                    "the two-factor secrets of {} users ({}) open with neither the current master key nor the new \
                     one: is the current key the right one? Nothing was changed",
                    totp.unreadable.len(),
                    named.join(", ")
                ),
            ));
        }
        Ok(MasterKeyRotated {
            data_keys_already_new: keys.under_new,
            totp_already_new: totp.under_new,
            ..MasterKeyRotated::default()
        })
    }

    /// Re-wraps, re-seals, then counts what is left under anything but the new key.
    async fn move_everything(
        &self,
        old: &MasterKey,
        new: &MasterKey,
        report: &mut MasterKeyRotated,
    ) -> DomainResult<()> {
        report.data_keys_rewrapped = self.vault.rewrap_all(old, new).await?;
        let totp = totp_rekey::reseal_all(&*self.store, old, new).await?;
        report.totp_resealed = totp.resealed;
        report.totp_changed_meanwhile = totp.changed_meanwhile;
        let keys = self.vault.census(old, new).await?;
        report.data_keys_left = keys.under_old + keys.unreadable.len() as u64;
        let totp = totp_rekey::census(&*self.store, old, new).await?;
        report.totp_left = totp.under_old + totp.unreadable.len() as u64;
        Ok(())
    }
}
