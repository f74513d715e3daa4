//! Asking the operator for input: hidden on a terminal, plain lines when piped (scripts and tests).

use std::io::{BufRead as _, IsTerminal as _, Write as _};

use anyhow::Context as _;
use secrecy::SecretString;

pub fn line(question: &str) -> anyhow::Result<String> {
    eprint!("{question}");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    let read = std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .context("reading from stdin")?;
    anyhow::ensure!(read > 0, "no answer on stdin");
    Ok(answer.trim_end_matches(['\r', '\n']).to_owned())
}

pub fn secret(question: &str) -> anyhow::Result<SecretString> {
    if std::io::stdin().is_terminal() {
        Ok(SecretString::from(rpassword::prompt_password(question)?))
    } else {
        line(question).map(SecretString::from)
    }
}
