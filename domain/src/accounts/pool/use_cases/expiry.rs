//! The expiry sweep: leases that ran out return their accounts to the pool.
//!
//! Rule: the sweep ends each due lease exactly as a release does (re-sealed under the platform's key, audited
//! as `lease.expired` by the system), one lease per transaction, so a failure leaves the others done and the
//! failed one due for the next sweep.

use crate::accounts::pool::records::LeaseStatus;
use crate::accounts::pool::service::AccountsService;
use crate::audit::{Actor, ActorKind};
use crate::error::{DomainError, DomainResult};
use crate::request::ClientInfo;
use crate::tenancy::TenantScope;

/// Leases ended per sweep at most; the rest wait for the next one.
const BATCH: u64 = 200;

impl AccountsService {
    /// Ends every due lease (up to a batch); returns how many ended.
    #[tracing::instrument(skip_all)]
    pub async fn expire_due_leases(&self) -> DomainResult<usize> {
        let now = self.clock.now();
        let due = self.store.due_leases(now, BATCH).await?;
        let mut ended = 0;
        for (id, workspace) in due {
            let scope = TenantScope::system(workspace);
            let Some(lease) = self.store.find_lease(&scope, id).await? else {
                continue;
            };
            if lease.status != LeaseStatus::Active || lease.ends_at > now {
                continue;
            }
            let actor = Actor {
                kind: ActorKind::System,
                id: None,
                display_name: "lease expiry".to_owned(),
            };
            match self
                .end(&scope, lease, LeaseStatus::Expired, actor, &ClientInfo::default())
                .await
            {
                Ok(_) => ended += 1,
                // A release or a renewal got there first.
                Err(DomainError::Conflict { .. }) => {}
                // One lease that cannot end (its payload does not open, say) must not hold back the others:
                // it stays due, is logged each sweep, and the rest expire.
                Err(other) => {
                    tracing::error!(lease = %id, error = %other, detail = ?other, "a due lease could not expire");
                }
            }
        }
        Ok(ended)
    }
}
