//! Schedules: the job that fires one (its execution and its next fire, in one transaction), and the upkeep that
//! re-queues every enabled schedule's next fire and prunes executions that did not run once past their
//! retention window.

use chrono::{DateTime, Utc};

use crate::automation::records::TriggerContext;
use crate::automation::service::AutomationService;
use crate::automation::triggers::{self, Cause};
use crate::automation::use_cases::definitions::queue_next_fire;
use crate::error::DomainResult;
use crate::ids::AutomationId;
use crate::jobs::{ClaimedJob, JobOutcome};
use crate::tenancy::TenantScope;

impl AutomationService {
    /// Fires a schedule: queues its execution for this fire time and its next fire, in one transaction. A fire
    /// the server slept through runs once, not once per missed time.
    pub(crate) async fn fire_schedule(&self, job: &ClaimedJob) -> DomainResult<JobOutcome> {
        let Some(workspace) = job.workspace_id else {
            return Ok(JobOutcome::Failed {
                error: "a schedule job without a workspace".to_owned(),
            });
        };
        let scope = TenantScope::system(workspace);
        let automation_id = job
            .payload
            .get("automation")
            .and_then(|v| v.as_str())
            .and_then(|v| v.parse::<AutomationId>().ok());
        let version = job.payload.get("version").and_then(serde_json::Value::as_i64);
        let fire = job
            .payload
            .get("fire")
            .and_then(|v| v.as_str())
            .and_then(|v| DateTime::parse_from_rfc3339(v).ok())
            .map(|t| t.with_timezone(&Utc));
        let (Some(automation_id), Some(version), Some(fire)) = (automation_id, version, fire) else {
            return Ok(JobOutcome::Failed {
                error: "a schedule job without its automation, version or time".to_owned(),
            });
        };
        let Some(automation) = self
            .store
            .find_automation(&scope, automation_id)
            .await?
            .filter(|a| i64::from(a.version) == version && a.definition.enabled)
        else {
            // Changed, disabled or deleted since: the change queued its own next fire, if any.
            return Ok(JobOutcome::Done);
        };
        let now = self.clock.now();
        let tx = self.store.begin().await?;
        let cause = Cause {
            trigger_key: format!("schedule:{}", fire.timestamp()),
            context: TriggerContext {
                fire_time: Some(fire),
                ..TriggerContext::default()
            },
            run_at: Some(now),
            ..Cause::default()
        };
        triggers::queue(&*tx, &scope, &automation, cause, now).await?;
        queue_next_fire(&*tx, &scope, &automation, now.max(fire)).await?;
        tx.commit().await?;
        self.outbox.committed();
        self.jobs.enqueued();
        Ok(JobOutcome::Done)
    }

    /// Housekeeping: deletes executions that did not run once past the retention window, and makes sure every
    /// enabled schedule has its next fire queued (after a restore, say). How many executions were deleted.
    #[tracing::instrument(skip_all)]
    pub async fn maintain(&self) -> DomainResult<u64> {
        let now = self.clock.now();
        let keep = chrono::Duration::from_std(self.settings.keep_skipped).unwrap_or(chrono::Duration::days(14));
        let pruned = self.store.prune_skipped_executions(now - keep).await?;
        let mut after = None;
        loop {
            let page = self.store.scheduled_automations(after, 200).await?;
            let Some(last) = page.last() else {
                break;
            };
            after = Some(last.id);
            for automation in &page {
                let scope = TenantScope::system(automation.workspace_id);
                let tx = self.store.begin().await?;
                queue_next_fire(&*tx, &scope, automation, now).await?;
                tx.commit().await?;
            }
        }
        Ok(pruned)
    }
}
