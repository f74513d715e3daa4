//! `tgos migrate up` and `tgos migrate status`: migrations as a deployment step, with the same settings as
//! `serve` (`database.url`, `database.owner_url`, `data_dir`).
//!
//! Rules:
//! - The schema logic lives in `tgos_persistence::schema`; this module only opens the database as `serve`
//!   would and prints.
//! - `status` exits [`EXIT_PENDING`] while a migration is pending, so a deployment script can wait on it.

use anyhow::Context as _;
use tgos_persistence::SchemaStatus;

use crate::config::Settings;

/// The exit code of `tgos migrate status` when migrations are pending (0: up to date; 1: an error; 2: the
/// configuration is invalid).
pub const EXIT_PENDING: u8 = 3;

/// The embedded default's data directory exists (mode 0700) before the SQLite file is opened in it.
fn prepare_data_dir(settings: &Settings) -> anyhow::Result<()> {
    if settings.database.url.is_none() {
        tgos_persistence::private_fs::create_private_dir(&settings.data_dir)
            .with_context(|| format!("cannot create the data directory {}", settings.data_dir.display()))?;
    }
    Ok(())
}

/// Applies the pending migrations under the migration lock; returns how many this run applied.
pub async fn up(settings: &Settings) -> anyhow::Result<usize> {
    prepare_data_dir(settings)?;
    tgos_persistence::migrate_up(&settings.database_settings())
        .await
        .map_err(|error| anyhow::anyhow!("cannot migrate the database: {error}"))
}

/// Every migration this build knows and whether the database has it.
pub async fn status(settings: &Settings) -> anyhow::Result<SchemaStatus> {
    prepare_data_dir(settings)?;
    tgos_persistence::schema_status(&settings.database_settings())
        .await
        .map_err(|error| anyhow::anyhow!("cannot read the database's migrations: {error}"))
}

/// `status` as printed: one `applied`/`pending` line per migration and a summary, or JSON
/// (`{"pending": n, "migrations": [{"name": …, "applied": …}]}`).
pub fn render_status(status: &SchemaStatus, json: bool) -> String {
    if json {
        return serde_json::json!({ "pending": status.pending(), "migrations": status.migrations }).to_string() + "\n";
    }
    let mut out = String::new();
    for migration in &status.migrations {
        let state = if migration.applied { "applied" } else { "pending" };
        out.push_str(&format!("{state:<8} {}\n", migration.name));
    }
    match status.pending() {
        0 => out.push_str("up to date\n"),
        n => out.push_str(&format!("{n} pending; run `tgos migrate up`\n")),
    }
    out
}

#[cfg(test)]
mod tests {
    use tgos_persistence::schema::MigrationState;

    use super::*;

    fn status(applied: &[bool]) -> SchemaStatus {
        SchemaStatus {
            migrations: applied
                .iter()
                .enumerate()
                .map(|(i, applied)| MigrationState {
                    name: format!("m{i}"),
                    applied: *applied,
                })
                .collect(),
        }
    }

    #[test]
    fn status_lines_name_each_migration_and_the_command_when_pending() {
        assert_eq!(
            render_status(&status(&[true, false]), false),
            "applied  m0\npending  m1\n1 pending; run `tgos migrate up`\n"
        );
        assert_eq!(render_status(&status(&[true]), false), "applied  m0\nup to date\n");
    }

    #[test]
    fn status_json_counts_pending() -> anyhow::Result<()> {
        let value: serde_json::Value = serde_json::from_str(&render_status(&status(&[true, false]), true))?;
        assert_eq!(value["pending"], 1);
        assert_eq!(value["migrations"][1]["name"], "m1");
        assert_eq!(value["migrations"][1]["applied"], false);
        Ok(())
    }
}
