//! `tgos-console staff create --email … --username … --full-name … [--login <staff>]`
//!
//! Prompts for the password (twice), shows the TOTP enrollment (URI and secret), and stores the account only
//! after a valid code from the authenticator: a staff account never exists without two-factor (policy §9).
//!
//! Rule: without a sign-in it creates only the first staff account (the bootstrap). Once any staff account
//! exists, a staff member signs in first (`--login`, password, code; see `session`) and the new account's
//! audit entry names them; without `--login` the command is refused before any prompt, exit status 3.

use clap::Args;
use secrecy::ExposeSecret as _;
use tgos_domain::DomainError;
use tgos_domain::identity::use_cases::{NewStaff, STAFF_EXIST, StaffCreator};

use crate::context::{Connection, ConnectionArgs};
use crate::errors::{SignInRequired, domain};
use crate::prompt;
use crate::session::{StaffLogin, StaffSession};

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
    /// Who signs in to create it, once a staff account exists.
    #[command(flatten)]
    who: StaffLogin,
}

/// The refusal of a second bootstrap.
fn sign_in_required() -> anyhow::Error {
    anyhow::Error::new(SignInRequired(format!(
        "{STAFF_EXIST}: sign in with --login <your staff login> (or TGOS_CONSOLE_LOGIN)"
    )))
}

pub async fn run(args: CreateArgs, connection: &ConnectionArgs) -> anyhow::Result<()> {
    let console = Connection::open(connection).await?;
    if !console.identity.staff_exists().await.map_err(domain)? {
        return create(args, &console, None).await;
    }
    if !args.who.given() {
        return Err(sign_in_required());
    }
    let session = StaffSession::sign_in(&console, &args.who).await?;
    let outcome = create(args, &console, Some(&session)).await;
    session.end(&console, outcome).await
}

async fn create(args: CreateArgs, console: &Connection, by: Option<&StaffSession>) -> anyhow::Result<()> {
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
            // Staff are engaged by the operator of the service, never children.
            age_confirmed: true,
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    eprintln!("Add this account to an authenticator app:");
    eprintln!("  otpauth URI: {}", prepared.enrollment.otpauth_uri);
    eprintln!("  secret:      {}", prepared.enrollment.secret);
    let code = prompt::line("Code from the authenticator: ")?;
    let creator = match by {
        Some(session) => StaffCreator::Staff(session.principal(), session.client()),
        None => StaffCreator::Bootstrap,
    };
    let (user, backup_codes) = match console.identity.create_staff(prepared, &code, creator).await {
        Ok(created) => created,
        // Another bootstrap won the race.
        Err(DomainError::Forbidden(message)) if message == STAFF_EXIST => return Err(sign_in_required()),
        Err(error) => return Err(anyhow::anyhow!("{error}")),
    };
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
