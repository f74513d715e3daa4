//! `tgos-console accounts import --format telethon|pyrogram|jsonl FILE --price-per-day MINOR [--currency USD]`
//!
//! Rules:
//! - Staff sign-in first; the session is signed out at the end whatever happens.
//! - The file is read whole (at most [`MAX_FILE_BYTES`], UTF-8) into memory that is wiped when dropped.
//! - The whole file is one batch: if any line is malformed, every line's error is printed (`line N: reason`,
//!   quoting nothing from the line) and nothing is imported; a session already in the pool refuses the batch
//!   and names its line.
//! - The summary names the accounts by id only.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use tgos_domain::accounts::pool::NewPoolAccount;
use tgos_domain::accounts::{ImportFormat, parse_import};
use zeroize::Zeroizing;

use super::{PriceArgs, print_added};
use crate::context::{Connection, ConnectionArgs};
use crate::errors::domain;
use crate::session::{StaffLogin, StaffSession};

/// The largest import file read.
pub const MAX_FILE_BYTES: u64 = 50 * 1024 * 1024;

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    staff: StaffLogin,
    /// The layout of the file: one Telethon or Pyrogram session string per line, or JSON lines with metadata.
    #[arg(long, value_enum)]
    format: Format,
    /// The file to import.
    file: PathBuf,
    #[command(flatten)]
    price: PriceArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Telethon,
    Pyrogram,
    Jsonl,
}

impl From<Format> for ImportFormat {
    fn from(format: Format) -> Self {
        match format {
            Format::Telethon => Self::Telethon,
            Format::Pyrogram => Self::Pyrogram,
            Format::Jsonl => Self::Jsonl,
        }
    }
}

pub async fn run(args: ImportArgs, connection: &ConnectionArgs) -> anyhow::Result<()> {
    let console = Connection::open(connection).await?;
    let staff = StaffSession::sign_in(&console, &args.staff).await?;
    let outcome = import(&console, &staff, &args).await;
    staff.end(&console, outcome).await
}

async fn import(console: &Connection, staff: &StaffSession, args: &ImportArgs) -> anyhow::Result<()> {
    let text = read_file(&args.file)?;
    let report = parse_import(args.format.into(), &text);
    drop(text);
    if !report.errors.is_empty() {
        for error in &report.errors {
            eprintln!("{error}");
        }
        anyhow::bail!(
            "{} malformed line(s) in {}; nothing was imported",
            report.errors.len(),
            args.file.display()
        );
    }
    anyhow::ensure!(
        !report.accounts.is_empty(),
        "{} holds no accounts; nothing was imported",
        args.file.display()
    );
    let summary = console
        .accounts
        .add_to_pool(
            staff.principal(),
            staff.client(),
            report.accounts.into_iter().map(NewPoolAccount::from).collect(),
            args.price.money(),
        )
        .await
        .map_err(domain)
        .context("nothing was imported")?;
    print_added("imported", "accounts", &summary.accounts)
}

/// The file's text, refused when larger than [`MAX_FILE_BYTES`] or not UTF-8.
fn read_file(path: &Path) -> anyhow::Result<Zeroizing<String>> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut bytes = Zeroizing::new(Vec::new());
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    anyhow::ensure!(
        u64::try_from(bytes.len()).unwrap_or(u64::MAX) <= MAX_FILE_BYTES,
        "{} is larger than {} MiB; split it into smaller files",
        path.display(),
        MAX_FILE_BYTES / 1024 / 1024
    );
    let text = std::str::from_utf8(&bytes).with_context(|| format!("{} is not UTF-8 text", path.display()))?;
    Ok(Zeroizing::new(text.to_owned()))
}
