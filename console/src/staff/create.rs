//! `tgos-console staff create --email … --username … --full-name …`
//!
//! Prompts for the password (twice), shows the TOTP enrollment (URI and secret), and stores the account only
//! after a valid code from the authenticator: a staff account never exists without two-factor (policy §9).

use clap::Args;
use secrecy::ExposeSecret as _;
use tgos_domain::identity::use_cases::NewStaff;

use crate::context::{Connection, ConnectionArgs};
use crate::prompt;

#[derive(Debug, Args)]
pub struct CreateArgs {
    #[arg(long)]
    email: String,
    /// Defaults to the part of the email before `@`.
    #[arg(long)]
    username: Option<String>,
    /// Defaults to the username.
    #[arg(long)]
    full_name: Option<String>,
}

pub async fn run(args: CreateArgs, connection: &ConnectionArgs) -> anyhow::Result<()> {
    let console = Connection::open(connection).await?;
    let username = args.username.unwrap_or_else(|| {
        args.email
            .split('@')
            .next()
            .unwrap_or_default()
            .replace(['.', '-', '+'], "_")
    });
    let full_name = args.full_name.unwrap_or_else(|| username.clone());
    let password = prompt::secret("Password: ")?;
    let repeated = prompt::secret("Repeat password: ")?;
    anyhow::ensure!(
        password.expose_secret() == repeated.expose_secret(),
        "the passwords differ"
    );

    let prepared = console
        .identity
        .prepare_staff(NewStaff {
            email: args.email.clone(),
            full_name,
            username: username.clone(),
            password,
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    eprintln!("Add this account to an authenticator app:");
    eprintln!("  otpauth URI: {}", prepared.enrollment.otpauth_uri);
    eprintln!("  secret:      {}", prepared.enrollment.secret);
    let code = prompt::line("Code from the authenticator: ")?;
    let (user, backup_codes) = console
        .identity
        .create_staff(prepared, &code)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    eprintln!(
        "Created staff account {} ({}) with two-factor on.",
        user.username, user.id
    );
    eprintln!("Backup codes (each works once; store them safely, they are not shown again):");
    for code in backup_codes {
        eprintln!("  {code}");
    }
    Ok(())
}
