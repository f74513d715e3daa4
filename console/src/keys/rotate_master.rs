//! `tgos-console keys rotate-master --new-key-file PATH [--generate]`: rotating the master key (KEK).
//!
//! Rules, in the order that never loses data:
//! 1. Before the sign-in (so a mistake spends no code): the new key file is read (or, with `--generate`, must
//!    not exist yet), it may not be one of the key file's own names, and with the embedded default
//!    `master.key.old` must be absent (or hold the current key: an interrupted run).
//! 2. Staff sign-in; with `--generate` the new key is then written to PATH (mode 0600, never overwriting) and
//!    synced: the new key is durably on disk before anything is re-wrapped. A new key equal to the current one
//!    is refused.
//! 3. `MasterKeyRotation::rotate`: every data key re-wrapped, every TOTP secret re-sealed, audited
//!    `keys.master_rotated`. Anything that opens with neither key refuses the rotation before any write.
//! 4. Only when everything is under the new key: with the embedded default, `master.key` is replaced with the new
//!    key atomically and the old key is kept in `master.key.old`; with `TGOS_MASTER_KEY`, the operator is told to
//!    set it to the contents of PATH and restart the servers. Neither key is ever printed.
//!
//! Servers keep the master key in memory: they must be stopped during a rotation (the command warns). What a
//! running server sealed meanwhile stays under the old key; the command then fails without swapping the key
//! file, and running it again (same PATH, without `--generate`) finishes the job.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;
use tgos_domain::crypto::MasterKey;
use tgos_domain::vault::MasterKeyRotated;

use super::key_files;
use crate::context::{Connection, ConnectionArgs, KeySource, key_file_path};
use crate::errors::domain;
use crate::session::{StaffLogin, StaffSession};

const SERVERS_STOPPED: &str = "warning: stop every tgos server before rotating the master key. A running server \
                               keeps the current key in memory: what it seals meanwhile stays under the old key, and \
                               after the rotation it can no longer open the data keys or the two-factor secrets.";

#[derive(Debug, Args)]
pub struct RotateMasterArgs {
    #[command(flatten)]
    staff: StaffLogin,
    /// The file holding the new master key (base64 of 32 bytes). It must exist unless --generate is given.
    #[arg(long, value_name = "PATH")]
    new_key_file: PathBuf,
    /// Create PATH with a fresh random key (mode 0600); an existing file is never overwritten.
    #[arg(long)]
    generate: bool,
}

pub async fn run(args: RotateMasterArgs, connection: &ConnectionArgs) -> anyhow::Result<()> {
    eprintln!("{SERVERS_STOPPED}");
    let mut console = Connection::open(connection).await?;
    let prepared = prepare(&args, &console, &connection.data_dir)?;
    if let Some(new) = &prepared {
        console.backup_codes_under(new).await;
    }
    let staff = StaffSession::sign_in(&console, &args.staff).await?;
    let outcome = rotate(&console, &staff, &args.new_key_file, prepared).await;
    staff.end(&console, outcome).await
}

/// Every check that needs no sign-in; the new key when it is read from an existing file.
fn prepare(args: &RotateMasterArgs, console: &Connection, data_dir: &Path) -> anyhow::Result<Option<MasterKey>> {
    let path = &args.new_key_file;
    let key_file = match &console.key_source {
        KeySource::File(key_file) => key_file.clone(),
        KeySource::Environment => key_file_path(data_dir),
    };
    anyhow::ensure!(
        !key_files::reserved_paths(&key_file)
            .iter()
            .any(|reserved| key_files::same_place(path, reserved)),
        "{} is a name the key file of the data directory uses; choose another path for the new key",
        path.display()
    );
    let new = if args.generate {
        anyhow::ensure!(
            !path.exists(),
            "{} exists; --generate never overwrites a file (leave --generate out to use the key in it)",
            path.display()
        );
        None
    } else {
        let new = key_files::read(path)?;
        anyhow::ensure!(
            !new.same_key(&console.master_key),
            "the key in {} is already the current master key: nothing to rotate",
            path.display()
        );
        if key_files::readable_by_others(path) {
            eprintln!(
                "warning: {} may be read by others than its owner; restrict it (chmod 600)",
                path.display()
            );
        }
        Some(new)
    };
    if let KeySource::File(key_file) = &console.key_source {
        key_files::check_old_key_slot(key_file, &console.master_key)?;
    }
    Ok(new)
}

async fn rotate(
    console: &Connection,
    staff: &StaffSession,
    path: &Path,
    prepared: Option<MasterKey>,
) -> anyhow::Result<()> {
    let mut out = std::io::stdout();
    let new = match prepared {
        Some(key) => key,
        None => {
            let key = MasterKey::generate();
            key_files::write_new(path, &key)?;
            writeln!(out, "wrote a new master key to {} (mode 0600)", path.display())?;
            key
        }
    };
    let old = &console.master_key;
    let rotated = console
        .master_rotation
        .rotate(staff.principal(), staff.client(), old, &new)
        .await
        .map_err(domain)
        .context("rotating the master key")?;
    report(&mut out, &rotated)?;
    anyhow::ensure!(
        rotated.complete(),
        "{} data keys and {} two-factor secrets are still not under the new key (a server running with the old \
         key sealed them meanwhile?); the master key was not switched. Stop every server and run this command \
         again with --new-key-file {} and without --generate",
        rotated.data_keys_left,
        rotated.totp_left,
        path.display()
    );
    match &console.key_source {
        KeySource::File(key_file) => {
            let kept = key_files::replace_key_file(key_file, old, &new).context("switching the key file")?;
            writeln!(out, "{} now holds the new master key", key_file.display())?;
            writeln!(
                out,
                "the old master key is kept in {} (mode 0600): delete it once the servers run with the new key and \
                 backups made under the old key are no longer needed",
                kept.display()
            )?;
            writeln!(
                out,
                "{} is a copy of the new key: keep it somewhere safe or delete it",
                path.display()
            )?;
            writeln!(out, "start the servers again")?;
        }
        KeySource::Environment => {
            writeln!(
                out,
                "everything is now under the key in {}: set TGOS_MASTER_KEY to the contents of that file for every \
                 server and the console, then restart the servers (the old value opens nothing any more)",
                path.display()
            )?;
        }
    }
    Ok(())
}

fn report(out: &mut impl std::io::Write, rotated: &MasterKeyRotated) -> anyhow::Result<()> {
    writeln!(
        out,
        "re-wrapped {} data keys ({} already under the new key)",
        rotated.data_keys_rewrapped, rotated.data_keys_already_new
    )?;
    writeln!(
        out,
        "re-sealed {} two-factor secrets ({} already under the new key)",
        rotated.totp_resealed, rotated.totp_already_new
    )?;
    if rotated.totp_changed_meanwhile > 0 {
        writeln!(
            out,
            "{} two-factor secrets changed meanwhile and were left to that change",
            rotated.totp_changed_meanwhile
        )?;
    }
    Ok(())
}
