//! The staff sign-in every console action starts with (all commands but bootstrapping the first staff account
//! and verifying the audit log, which work from the operator's access to the database and key alone).
//!
//! Rules:
//! - Login (`--login` or `TGOS_CONSOLE_LOGIN`, else asked), password (always asked: hidden on a terminal, a
//!   plain line when piped; never a flag or an environment variable), then a code from the authenticator or a
//!   backup code. It goes through the identity use cases, so the server's lockout, throttling and audit
//!   entries (`auth.signed_in`, `auth.sign_in_failed`, `auth.second_factor_failed`) apply unchanged.
//! - Only a staff account with two-factor on may act (`Principal::require_staff`, policy §9). Anyone else is
//!   refused before anything is done; a session the sign-in opened for them is signed out at once.
//! - The console's session is signed out when the command ends, whether the command succeeded or failed.
//! - The session token lives only in memory for the sign-in and is never printed.

use anyhow::Context as _;
use clap::Args;
use tgos_domain::identity::Principal;
use tgos_domain::identity::use_cases::SignInOutcome;
use tgos_domain::request::ClientInfo;

use crate::context::Connection;
use crate::errors::domain;
use crate::prompt;

const NOT_STAFF: &str = "this account may not use the console: console actions need a staff account with \
                         two-factor enrolled";

/// Who signs in for a command.
#[derive(Debug, Args)]
pub struct StaffLogin {
    /// The staff account's email or username; asked for when unset. The password is always asked for.
    #[arg(long = "login", env = "TGOS_CONSOLE_LOGIN")]
    login: Option<String>,
}

impl StaffLogin {
    /// Whether a login was given (flag or environment): the operator means to sign in.
    pub fn given(&self) -> bool {
        self.login.as_deref().is_some_and(|login| !login.trim().is_empty())
    }
}

/// A signed-in staff member, acting through the console.
#[derive(Debug)]
pub struct StaffSession {
    principal: Principal,
    client: ClientInfo,
}

impl StaffSession {
    /// Asks for the credentials and signs in; refuses anyone but staff with two-factor on.
    pub async fn sign_in(console: &Connection, who: &StaffLogin) -> anyhow::Result<Self> {
        let client = ClientInfo::new(None, Some(concat!("tgos-console/", env!("CARGO_PKG_VERSION"))));
        if !console.backup_codes_open() {
            eprintln!(
                "warning: this master key opens none of the database's data keys: it is neither the current master \
                 key nor the new one of a rotation, so backup codes cannot sign in"
            );
        }
        let login = match &who.login {
            Some(login) => login.clone(),
            None => prompt::line("Login: ")?,
        };
        let password = prompt::secret("Password: ")?;
        let outcome = console
            .identity
            .sign_in(&login, &password, &client)
            .await
            .map_err(domain)
            .context("sign-in refused")?;
        drop(password);
        let issued = match outcome {
            SignInOutcome::TwoFactorChallenge { token, .. } => {
                let code = prompt::line("Code: ")?;
                console
                    .identity
                    .complete_sign_in(&token, &code, &client)
                    .await
                    .map_err(domain)
                    .context("sign-in refused")?
            }
            // Without two-factor nobody acts as staff: close the session the sign-in just opened.
            SignInOutcome::Session(issued) => {
                let session = Self::resolve(console, &issued.token, client).await?;
                session.sign_out(console).await?;
                anyhow::bail!("sign-in refused: {NOT_STAFF}");
            }
        };
        let session = Self::resolve(console, &issued.token, client).await?;
        if session.principal.require_staff().is_err() {
            session.sign_out(console).await?;
            anyhow::bail!("sign-in refused: {NOT_STAFF}");
        }
        Ok(session)
    }

    /// The principal of a session token the sign-in just issued.
    async fn resolve(console: &Connection, token: &str, client: ClientInfo) -> anyhow::Result<Self> {
        let authenticated = console
            .identity
            .authenticate(token)
            .await
            .map_err(domain)?
            .context("the session just issued does not authenticate")?;
        Ok(Self {
            principal: authenticated.principal,
            client,
        })
    }

    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    pub fn client(&self) -> &ClientInfo {
        &self.client
    }

    /// Signs the console's session out and hands back the command's outcome (its error first, if both failed).
    pub async fn end<T>(self, console: &Connection, outcome: anyhow::Result<T>) -> anyhow::Result<T> {
        let signed_out = self.sign_out(console).await;
        let value = outcome?;
        signed_out?;
        Ok(value)
    }

    async fn sign_out(self, console: &Connection) -> anyhow::Result<()> {
        console
            .identity
            .sign_out(&self.principal, &self.client)
            .await
            .map_err(domain)
            .context("signing the console session out")
    }
}
