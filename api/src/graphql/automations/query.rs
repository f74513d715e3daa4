//! Reading automations: the workspace's lists and the dry run.

use async_graphql::{Context, ID, Object};
use tgos_domain::automation::AutomationService;
use tgos_domain::automation::records::ExecutionFilter;
use tgos_domain::ids::{AutomationId, DialogId, ExecutionId};
use tgos_domain::tenancy::{TenancyService, TenantScope};

use super::inputs::AutomationInput;
use super::types::{
    Automation, AutomationCondition, AutomationConnection, AutomationExecution, AutomationExecutionConnection,
    AutomationTestResult, ConditionResult, ExecutionStatus,
};
use crate::graphql::context::principal;
use crate::graphql::errors::ApiResult;
use crate::graphql::guards::SignedIn;
use crate::graphql::ids::{parse_id, parse_optional_id, workspace_id};
use crate::graphql::paging::{connection, page_request};
use crate::graphql::service;

/// `workspace.automations`: oldest first (VIEWER and above, or keys with `AUTOMATIONS_READ`).
pub(crate) async fn automations(
    ctx: &Context<'_>,
    scope: &TenantScope,
    first: Option<i32>,
    after: Option<&str>,
) -> ApiResult<AutomationConnection> {
    let request = page_request::<AutomationId>(first, after)?;
    let page = service::<AutomationService>(ctx)?.automations(scope, request).await?;
    Ok(connection(&request, page, |record| {
        (
            record.id,
            Automation {
                record,
                scope: scope.clone(),
            },
        )
    }))
}

/// `workspace.automationExecutions`: newest first, of one automation and one status when given.
pub(crate) async fn executions(
    ctx: &Context<'_>,
    scope: &TenantScope,
    automation_id: Option<&ID>,
    status: Option<ExecutionStatus>,
    first: Option<i32>,
    after: Option<&str>,
) -> ApiResult<AutomationExecutionConnection> {
    let request = page_request::<ExecutionId>(first, after)?;
    let filter = ExecutionFilter {
        automation: parse_optional_id(automation_id, "automationId", "automation")?,
        status: status.map(ExecutionStatus::domain),
    };
    let page = service::<AutomationService>(ctx)?
        .executions(scope, filter, request)
        .await?;
    Ok(connection(&request, page, |record| {
        (record.id, AutomationExecution::new(record, scope.clone()))
    }))
}

#[derive(Debug, Default)]
pub struct AutomationQuery;

#[Object]
impl AutomationQuery {
    /// Evaluates a definition without any effect (VIEWER and above, or keys with `AUTOMATIONS_READ`, and
    /// `INBOX_READ` to name a dialog): which conditions match the dialog's newest incoming message (or `text`)
    /// and what the actions would do. Nothing is stored, sent or called.
    #[graphql(guard = "SignedIn")]
    async fn test_automation(
        &self,
        ctx: &Context<'_>,
        workspace_id: ID,
        input: AutomationInput,
        dialog_id: Option<ID>,
        text: Option<String>,
    ) -> ApiResult<AutomationTestResult> {
        let workspace = self::workspace_id(&workspace_id)?;
        let scope = service::<TenancyService>(ctx)?
            .scope(principal(ctx)?, workspace)
            .await?;
        let dialog: Option<DialogId> = dialog_id
            .as_ref()
            .map(|id| parse_id(id, "dialogId", "dialog"))
            .transpose()?;
        let definition = input.into_definition()?;
        let outcome = service::<AutomationService>(ctx)?
            .test_automation(&scope, &definition, dialog, text.as_deref())
            .await?;
        Ok(AutomationTestResult {
            would_run: outcome.would_run,
            reason: outcome.reason,
            conditions: outcome
                .conditions
                .into_iter()
                .map(|c| ConditionResult {
                    condition: AutomationCondition {
                        field: c.condition.field.into(),
                        op: c.condition.op.into(),
                        value: c.condition.value,
                    },
                    matched: c.matched,
                    actual: c.actual,
                })
                .collect(),
            rendered_actions: outcome.rendered_actions,
        })
    }
}
