//! Staff looking at the retention report and running the sweep from the console's pages.
//!
//! Rules: staff only; the report changes nothing (the page audits it as a view). A run is audited first as
//! the staff member's request (`console.retention_run` on the platform chain, with their IP address, user
//! agent and the windows in force), so a sweep that fails midway still shows who started it; the sweep then
//! audits its own summary as the system (`retention.swept`, when it changed anything), as the hourly sweep
//! does.

use serde_json::json;

use super::ComplianceService;
use super::actions::StaffContext;
use crate::audit::{self, AuditDraft, ChainId};
use crate::error::DomainResult;
use crate::retention::{RetentionService, RetentionSummary};

impl ComplianceService {
    /// What the sweep would change now (a dry run).
    #[tracing::instrument(skip_all)]
    pub async fn retention_report(
        &self,
        staff: StaffContext<'_>,
        sweep: &RetentionService,
    ) -> DomainResult<RetentionSummary> {
        staff.staff()?;
        sweep.report().await
    }

    /// Runs the sweep now on the staff member's request, and returns what it changed.
    #[tracing::instrument(skip_all)]
    pub async fn run_retention(
        &self,
        staff: StaffContext<'_>,
        sweep: &RetentionService,
    ) -> DomainResult<RetentionSummary> {
        let actor = staff.actor()?;
        let windows = sweep.windows();
        let tx = self.store.begin().await?;
        let draft = AuditDraft {
            chain: ChainId::Platform,
            actor,
            action: "console.retention_run",
            target_type: None,
            target_id: None,
            client: staff.client.clone(),
            metadata: json!({
                "expiredCredentialsDays": windows.expired_credentials_days,
                "telemetryDays": windows.telemetry_days,
                "inboxAfterLeaseDays": windows.inbox_after_lease_days,
                "executionsDays": windows.executions_days,
                "billingYears": windows.billing_years,
            }),
        };
        audit::append(&*tx, draft, self.now()).await?;
        tx.commit().await?;
        sweep.sweep().await
    }
}
