//! The retention sweep: runs every class the table says the sweep acts on, in small batches, and audits one
//! summary; the report is the same walk without changing anything.
//!
//! Rules: each batch is its own short transaction of at most `batch` rows (no lock is held long, and a
//! sweep interrupted midway has kept what it did); classes carried out by other jobs are not touched;
//! report-only classes are counted. A sweep that changed something audits `retention.swept` on the platform
//! chain as the system, with the counts per class; a sweep that found nothing audits nothing. Destroyed data
//! keys are removed from every backup's keys file in the same sweep.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::classes::{Keep, Purge, RetentionClass};
use super::ports::BackupKeys;
use super::table::CLASSES;
use super::windows::RetentionWindows;
use crate::audit::{self, Actor, AuditDraft, ChainId};
use crate::clock::Clock;
use crate::error::{DomainError, DomainResult};
use crate::request::ClientInfo;
use crate::store::Store;

/// Rows one statement changes at most, unless configured.
pub const DEFAULT_BATCH: u64 = 500;

/// One class's figure: rows due (report) or changed (sweep).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassCount {
    pub class: &'static str,
    pub purge: Purge,
    /// Rows due (report) or changed (sweep); for a report-only class, due in both.
    pub rows: u64,
    /// Whether the sweep acts on this class (else it only reports).
    pub acts: bool,
    /// What is older than this is past the window.
    pub cutoff: DateTime<Utc>,
}

/// What a sweep did or a report found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RetentionSummary {
    pub classes: Vec<ClassCount>,
    /// Destroyed data keys removed from backups' keys files (sweep only).
    pub backup_keys_removed: u64,
    /// Statements the sweep ran (batches), to show they were bounded.
    pub batches: u64,
}

impl RetentionSummary {
    /// Rows changed (or due) in classes the sweep acts on.
    pub fn acted_rows(&self) -> u64 {
        self.classes.iter().filter(|c| c.acts).map(|c| c.rows).sum()
    }

    /// The figure of one class.
    pub fn rows_of(&self, class: &str) -> Option<u64> {
        self.classes.iter().find(|c| c.class == class).map(|c| c.rows)
    }
}

/// The retention sweep's use cases.
#[derive(Debug, Clone)]
pub struct RetentionService {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    windows: RetentionWindows,
    batch: u64,
    backups: Option<Arc<dyn BackupKeys>>,
}

impl RetentionService {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, windows: RetentionWindows) -> Self {
        Self {
            store,
            clock,
            windows,
            batch: DEFAULT_BATCH,
            backups: None,
        }
    }

    /// At most `batch` rows per statement (at least 1).
    #[must_use]
    pub fn with_batch(mut self, batch: u64) -> Self {
        self.batch = batch.max(1);
        self
    }

    /// Removes destroyed keys from these backups in every sweep.
    #[must_use]
    pub fn with_backups(mut self, backups: Arc<dyn BackupKeys>) -> Self {
        self.backups = Some(backups);
        self
    }

    pub fn windows(&self) -> &RetentionWindows {
        &self.windows
    }

    fn cutoff(&self, class: &RetentionClass, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match class.keep {
            Keep::Window(window) => Some(self.windows.cutoff(window, now)),
            Keep::WhileParentLives(_) | Keep::Setting { .. } | Keep::Obligation(_) => None,
        }
    }

    /// What the sweep would change now, per class it runs or reports; nothing changes.
    #[tracing::instrument(skip_all)]
    pub async fn report(&self) -> DomainResult<RetentionSummary> {
        let now = self.clock.now();
        let mut summary = RetentionSummary::default();
        for class in CLASSES {
            let (Some(purge), Some(cutoff)) = (class.purge(), self.cutoff(class, now)) else {
                continue;
            };
            let rows = self.store.count_due(purge, cutoff, now).await?;
            summary.classes.push(ClassCount {
                class: class.name,
                purge,
                rows,
                acts: class.acts(),
                cutoff,
            });
        }
        Ok(summary)
    }

    /// Runs every class the sweep acts on, batch after batch, counts the report-only ones, removes destroyed
    /// keys from the backups, and audits the summary when anything changed.
    #[tracing::instrument(skip_all)]
    pub async fn sweep(&self) -> DomainResult<RetentionSummary> {
        let now = self.clock.now();
        let mut summary = RetentionSummary::default();
        for class in CLASSES {
            let (Some(purge), Some(cutoff)) = (class.purge(), self.cutoff(class, now)) else {
                continue;
            };
            let rows = if class.acts() {
                let mut changed = 0;
                loop {
                    let batch = self.store.purge_batch(purge, cutoff, now, self.batch).await?;
                    summary.batches += 1;
                    changed += batch;
                    // A purge runs its tables in turn, so a short batch may come before the next table's rows:
                    // only an empty batch says the class is done.
                    if batch == 0 {
                        break;
                    }
                    // Let requests waiting on the database go between batches.
                    tokio::task::yield_now().await;
                }
                changed
            } else {
                self.store.count_due(purge, cutoff, now).await?
            };
            summary.classes.push(ClassCount {
                class: class.name,
                purge,
                rows,
                acts: class.acts(),
                cutoff,
            });
        }
        if let Some(backups) = &self.backups {
            summary.backup_keys_removed = backups.remove_destroyed_keys().await.map_err(DomainError::Internal)?;
        }
        if summary.acted_rows() > 0 || summary.backup_keys_removed > 0 {
            self.audit(&summary, now).await?;
        }
        Ok(summary)
    }

    async fn audit(&self, summary: &RetentionSummary, now: DateTime<Utc>) -> DomainResult<()> {
        let changed: BTreeMap<&str, u64> = summary
            .classes
            .iter()
            .filter(|c| c.acts && c.rows > 0)
            .map(|c| (c.class, c.rows))
            .collect();
        let reported: BTreeMap<&str, u64> = summary
            .classes
            .iter()
            .filter(|c| !c.acts && c.rows > 0)
            .map(|c| (c.class, c.rows))
            .collect();
        let tx = self.store.begin().await?;
        audit::append(
            &*tx,
            AuditDraft {
                chain: ChainId::Platform,
                actor: Actor::system(),
                action: "retention.swept",
                target_type: None,
                target_id: None,
                client: ClientInfo::default(),
                metadata: json!({
                    "rows": changed,
                    "total": summary.acted_rows(),
                    "reportedOnly": reported,
                    "backupKeysRemoved": summary.backup_keys_removed,
                }),
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
