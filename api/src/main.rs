//! `tgos`: the command line of [`tgos_api::cli`] (serve, worker, migrate, schema).

use std::process::ExitCode;

/// mimalloc rather than the system allocator: a third more dialog pages a second on two cores, and a tenth
/// of the resident memory after a burst (docs/PERFORMANCE.md, the inbox page scenario).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    tgos_api::cli::run().await
}
