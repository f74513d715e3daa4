//! Verifying the stored chains (the console's `audit verify`).

use super::chain::{BrokenLink, verify};
use super::entry::ChainId;
use crate::error::DomainResult;
use crate::store::Store;

/// One chain's verdict: how many entries check out, or where it breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    pub chain: String,
    pub verdict: Result<usize, BrokenLink>,
}

/// Verifies every chain, or only `only`.
pub async fn verify_chains(store: &dyn Store, only: Option<ChainId>) -> DomainResult<Vec<ChainReport>> {
    let chains = match only {
        Some(chain) => vec![chain.key()],
        None => store.audit_chains().await?,
    };
    let mut reports = Vec::with_capacity(chains.len());
    for chain in chains {
        let (entries, head) = store.chain_entries(&chain).await?;
        let verdict = verify(&entries, head.as_ref());
        reports.push(ChainReport { chain, verdict });
    }
    Ok(reports)
}
