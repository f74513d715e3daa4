//! Creating and reading workspaces.

use serde_json::json;

use crate::error::{DomainError, DomainResult};
use crate::identity::Principal;
use crate::ids::WorkspaceId;
use crate::request::ClientInfo;
use crate::tenancy::records::{MembershipRecord, WorkspaceRecord};
use crate::tenancy::service::WorkspaceEvent;
use crate::tenancy::{Role, TenancyService, TenantScope, WorkspaceName};

/// How many workspaces one person may own.
pub const MAX_OWNED_WORKSPACES: usize = 20;

impl TenancyService {
    /// Creates a workspace; the creator becomes its OWNER.
    #[tracing::instrument(skip_all)]
    pub async fn create_workspace(
        &self,
        principal: &Principal,
        name: &str,
        client: &ClientInfo,
    ) -> DomainResult<WorkspaceRecord> {
        let name = WorkspaceName::parse("name", name).map_err(|e| DomainError::Invalid(vec![e]))?;
        let owned = self
            .store
            .list_workspaces_of(principal.require_user()?)
            .await?
            .into_iter()
            .filter(|(_, role)| *role == Role::Owner)
            .count();
        if owned >= MAX_OWNED_WORKSPACES {
            return Err(DomainError::Forbidden(format!(
                "you already own {MAX_OWNED_WORKSPACES} workspaces, the most one person may own"
            )));
        }
        let now = self.clock.now();
        let workspace = WorkspaceRecord {
            id: WorkspaceId::generate(),
            name: name.as_str().to_owned(),
            created_at: now,
        };
        let owner = MembershipRecord {
            workspace_id: workspace.id,
            user_id: principal.require_user()?,
            role: Role::Owner,
            joined_at: now,
        };
        let tx = self.store.begin().await?;
        tx.insert_workspace(&workspace, &owner).await?;
        let scope = TenantScope::member(workspace.id, principal.require_user()?, Role::Owner);
        self.audit(
            &*tx,
            &scope,
            principal,
            client,
            WorkspaceEvent {
                action: "workspace.created",
                target: Some(("WORKSPACE", workspace.id.to_string())),
                metadata: json!({ "name": workspace.name }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(workspace)
    }

    #[tracing::instrument(skip_all, fields(workspace = %scope.workspace_id()))]
    pub async fn workspace(&self, scope: &TenantScope) -> DomainResult<WorkspaceRecord> {
        Ok(self.store.find_workspace(scope).await?)
    }

    /// The caller's workspaces, each with the caller's scope in it.
    #[tracing::instrument(skip_all)]
    pub async fn my_workspaces(&self, principal: &Principal) -> DomainResult<Vec<(WorkspaceRecord, TenantScope)>> {
        let user = principal.require_user()?;
        Ok(self
            .store
            .list_workspaces_of(user)
            .await?
            .into_iter()
            .map(|(workspace, role)| {
                let scope = TenantScope::member(workspace.id, user, role);
                (workspace, scope)
            })
            .collect())
    }
}
