//! `tgos-console retention report|run [--json]`: what the retention sweep would change now, and running it.
//!
//! Rules: `report` is a dry run (counts only; nothing changes, nothing is audited); `run` is the sweep the
//! server runs hourly (batches, the `retention.swept` summary on the platform chain, destroyed keys removed
//! from the backups). Both use the windows of `[retention]` through the same environment variables as the
//! server (`TGOS_RETENTION__…`).

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

use clap::{Args, Subcommand};
use tgos_domain::clock::SystemClock;
use tgos_domain::retention::{CLASSES, DEFAULT_BATCH, RetentionService, RetentionSummary, RetentionWindows};
use tgos_domain::store::Store;
use tgos_persistence::SeaStore;
use tgos_persistence::backup::{BackupKeysOf, Backups};

use crate::backup::BackupDirArgs;
use crate::context::{ConnectionArgs, open_store};

#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// What the sweep would change now, per class (a dry run: nothing changes).
    Report(RetentionArgs),
    /// Runs the sweep now and prints what it changed.
    Run(RetentionArgs),
}

#[derive(Debug, Args)]
pub struct RetentionArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    windows: WindowArgs,
    #[command(flatten)]
    backups: BackupDirArgs,
}

/// The `[retention]` windows, from the server's environment variables.
#[derive(Debug, Args)]
pub struct WindowArgs {
    #[arg(long, env = "TGOS_RETENTION__EXPIRED_CREDENTIALS_DAYS", default_value_t = RetentionWindows::default().expired_credentials_days)]
    expired_credentials_days: u32,
    #[arg(long, env = "TGOS_RETENTION__TELEMETRY_DAYS", default_value_t = RetentionWindows::default().telemetry_days)]
    telemetry_days: u32,
    #[arg(long, env = "TGOS_RETENTION__INBOX_AFTER_LEASE_DAYS", default_value_t = RetentionWindows::default().inbox_after_lease_days)]
    inbox_after_lease_days: u32,
    #[arg(long, env = "TGOS_RETENTION__EXECUTIONS_DAYS", default_value_t = RetentionWindows::default().executions_days)]
    executions_days: u32,
    #[arg(long, env = "TGOS_RETENTION__BILLING_YEARS", default_value_t = RetentionWindows::default().billing_years)]
    billing_years: u32,
    /// Rows one statement changes at most.
    #[arg(long, env = "TGOS_RETENTION__BATCH", default_value_t = DEFAULT_BATCH)]
    batch: u64,
}

impl WindowArgs {
    pub(crate) fn windows(&self) -> RetentionWindows {
        RetentionWindows {
            expired_credentials_days: self.expired_credentials_days,
            telemetry_days: self.telemetry_days,
            inbox_after_lease_days: self.inbox_after_lease_days,
            executions_days: self.executions_days,
            billing_years: self.billing_years,
        }
    }

    pub(crate) fn batch(&self) -> u64 {
        self.batch
    }
}

/// The sweep over `store` (the database as its owner) with `windows` and `batch`, removing destroyed data keys
/// from the backups in `backup_dir` (the command and the Retention page alike).
pub(crate) fn service(store: SeaStore, windows: RetentionWindows, batch: u64, backup_dir: &Path) -> RetentionService {
    let backups = Arc::new(BackupKeysOf::new(Backups::new(backup_dir), &store));
    let store: Arc<dyn Store> = Arc::new(store);
    RetentionService::new(store, Arc::new(SystemClock), windows)
        .with_batch(batch)
        .with_backups(backups)
}

pub async fn run(command: RetentionCommand, connection: &ConnectionArgs) -> anyhow::Result<()> {
    let (args, dry) = match command {
        RetentionCommand::Report(args) => (args, true),
        RetentionCommand::Run(args) => (args, false),
    };
    let (store, _url) = open_store(connection).await?;
    let service = service(
        store,
        args.windows.windows(),
        args.windows.batch,
        &args.backups.dir(connection),
    );
    let summary = if dry {
        service.report().await
    } else {
        service.sweep().await
    }
    .map_err(|e| anyhow::anyhow!("the retention {} failed: {e}", if dry { "report" } else { "sweep" }))?;
    print(&summary, dry, args.json)
}

fn print(summary: &RetentionSummary, dry: bool, json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        let classes: Vec<serde_json::Value> = summary
            .classes
            .iter()
            .map(|c| {
                serde_json::json!({
                    "class": c.class,
                    "rows": c.rows,
                    "acts": c.acts,
                    "cutoff": c.cutoff.to_rfc3339(),
                })
            })
            .collect();
        let others: Vec<serde_json::Value> = CLASSES
            .iter()
            .filter(|c| !summary.classes.iter().any(|s| s.class == c.name))
            .map(|c| serde_json::json!({ "class": c.name, "carriedOutBy": format!("{:?}", c.action) }))
            .collect();
        let body = serde_json::json!({
            "dryRun": dry,
            "classes": classes,
            "otherClasses": others,
            "total": summary.acted_rows(),
            "backupKeysRemoved": summary.backup_keys_removed,
        });
        writeln!(out, "{body}")?;
        return Ok(());
    }
    let verb = if dry { "would change" } else { "changed" };
    writeln!(out, "{:<24} {:>10}  older than", "class", "rows")?;
    for class in &summary.classes {
        let note = if class.acts { "" } else { "  (report only)" };
        writeln!(
            out,
            "{:<24} {:>10}  {}{note}",
            class.class,
            class.rows,
            class.cutoff.to_rfc3339()
        )?;
    }
    writeln!(out, "{} rows {verb} by the sweep", summary.acted_rows())?;
    if !dry {
        writeln!(
            out,
            "{} destroyed data keys removed from backups",
            summary.backup_keys_removed
        )?;
    }
    Ok(())
}
