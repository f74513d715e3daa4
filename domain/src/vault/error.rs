//! What the vault can fail with.
//!
//! Rule: a refusal to open says only that it was refused. Which binding was wrong (owner, account, purpose,
//! version, key or bytes) is never told, to a client or to a log; AES-GCM cannot tell them apart anyway. None of
//! these outcomes is a client's business: they all reach the edge as an opaque internal error.

use crate::error::{DomainError, InternalError};
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The payload does not open under the data key it names with the associated data given: wrong owner,
    /// account, purpose or version, another key, changed or truncated bytes.
    #[error("sealed payload failed to open")]
    OpenFailed,
    /// The owner's data key of that version was destroyed (crypto-erasure): the payload can never open again.
    #[error("the data key of this payload was destroyed")]
    KeyDestroyed,
    /// No data key of that version was ever stored for the owner: the payload names a key this vault never made
    /// (its owner or version was changed, or the key row was lost).
    #[error("no data key of this version exists for the owner")]
    NoKey,
    /// The master key does not unwrap the stored data key: the server runs with another master key than the
    /// one that wrapped it, or the stored key was changed.
    #[error("the master key does not unwrap the stored data key")]
    DataKeyUnwrapFailed,
    /// Storage or another piece of infrastructure failed.
    #[error("vault infrastructure failure: {0}")]
    Internal(#[source] InternalError),
}

impl From<StoreError> for VaultError {
    fn from(error: StoreError) -> Self {
        Self::Internal(InternalError::new(error))
    }
}

impl From<VaultError> for DomainError {
    /// Every vault failure is infrastructure from a client's point of view: the edge logs it with a request id
    /// and answers with an opaque message. A use case that has a business answer (for example "the account's
    /// session is gone, sign the account in again" after [`VaultError::KeyDestroyed`]) matches the variant
    /// before converting.
    fn from(error: VaultError) -> Self {
        match error {
            VaultError::Internal(inner) => Self::Internal(inner),
            other => Self::Internal(InternalError::new(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_vault_failure_reaches_clients_as_an_opaque_internal_error() {
        let failures = [
            VaultError::OpenFailed,
            VaultError::KeyDestroyed,
            VaultError::NoKey,
            VaultError::DataKeyUnwrapFailed,
            VaultError::Internal(InternalError::new("disk on fire")),
        ];
        for failure in failures {
            let domain = DomainError::from(failure);
            assert!(matches!(domain, DomainError::Internal(_)));
            assert_eq!(domain.to_string(), "internal error");
        }
    }
}
