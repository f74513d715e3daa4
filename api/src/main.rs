//! `tgos`: run the server, or print the GraphQL schema.

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
    /// Print the GraphQL schema (SDL); `schema.graphql` is this output.
    Schema,
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
        Command::Serve { addr, data_dir, demo } => {
            let overrides = Overrides {
                config_file: cli.config,
                addr,
                data_dir,
            };
            let settings = match Settings::load(&overrides) {
                Ok(settings) => settings,
                Err(error) => {
                    eprintln!("tgos: {error}");
                    return ExitCode::from(2);
                }
            };
            tgos_api::telemetry::init(&settings.log);
            match tgos_api::server::serve(settings, demo).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    tracing::error!("{error:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
