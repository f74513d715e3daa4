//! `tgos-console`: the staff compliance console (see the library's documentation for its rules).

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tgos_console::run().await
}
