//! The `tgos` command line: serve the API, run the background work alone (`worker`), apply or list the
//! database migrations, or print the GraphQL schema. The binary (`main.rs`) is [`run`]; so is the tests'
//! `tgos-under-test`, which end-to-end tests start as real processes.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::config::{Overrides, Settings};
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "tgos", version, about = "Telegram OS server")]
struct Cli {
    /// Configuration file (default: ./tgos.toml when present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        /// Listen address, e.g. 127.0.0.1:8080; port 0 picks a free port.
        #[arg(long)]
        addr: Option<SocketAddr>,
        /// Data directory for the embedded database, key file and mail.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Seed a demo user, workspace, credit and sandbox accounts, and let a sandbox contact write.
        #[arg(long)]
        demo: bool,
        /// Whether this process also runs the background work (`server.workers`, on by default);
        /// `--workers=false` serves only, for deployments where `tgos worker` processes run it.
        #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
        workers: Option<bool>,
    },
    /// Run the background work without serving the API: the job worker and the leader-held work (outbox
    /// relay, lease expiry, inbox sync, automations' upkeep, retention enqueue). Its listener serves only
    /// `/healthz`, `/readyz` and `/metrics`; SIGTERM stops it gracefully.
    Worker {
        /// Listen address of the health and metrics listener (`server.addr`); port 0 picks a free port.
        #[arg(long)]
        addr: Option<SocketAddr>,
        /// Data directory for the embedded database, key file and mail.
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// The database migrations, with the same database settings as `serve`.
    Migrate {
        /// Data directory of the embedded database.
        #[arg(long, global = true)]
        data_dir: Option<PathBuf>,
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Print the GraphQL schema (SDL); `schema.graphql` is this output.
    Schema,
}

#[derive(Debug, Subcommand)]
enum MigrateAction {
    /// Apply the pending migrations, under a lock so concurrent runs apply each once.
    Up,
    /// List every migration as applied or pending; exits 0 when up to date, 3 when any is pending.
    Status {
        /// Print JSON: `{"pending": n, "migrations": [{"name", "applied"}]}`.
        #[arg(long)]
        json: bool,
    },
}

fn load(overrides: &Overrides) -> Result<Settings, ExitCode> {
    Settings::load(overrides).map_err(|error| {
        eprintln!("tgos: {error}");
        ExitCode::from(2)
    })
}

/// Parses the process's arguments and runs the command; the exit code says how it went (0: done, 1: failed,
/// 2: bad configuration, 3: migrations pending for `migrate status`).
pub async fn run() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Schema => {
            #[expect(clippy::print_stdout, reason = "printing the schema is the command's output")]
            {
                print!("{}", crate::graphql::sdl());
            }
            ExitCode::SUCCESS
        }
        Command::Migrate { data_dir, action } => {
            let overrides = Overrides {
                config_file: cli.config,
                data_dir,
                ..Overrides::default()
            };
            let settings = match load(&overrides) {
                Ok(settings) => settings,
                Err(code) => return code,
            };
            let telemetry = crate::telemetry::init(&settings.log, &settings.telemetry);
            let code = migrate(&settings, action).await;
            telemetry.shutdown().await;
            code
        }
        Command::Serve {
            addr,
            data_dir,
            demo,
            workers,
        } => {
            let overrides = Overrides {
                config_file: cli.config,
                addr,
                data_dir,
                workers,
            };
            let settings = match load(&overrides) {
                Ok(settings) => settings,
                Err(code) => return code,
            };
            let telemetry = crate::telemetry::init(&settings.log, &settings.telemetry);
            let code = finished(crate::server::serve(settings, demo).await);
            // The spans of the last requests and of the shutdown itself are still in the batch.
            telemetry.shutdown().await;
            code
        }
        Command::Worker { addr, data_dir } => {
            let overrides = Overrides {
                config_file: cli.config,
                addr,
                data_dir,
                workers: Some(true),
            };
            let settings = match load(&overrides) {
                Ok(settings) => settings,
                Err(code) => return code,
            };
            let telemetry = crate::telemetry::init(&settings.log, &settings.telemetry);
            let code = finished(crate::server::work(settings).await);
            telemetry.shutdown().await;
            code
        }
    }
}

/// 0 when the process ran and stopped cleanly; 1, with the error logged, when it failed.
fn finished(outcome: anyhow::Result<()>) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn migrate(settings: &Settings, action: MigrateAction) -> ExitCode {
    match action {
        MigrateAction::Up => match crate::migrate::up(settings).await {
            Ok(applied) => {
                tracing::info!(applied, "the database schema is up to date");
                ExitCode::SUCCESS
            }
            Err(error) => {
                tracing::error!("{error:#}");
                ExitCode::FAILURE
            }
        },
        MigrateAction::Status { json } => match crate::migrate::status(settings).await {
            Ok(status) => {
                #[expect(clippy::print_stdout, reason = "the status is the command's output")]
                {
                    print!("{}", crate::migrate::render_status(&status, json));
                }
                if status.is_current() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(crate::migrate::EXIT_PENDING)
                }
            }
            Err(error) => {
                tracing::error!("{error:#}");
                ExitCode::FAILURE
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(args: &[&str]) -> Result<Command, clap::Error> {
        Cli::try_parse_from(args).map(|cli| cli.command)
    }

    #[test]
    fn serve_takes_workers_as_a_flag_with_an_optional_value_and_worker_is_a_command() -> Result<(), clap::Error> {
        let workers_of = |command: Command| match command {
            Command::Serve { workers, .. } => Some(workers),
            _ => None,
        };
        assert_eq!(
            workers_of(parsed(&["tgos", "serve"])?),
            Some(None),
            "the setting decides"
        );
        assert_eq!(
            workers_of(parsed(&["tgos", "serve", "--workers=false"])?),
            Some(Some(false))
        );
        assert_eq!(workers_of(parsed(&["tgos", "serve", "--workers"])?), Some(Some(true)));
        assert!(parsed(&["tgos", "serve", "--workers=maybe"]).is_err());
        assert!(matches!(
            parsed(&["tgos", "worker", "--addr", "127.0.0.1:9091"])?,
            Command::Worker { addr: Some(addr), .. } if addr.port() == 9091
        ));
        Ok(())
    }
}
