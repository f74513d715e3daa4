//! `tgos-console`: the staff compliance console, as a command line and as web pages (`serve`).
//!
//! A separate program from the server (it never links `tgos-api`): it opens the same database with the same
//! master key and calls domain use cases directly. Staff accounts always have two-factor on (policy §9).
//!
//! Rules: every command that acts on or reads the service's data (`accounts …`, `keys …`, `lawful …`,
//! `payments …`, `requests …`, `users …`, `audit search|export`) signs a staff member in first (password and a
//! second factor, see `session`) and acts as that staff member, so the use cases audit it;
//! `staff create` bootstraps the first staff account from the operator's access to the database and key, and
//! once any staff exists needs a signed-in staff member like the rest; `audit verify` (read only),
//! `retention report|run` and `backup …` act from the operator's access to the database (the database URL is
//! the credential, as for `pg_dump`; the sweep audits itself as the system) and need no sign-in. Failures
//! print one line to stderr and exit 1 (3 when a staff sign-in was needed and not given, or the data cannot be
//! reached; 2 for usage, by clap; `lawful …` adds its own, see `lawful::status`); no secret or session string
//! is ever printed.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod accounts;
mod audit;
mod backup;
pub mod context;
mod errors;
mod keys;
mod lawful;
mod payments;
mod prompt;
mod requests;
mod retention;
mod session;
mod staff;
mod users;
pub mod web;

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
    /// Data-subject requests: the queue and working one (staff sign-in).
    #[command(subcommand)]
    Requests(requests::RequestsCommand),
    /// People: look up, see, suspend and unsuspend (staff sign-in).
    #[command(subcommand)]
    Users(users::UsersCommand),
    /// Serves the console's web pages on their own listener (staff sign in in the browser).
    Serve(web::ServeArgs),
}

/// Runs the command line; the binary's `main`.
pub async fn run() -> ExitCode {
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
        Command::Requests(command) => requests::run(command, &cli.connection).await,
        Command::Users(command) => users::run(command, &cli.connection).await,
        Command::Serve(args) => web::serve(args, &cli.connection).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("tgos-console: {error:#}");
            ExitCode::from(errors::exit_code(&error))
        }
    }
}
