//! Changing automations and running them by hand (ADMIN and above, or keys with `AUTOMATIONS_WRITE`).

use async_graphql::{Context, ID, Object};
use tgos_domain::automation::AutomationService;
use tgos_domain::ids::{AutomationId, DialogId};
use tgos_domain::tenancy::{TenancyService, TenantScope};

use super::inputs::AutomationInput;
use super::types::{Automation, AutomationExecution};
use crate::graphql::context::{client, principal};
use crate::graphql::errors::ApiResult;
use crate::graphql::guards::SignedIn;
use crate::graphql::ids::{found_id, parse_id, workspace_id};
use crate::graphql::service;

/// The scope of the workspace an automation named by id belongs to, for the caller.
async fn scope_of(ctx: &Context<'_>, id: AutomationId) -> ApiResult<TenantScope> {
    let principal = principal(ctx)?;
    let workspace = service::<AutomationService>(ctx)?
        .automation_workspace(principal, id)
        .await?;
    Ok(service::<TenancyService>(ctx)?.scope(principal, workspace).await?)
}

#[derive(Debug, Default)]
pub struct AutomationMutation;

#[Object]
impl AutomationMutation {
    /// Creates an automation. Every bad field of the input is named (`input.actions[1].sendMessage.text`).
    #[graphql(guard = "SignedIn")]
    async fn create_automation(
        &self,
        ctx: &Context<'_>,
        workspace_id: ID,
        input: AutomationInput,
    ) -> ApiResult<Automation> {
        let workspace = self::workspace_id(&workspace_id)?;
        let principal = principal(ctx)?;
        let scope = service::<TenancyService>(ctx)?.scope(principal, workspace).await?;
        let definition = input.into_definition()?;
        let record = service::<AutomationService>(ctx)?
            .create_automation(&scope, principal, &client(ctx), definition)
            .await?;
        Ok(Automation { record, scope })
    }

    /// Replaces an automation's definition; `CONFLICT` when `expectedVersion` is not its version any more.
    #[graphql(guard = "SignedIn")]
    async fn update_automation(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        input: AutomationInput,
    ) -> ApiResult<Automation> {
        let automation: AutomationId = found_id(&id, "automation")?;
        let scope = scope_of(ctx, automation).await?;
        let definition = input.into_definition()?;
        let record = service::<AutomationService>(ctx)?
            .update_automation(
                &scope,
                principal(ctx)?,
                &client(ctx),
                automation,
                expected_version,
                definition,
            )
            .await?;
        Ok(Automation { record, scope })
    }

    /// Turns an automation on or off.
    #[graphql(guard = "SignedIn")]
    async fn set_automation_enabled(&self, ctx: &Context<'_>, id: ID, enabled: bool) -> ApiResult<Automation> {
        let automation: AutomationId = found_id(&id, "automation")?;
        let scope = scope_of(ctx, automation).await?;
        let record = service::<AutomationService>(ctx)?
            .set_automation_enabled(&scope, principal(ctx)?, &client(ctx), automation, enabled)
            .await?;
        Ok(Automation { record, scope })
    }

    /// Deletes an automation: it stops at once, its executions stay readable.
    #[graphql(guard = "SignedIn")]
    async fn delete_automation(&self, ctx: &Context<'_>, id: ID) -> ApiResult<bool> {
        let automation: AutomationId = found_id(&id, "automation")?;
        let scope = scope_of(ctx, automation).await?;
        Ok(service::<AutomationService>(ctx)?
            .delete_automation(&scope, principal(ctx)?, &client(ctx), automation)
            .await?)
    }

    /// Queues a run of the automation now, on the dialog given (needed when its actions act in a dialog).
    #[graphql(guard = "SignedIn")]
    async fn run_automation_now(
        &self,
        ctx: &Context<'_>,
        id: ID,
        dialog_id: Option<ID>,
    ) -> ApiResult<AutomationExecution> {
        let automation: AutomationId = found_id(&id, "automation")?;
        let scope = scope_of(ctx, automation).await?;
        let dialog: Option<DialogId> = dialog_id
            .as_ref()
            .map(|id| parse_id(id, "dialogId", "dialog"))
            .transpose()?;
        let record = service::<AutomationService>(ctx)?
            .run_now(&scope, principal(ctx)?, automation, dialog)
            .await?;
        Ok(AutomationExecution::new(record, scope))
    }
}
