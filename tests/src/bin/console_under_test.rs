//! The staff console's command line built inside this package, so end-to-end tests can run it as its own
//! process (`CARGO_BIN_EXE_console-under-test`, which cargo provides only for a package's own binaries). It
//! is exactly `tgos-console`: the same `tgos_console::run`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tgos_console::run().await
}
