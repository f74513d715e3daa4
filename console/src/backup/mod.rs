//! `tgos-console backup create|list|prune|restore`: backups of the database into `backup.dir`.
//!
//! Rules: a backup never holds a wrapped data key in its database copy (see `tgos_persistence::backup`);
//! `prune` deletes backups older than `backup.keep_days` (30) and removes keys destroyed since from the rest;
//! `restore` checks every checksum and writes only into an empty database. Exit 1 on a refusal (a tampered
//! backup, a non-empty target), 3 when the database cannot be reached.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use clap::{Args, Subcommand};
use tgos_persistence::backup::{BackupError, Backups, Manifest};

use crate::context::{ConnectionArgs, open_store};
use crate::errors::Unreachable;

#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Backs up the database now.
    Create(Common),
    /// Lists the backups, oldest first.
    List(Common),
    /// Deletes backups past `backup.keep_days` and removes destroyed data keys from the rest.
    Prune(PruneArgs),
    /// Restores a backup into an empty database.
    Restore(RestoreArgs),
}

/// Where the backups are.
#[derive(Debug, Args)]
pub struct BackupDirArgs {
    /// The backup directory (`backup.dir`); `<data dir>/backups` when unset.
    #[arg(long = "backup-dir", env = "TGOS_BACKUP__DIR")]
    backup_dir: Option<PathBuf>,
}

impl BackupDirArgs {
    pub fn dir(&self, connection: &ConnectionArgs) -> PathBuf {
        self.backup_dir
            .clone()
            .unwrap_or_else(|| connection.data_dir.join("backups"))
    }
}

#[derive(Debug, Args)]
pub struct Common {
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    dir: BackupDirArgs,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    #[command(flatten)]
    common: Common,
    /// Days a backup is kept (`backup.keep_days`).
    #[arg(long, env = "TGOS_BACKUP__KEEP_DAYS", default_value_t = 30)]
    keep_days: u32,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup's name (see `backup list`).
    name: String,
    /// The empty database to restore into: `sqlite:///path/file.db` or `postgres://…`.
    #[arg(long)]
    into: String,
    #[command(flatten)]
    common: Common,
}

fn failed(error: BackupError) -> anyhow::Error {
    if error.is_unreachable() {
        anyhow::Error::new(Unreachable(error.to_string()))
    } else {
        anyhow::Error::new(error)
    }
}

/// The backups in `dir`, oldest first (the `list` command and the Backups page).
pub(crate) fn list(dir: &Path) -> anyhow::Result<Vec<Manifest>> {
    Backups::new(dir).list().map_err(failed)
}

/// How long ago `at` was, in the largest whole unit: `3 days`, `1 hour`, `under a minute`.
pub(crate) fn age(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let elapsed = now - at;
    let (n, unit) = if elapsed.num_days() >= 1 {
        (elapsed.num_days(), "day")
    } else if elapsed.num_hours() >= 1 {
        (elapsed.num_hours(), "hour")
    } else if elapsed.num_minutes() >= 1 {
        (elapsed.num_minutes(), "minute")
    } else {
        return "under a minute".to_owned();
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// A backup as `--json` and the Backups page show it, with its age at `now`.
pub(crate) fn describe(manifest: &Manifest, now: DateTime<Utc>) -> serde_json::Value {
    serde_json::json!({
        "name": manifest.name,
        "createdAt": manifest.created_at.to_rfc3339(),
        "age": age(manifest.created_at, now),
        "bytes": manifest.files.iter().map(|f| f.bytes).sum::<u64>(),
        "backend": manifest.backend,
        "latestMigration": manifest.latest_migration,
        "files": manifest.files.iter().map(|f| serde_json::json!({
            "name": f.name, "bytes": f.bytes, "sha256": f.sha256,
        })).collect::<Vec<_>>(),
    })
}

fn line(manifest: &Manifest, now: DateTime<Utc>) -> String {
    let bytes: u64 = manifest.files.iter().map(|f| f.bytes).sum();
    format!(
        "{}  {} ({} old)  {}  {}  {bytes} bytes",
        manifest.name,
        manifest.created_at.to_rfc3339(),
        age(manifest.created_at, now),
        manifest.backend,
        manifest.latest_migration
    )
}

pub async fn run(command: BackupCommand, connection: &ConnectionArgs) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let now = Utc::now();
    match command {
        BackupCommand::Create(args) => {
            let (store, url) = open_store(connection).await?;
            let backups = Backups::new(args.dir.dir(connection));
            let manifest = backups.create(store.connection(), &url, now).await.map_err(failed)?;
            if args.json {
                writeln!(out, "{}", describe(&manifest, now))?;
            } else {
                writeln!(out, "created {}", line(&manifest, now))?;
            }
        }
        BackupCommand::List(args) => {
            let manifests = list(&args.dir.dir(connection))?;
            if args.json {
                let all: Vec<_> = manifests.iter().map(|m| describe(m, now)).collect();
                writeln!(out, "{}", serde_json::Value::Array(all))?;
            } else {
                for manifest in &manifests {
                    writeln!(out, "{}", line(manifest, now))?;
                }
                writeln!(out, "{} backups", manifests.len())?;
            }
        }
        BackupCommand::Prune(args) => {
            let (store, _url) = open_store(connection).await?;
            let backups = Backups::new(args.common.dir.dir(connection));
            let pruned = backups
                .prune(chrono::Duration::days(i64::from(args.keep_days)), now)
                .map_err(failed)?;
            let removed = backups
                .remove_destroyed_keys(store.connection())
                .await
                .map_err(failed)?;
            if args.common.json {
                writeln!(
                    out,
                    "{}",
                    serde_json::json!({ "pruned": pruned, "destroyedKeysRemoved": removed })
                )?;
            } else {
                for name in &pruned {
                    writeln!(out, "deleted {name}")?;
                }
                writeln!(
                    out,
                    "{} backups deleted; {removed} destroyed data keys removed from the rest",
                    pruned.len()
                )?;
            }
        }
        BackupCommand::Restore(args) => {
            let backups = Backups::new(args.common.dir.dir(connection));
            let manifest = backups.restore(&args.name, &args.into).await.map_err(failed)?;
            if args.common.json {
                writeln!(out, "{}", serde_json::json!({ "restored": describe(&manifest, now) }))?;
            } else {
                writeln!(out, "restored {}", line(&manifest, now))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backup_s_age_is_told_in_its_largest_whole_unit() {
        let now = Utc::now();
        let table = [
            (chrono::Duration::seconds(20), "under a minute"),
            (chrono::Duration::minutes(1), "1 minute"),
            (chrono::Duration::minutes(59), "59 minutes"),
            (chrono::Duration::hours(2), "2 hours"),
            (chrono::Duration::hours(47), "1 day"),
            (chrono::Duration::days(30), "30 days"),
        ];
        for (ago, told) in table {
            assert_eq!(age(now - ago, now), told, "{ago}");
        }
    }
}
