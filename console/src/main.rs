//! `tgos-console`: the staff compliance console.
//!
//! A separate program from the server (it never links `tgos-api`): it opens the same database with the same
//! master key and calls domain use cases directly. Staff accounts always have two-factor on (policy §9).
//!
//! Rules: every command that acts on the service's data (`accounts …`, `keys …`, `lawful …`, `payments …`)
//! signs a staff member in first (password and a second factor, see `session`) and acts as that staff member,
//! so the use cases audit it;
//! `staff create` bootstraps the first staff account from the operator's access to the database and key, and
//! once any staff exists needs a signed-in staff member like the rest; `audit verify` (read only),
//! `retention report|run` and `backup …` act from the operator's access to the database (the database URL is
//! the credential, as for `pg_dump`; the sweep audits itself as the system) and need no sign-in. Failures
//! print one line to stderr and exit 1 (3 when a staff sign-in was needed and not given, or the data cannot be
//! reached; 2 for usage, by clap; `lawful …` adds its own, see `lawful::status`); no secret or session string is
//! ever printed.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod accounts;
mod audit;
mod backup;
mod context;
mod errors;
mod keys;
mod lawful;
mod payments;
mod prompt;
mod retention;
mod session;
mod staff;

#[derive(Debug, Parser)]
#[command(name = "tgos-console", version, about = "Telegram OS staff console")]
struct Cli {
    #[command(flatten)]
    connection: context::ConnectionArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The rental pool's accounts (staff sign-in).
    #[command(subcommand)]
    Accounts(accounts::AccountsCommand),
    /// The audit log.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// The session vault's data keys (staff sign-in).
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// The lawful requests register: register, list, show, approve, package, deliver (staff sign-in).
    #[command(subcommand)]
    Lawful(lawful::LawfulCommand),
    /// Payment notifications that did not match their top-up (staff sign-in).
    #[command(subcommand)]
    Payments(payments::PaymentsCommand),
    /// Backups of the database: create, list, prune, restore (the operator's access to the database).
    #[command(subcommand)]
    Backup(backup::BackupCommand),
    /// The retention sweep: what would go now (`report`) and doing it (`run`).
    #[command(subcommand)]
    Retention(retention::RetentionCommand),
    /// Staff accounts.
    #[command(subcommand)]
    Staff(staff::StaffCommand),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ignored = tracing_subscriber::fmt()
        .with_env_filter("warn")
        .with_writer(std::io::stderr)
        .try_init();
    let outcome = match cli.command {
        Command::Staff(command) => staff::run(command, &cli.connection).await,
        Command::Audit(command) => audit::run(command, &cli.connection).await,
        Command::Accounts(command) => accounts::run(command, &cli.connection).await,
        Command::Keys(command) => keys::run(command, &cli.connection).await,
        Command::Lawful(command) => lawful::run(command, &cli.connection).await,
        Command::Payments(command) => payments::run(command, &cli.connection).await,
        Command::Retention(command) => retention::run(command, &cli.connection).await,
        Command::Backup(command) => backup::run(command, &cli.connection).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("tgos-console: {error:#}");
            if let Some(failed) = error.downcast_ref::<errors::WithStatus>() {
                ExitCode::from(failed.status)
            } else if error.downcast_ref::<errors::SignInRequired>().is_some()
                || error.downcast_ref::<errors::Unreachable>().is_some()
            {
                ExitCode::from(errors::EXIT_SIGN_IN_REQUIRED)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
