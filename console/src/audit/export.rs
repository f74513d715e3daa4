//! `tgos-console audit export --format csv|json [filters] [--out FILE]`: the entries the filters list, newest
//! first, as a file (at most `AUDIT_EXPORT_MAX`; see `audit::table` for the columns and the CSV rules).
//!
//! Rules: the filters and the output file are checked before the sign-in (`--out` is created new, never
//! overwriting a file, mode 0600: an export holds personal data); then a staff sign-in, and the export runs
//! as that staff member (audited `console.audit_exported` with the format, filters and count). Without
//! `--out` the file goes to stdout. When more entries matched than one export holds, stderr says where the
//! rest starts (`--before`). A refused or failed export leaves no file behind.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use serde_json::json;
use tgos_domain::compliance::{AuditExport, AuditExportFormat, StaffContext};

use super::filters::{FilterArgs, refused};
use super::table;
use crate::context::{Connection, ConnectionArgs};
use crate::session::{StaffLogin, StaffSession};

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    staff: StaffLogin,
    #[command(flatten)]
    filters: FilterArgs,
    /// The file's format.
    #[arg(long, value_enum)]
    format: Format,
    /// Write the export to this new file (mode 0600) instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    Csv,
    Json,
}

impl From<Format> for AuditExportFormat {
    fn from(format: Format) -> Self {
        match format {
            Format::Csv => AuditExportFormat::Csv,
            Format::Json => AuditExportFormat::Json,
        }
    }
}

/// The export as the file's bytes.
pub fn render(export: &AuditExport, format: AuditExportFormat) -> Vec<u8> {
    match format {
        AuditExportFormat::Csv => table::csv(&export.entries).into_bytes(),
        AuditExportFormat::Json => {
            let entries: Vec<_> = export.entries.iter().map(table::json).collect();
            let body = json!({
                "entries": entries,
                "complete": export.next.is_none(),
                "next": export.next.map(|c| c.to_string()),
            });
            format!("{body}\n").into_bytes()
        }
    }
}

pub async fn run(args: ExportArgs, connection: &ConnectionArgs) -> anyhow::Result<()> {
    let format = AuditExportFormat::from(args.format);
    let search = args.filters.search().map_err(|error| refused(false, error))?;
    let file = match &args.out {
        Some(path) => Some(
            tgos_persistence::private_fs::create_private_file(path)
                .with_context(|| format!("cannot create {} (an export never overwrites a file)", path.display()))?,
        ),
        None => None,
    };
    let outcome = export(&args, connection, &search, format).await;
    let written = match (outcome, file) {
        (Ok(bytes), Some(mut file)) => file
            .write_all(&bytes)
            .and_then(|()| file.sync_all())
            .map_err(Into::into),
        (Ok(bytes), None) => std::io::stdout().lock().write_all(&bytes).map_err(Into::into),
        (Err(error), _) => Err(error),
    };
    if let (Err(_), Some(path)) = (&written, &args.out) {
        let _ignored = std::fs::remove_file(path);
    }
    written
}

/// Signs in, exports, and says on stderr how many entries (and where the rest starts).
async fn export(
    args: &ExportArgs,
    connection: &ConnectionArgs,
    search: &tgos_domain::audit::AuditSearch,
    format: AuditExportFormat,
) -> anyhow::Result<Vec<u8>> {
    let console = Connection::open(connection).await?;
    let staff = StaffSession::sign_in(&console, &args.staff).await?;
    let ctx = StaffContext {
        principal: staff.principal(),
        client: staff.client(),
    };
    let exported = console
        .compliance()
        .export_audit(ctx, search, format)
        .await
        .map_err(|error| refused(false, error));
    let exported = staff.end(&console, exported).await?;
    eprintln!("exported {} audit entries", exported.entries.len());
    if let Some(next) = exported.next {
        eprintln!("more entries matched than one export holds; export the rest with --before {next}");
    }
    Ok(render(&exported, format))
}
