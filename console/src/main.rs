//! `tgos-console`: the staff compliance console.
//!
//! A separate program from the server (it never links `tgos-api`): it opens the same database with the same
//! master key and calls domain use cases directly. Staff accounts always have two-factor on (policy §9).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod audit;
mod context;
mod prompt;
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
    /// The audit log.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
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
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("tgos-console: {error:#}");
            ExitCode::FAILURE
        }
    }
}
