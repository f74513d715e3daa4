//! `tgos`: run the server, apply or list the database migrations, or print the GraphQL schema.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tgos_api::config::{Overrides, Settings};

/// mimalloc rather than the system allocator: a third more dialog pages a second on two cores, and a tenth
/// of the resident memory after a burst (docs/PERFORMANCE.md, the inbox page scenario).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Schema => {
            #[expect(clippy::print_stdout, reason = "printing the schema is the command's output")]
            {
                print!("{}", tgos_api::graphql::sdl());
            }
            ExitCode::SUCCESS
        }
        Command::Migrate { data_dir, action } => {
            let overrides = Overrides {
                config_file: cli.config,
                addr: None,
                data_dir,
            };
            let settings = match load(&overrides) {
                Ok(settings) => settings,
                Err(code) => return code,
            };
            let telemetry = tgos_api::telemetry::init(&settings.log, &settings.telemetry);
            let code = migrate(&settings, action).await;
            telemetry.shutdown().await;
            code
        }
        Command::Serve { addr, data_dir, demo } => {
            let overrides = Overrides {
                config_file: cli.config,
                addr,
                data_dir,
            };
            let settings = match load(&overrides) {
                Ok(settings) => settings,
                Err(code) => return code,
            };
            let telemetry = tgos_api::telemetry::init(&settings.log, &settings.telemetry);
            let code = match tgos_api::server::serve(settings, demo).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    tracing::error!("{error:#}");
                    ExitCode::FAILURE
                }
            };
            // The spans of the last requests and of the shutdown itself are still in the batch.
            telemetry.shutdown().await;
            code
        }
    }
}

async fn migrate(settings: &Settings, action: MigrateAction) -> ExitCode {
    match action {
        MigrateAction::Up => match tgos_api::migrate::up(settings).await {
            Ok(applied) => {
                tracing::info!(applied, "the database schema is up to date");
                ExitCode::SUCCESS
            }
            Err(error) => {
                tracing::error!("{error:#}");
                ExitCode::FAILURE
            }
        },
        MigrateAction::Status { json } => match tgos_api::migrate::status(settings).await {
            Ok(status) => {
                #[expect(clippy::print_stdout, reason = "the status is the command's output")]
                {
                    print!("{}", tgos_api::migrate::render_status(&status, json));
                }
                if status.is_current() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(tgos_api::migrate::EXIT_PENDING)
                }
            }
            Err(error) => {
                tracing::error!("{error:#}");
                ExitCode::FAILURE
            }
        },
    }
}
