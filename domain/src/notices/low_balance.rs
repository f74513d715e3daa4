//! The low-balance notice: a wallet that a charge takes below the threshold tells the workspace's owner.
//!
//! Rule: it goes when a charge *crosses* the threshold (the balance before was at or above it, after it is
//! below), so a wallet that stays low is not announced on every charge; a threshold of zero turns it off.

use chrono::{DateTime, Utc};

use super::{Notice, queue};
use crate::billing::Money;
use crate::error::DomainResult;
use crate::store::Transaction;
use crate::tenancy::{Role, TenantScope};

/// Owners read at most (a workspace has one).
const OWNERS: u64 = 100;

/// Whether a charge of `spent` that left `balance_after` crossed `threshold_minor`.
pub fn crossed(spent: Money, balance_after: Money, threshold_minor: i64) -> bool {
    let before = balance_after.minor().saturating_add(spent.minor());
    threshold_minor > 0 && before >= threshold_minor && balance_after.minor() < threshold_minor
}

/// Queues the notice to the workspace's owner when the charge crossed the threshold.
pub async fn after_charge(
    tx: &dyn Transaction,
    scope: &TenantScope,
    spent: Money,
    balance_after: Money,
    threshold_minor: i64,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    if !crossed(spent, balance_after, threshold_minor) {
        return Ok(());
    }
    let workspace = tx.find_workspace(scope).await?.name;
    let threshold = Money::new(threshold_minor, balance_after.currency());
    for member in tx.list_members(scope, None, OWNERS).await? {
        if member.membership.role != Role::Owner {
            continue;
        }
        let notice = Notice::LowBalance {
            workspace: workspace.clone(),
            balance: balance_after.to_string(),
            threshold: threshold.to_string(),
        };
        queue(tx, member.membership.user_id, notice, now).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::Currency;

    fn usd(minor: i64) -> Money {
        Money::new(minor, Currency::USD)
    }

    #[test]
    fn only_a_charge_that_crosses_the_threshold_tells() {
        assert!(crossed(usd(300), usd(400), 500), "700 → 400 crosses 500");
        assert!(crossed(usd(100), usd(400), 500), "500 → 400: at the threshold before");
        assert!(!crossed(usd(100), usd(300), 500), "400 → 300 was below already");
        assert!(!crossed(usd(100), usd(600), 500), "700 → 600 stays above");
        assert!(!crossed(usd(300), usd(400), 0), "zero turns it off");
    }
}
