//! Identity events in the audit log (policy §3.3): sign-ins (success and failure), sessions ended,
//! password and two-factor changes. They go to the account's own chain; failures for logins that match no
//! account go to the platform chain, without the login text (it may be a mistyped password).

use serde_json::Value;

use crate::audit::{self, Actor, AuditDraft, ChainId};
use crate::error::DomainResult;
use crate::identity::IdentityService;
use crate::identity::records::UserRecord;
use crate::request::ClientInfo;
use crate::store::Repositories;

impl IdentityService {
    /// Appends an event of `user`'s account within `repos` (the change's transaction).
    pub(crate) async fn audit_account(
        &self,
        repos: &dyn Repositories,
        user: &UserRecord,
        action: &'static str,
        client: &ClientInfo,
        metadata: Value,
    ) -> DomainResult<()> {
        let draft = AuditDraft {
            chain: ChainId::User(user.id),
            actor: Actor::user(user.id, &user.username),
            action,
            target_type: Some("USER"),
            target_id: Some(user.id.to_string()),
            client: client.clone(),
            metadata,
        };
        audit::append(repos, draft, self.now()).await?;
        Ok(())
    }

    /// Records a failed check in its own transaction (there is no change to join).
    pub(crate) async fn audit_failure(
        &self,
        user: Option<&UserRecord>,
        action: &'static str,
        client: &ClientInfo,
        metadata: Value,
    ) -> DomainResult<()> {
        let tx = self.store.begin().await?;
        match user {
            Some(user) => self.audit_account(&*tx, user, action, client, metadata).await?,
            None => {
                let draft = AuditDraft {
                    chain: ChainId::Platform,
                    actor: Actor::system(),
                    action,
                    target_type: None,
                    target_id: None,
                    client: client.clone(),
                    metadata,
                };
                audit::append(&*tx, draft, self.now()).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}
