//! Master-key rotation of the TOTP secrets: every sealed secret (the active second factor and an enrollment not
//! yet confirmed) moves from the old master key to the new one.
//!
//! Rules:
//! - A secret is tried with the new key first: one that opens is already moved (an interrupted rotation left
//!   it) and is not written again; one that opens with the old key is sealed again under the new key, bound to
//!   the same user (`totp:<user id>`).
//! - [`census`] only reads: the rotation calls it before writing anything, so a wrong old key (secrets that open
//!   with neither key) changes nothing, and again afterwards to prove that nothing is left under the old key.
//! - Each write is one compare-and-swap on the exact bytes read ([`UserRepository::replace_sealed_totp`]), so a
//!   secret replaced or removed meanwhile (two-factor turned off, re-enrolled) is left to that change.
//! - Secrets in the clear live only inside [`MasterKey::rekey`] and are wiped there.
//!
//! [`UserRepository::replace_sealed_totp`]: super::ports::UserRepository::replace_sealed_totp

use super::ports::TotpSlot;
use super::records::UserRecord;
use super::service::totp_aad;
use crate::crypto::MasterKey;
use crate::crypto::master_key::{MasterKeyError, Rekeyed};
use crate::error::{DomainError, DomainResult};
use crate::ids::UserId;
use crate::store::Store;

/// Users read per page.
const PAGE: u64 = 200;

/// Where the sealed TOTP secrets stand between two master keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TotpCensus {
    pub under_old: u64,
    pub under_new: u64,
    /// Users with a secret that opens with neither key (each named once).
    pub unreadable: Vec<UserId>,
}

/// What re-sealing did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TotpResealed {
    /// Secrets sealed again under the new key now.
    pub resealed: u64,
    /// Secrets that changed between reading and writing (left to that change).
    pub changed_meanwhile: u64,
}

/// The sealed secrets of one user, with the slot each sits in.
fn sealed_secrets(user: &UserRecord) -> impl Iterator<Item = (TotpSlot, &[u8])> {
    [
        (TotpSlot::Active, user.totp_secret_sealed.as_deref()),
        (TotpSlot::Pending, user.totp_pending_sealed.as_deref()),
    ]
    .into_iter()
    .filter_map(|(slot, sealed)| sealed.map(|sealed| (slot, sealed)))
}

/// Counts the secrets under each key, reading only.
pub(crate) async fn census(store: &dyn Store, old: &MasterKey, new: &MasterKey) -> DomainResult<TotpCensus> {
    let mut census = TotpCensus::default();
    let mut after = None;
    loop {
        let page = store.users_with_sealed_totp(after, PAGE).await?;
        let Some(last) = page.last() else {
            return Ok(census);
        };
        after = Some(last.id);
        for user in &page {
            let aad = totp_aad(user);
            let mut readable = true;
            for (_, sealed) in sealed_secrets(user) {
                if new.open(&aad, sealed).is_ok() {
                    census.under_new += 1;
                } else if old.open(&aad, sealed).is_ok() {
                    census.under_old += 1;
                } else {
                    readable = false;
                }
            }
            if !readable {
                census.unreadable.push(user.id);
            }
        }
    }
}

/// Moves every secret under `old` to `new`, one compare-and-swap each. Secrets that open with neither key are
/// left as they are (the census before refuses them, the census after reports them).
pub(crate) async fn reseal_all(store: &dyn Store, old: &MasterKey, new: &MasterKey) -> DomainResult<TotpResealed> {
    let mut done = TotpResealed::default();
    let mut after = None;
    loop {
        let page = store.users_with_sealed_totp(after, PAGE).await?;
        let Some(last) = page.last() else {
            return Ok(done);
        };
        after = Some(last.id);
        for user in &page {
            let aad = totp_aad(user);
            for (slot, sealed) in sealed_secrets(user) {
                let replacement = match old.rekey(new, &aad, sealed) {
                    Ok(Rekeyed::Resealed(replacement)) => replacement,
                    Ok(Rekeyed::AlreadyNew) | Err(MasterKeyError::OpenFailed) => continue,
                    Err(error) => return Err(DomainError::internal(error)),
                };
                if store.replace_sealed_totp(user.id, slot, sealed, &replacement).await? {
                    done.resealed += 1;
                } else {
                    done.changed_meanwhile += 1;
                }
            }
        }
    }
}
