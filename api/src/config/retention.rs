//! `[retention]` and `[backup]`: the retention windows (defaults as in `tgos_domain::retention`) and the sweep,
//! and where `tgos-console backup` writes and how long it keeps backups.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// `[retention]`: the retention windows (defaults in `tgos_domain::retention::RetentionWindows`) and the
/// sweep's batch size.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RetentionSettings {
    /// Days an expired or revoked session, an expired challenge, an ended invitation or an idle lockout
    /// counter is kept.
    pub expired_credentials_days: u32,
    /// Days a session's IP address and user agent are kept after it was last seen.
    pub telemetry_days: u32,
    /// Days inbox data is kept after the lease that brought it ended.
    pub inbox_after_lease_days: u32,
    /// Days a finished automation execution is kept.
    pub executions_days: u32,
    /// Years billing records are kept (reported, not deleted; see docs/ARCHITECTURE.md "Retention").
    pub billing_years: u32,
    /// Rows one sweep statement changes at most.
    pub batch: u64,
    /// How often each server offers the sweep job (at start, then every this many seconds; one job per UTC
    /// hour is stored whatever the number of servers). 0: this server never offers it.
    pub sweep_every_secs: u64,
}

impl super::Settings {
    /// `backup.dir`, or `<data dir>/backups`.
    pub fn backup_dir(&self) -> PathBuf {
        self.backup.dir.clone().unwrap_or_else(|| self.data_dir.join("backups"))
    }
}

impl RetentionSettings {
    pub fn windows(&self) -> tgos_domain::retention::RetentionWindows {
        tgos_domain::retention::RetentionWindows {
            expired_credentials_days: self.expired_credentials_days,
            telemetry_days: self.telemetry_days,
            inbox_after_lease_days: self.inbox_after_lease_days,
            executions_days: self.executions_days,
            billing_years: self.billing_years,
        }
    }
}

/// `[backup]`: where `tgos-console backup` writes and how long it keeps backups.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BackupSettings {
    /// The backup directory; `<data dir>/backups` when unset.
    pub dir: Option<PathBuf>,
    /// Days a backup is kept by `backup prune`.
    pub keep_days: u32,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        Self {
            expired_credentials_days: 7,
            telemetry_days: 90,
            inbox_after_lease_days: 30,
            executions_days: 90,
            billing_years: 7,
            batch: 500,
            sweep_every_secs: 3600,
        }
    }
}

impl Default for BackupSettings {
    fn default() -> Self {
        Self {
            dir: None,
            keep_days: 30,
        }
    }
}
