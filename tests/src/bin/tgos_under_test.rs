//! The `tgos` command line built inside this package, so end-to-end tests can run `tgos serve` and
//! `tgos worker` as processes of their own (`CARGO_BIN_EXE_tgos-under-test`, which cargo provides only for a
//! package's own binaries). It is exactly `tgos`: the same `tgos_api::cli::run`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tgos_api::cli::run().await
}
