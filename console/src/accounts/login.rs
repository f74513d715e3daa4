//! `tgos-console accounts login --phone +… --price-per-day MINOR [--currency USD] [--json]`: staff add a real
//! account by signing it in by phone, as Telegram's apps do.
//!
//! Rules:
//! - The phone number and the gateway's settings are checked before anything else; then a staff member signs
//!   in (signed out at the end whatever happens); only then is a code sent to the phone.
//! - The gateway is the server's: `TGOS_TELEGRAM__GATEWAY` (`sandbox`, the default, or `mtproto`, which needs
//!   `TGOS_TELEGRAM__API_ID` and `TGOS_TELEGRAM__API_HASH`; `TGOS_TELEGRAM__TEST_DC=true` for Telegram's test
//!   data centres), the same `telegram.*` keys the server reads (docs/CONFIGURATION.md).
//! - The code is asked for on the terminal (read as lines from stdin when it is not one); a wrong code may be
//!   entered again, [`CODE_ATTEMPTS`] times in all. An expired code, or any other refusal, ends the login.
//! - A cloud password is asked for only when the account has one: hidden on a terminal, used once, wiped
//!   from memory when the check returns, never printed, stored or audited. One attempt: a wrong password
//!   ends the login (repeated wrong passwords make Telegram lock the account's password for hours).
//! - Refusals are named after Telegram's errors (`PHONE_CODE_INVALID: the code is wrong`, `FLOOD_WAIT: … 60
//!   seconds …`) and exit 1; with `--json`, stdout holds `{"error":{"code","field","message"}}` like the other
//!   commands. Nothing is added unless the login succeeded.
//! - The account is added as an import adds it (`AccountsService::add_logged_in`); the output names it by
//!   id (and, on stderr, by its masked phone), never by its session.

use std::io::Write as _;
use std::sync::Arc;

use clap::{Args, ValueEnum};
use secrecy::ExposeSecret as _;
use serde_json::json;
use tgos_domain::DomainError;
use tgos_domain::accounts::PhoneNumber;
use tgos_domain::accounts::gateway::{CodeAccepted, LoggedIn, LoginError, TelegramGateway};
use tgos_domain::ids::AccountId;
use tgos_telegram::mtproto::{MtprotoConfig, MtprotoGateway};
use tgos_telegram::sandbox::SandboxGateway;
use zeroize::Zeroizing;

use super::{PriceArgs, print_added};
use crate::context::{Connection, ConnectionArgs};
use crate::errors::{code_of, field_of};
use crate::prompt;
use crate::session::{StaffLogin, StaffSession};

/// How many codes may be entered before the login gives up.
pub const CODE_ATTEMPTS: u8 = 3;

#[derive(Debug, Args)]
pub struct LoginArgs {
    #[command(flatten)]
    staff: StaffLogin,
    /// The account's phone number with its country code, e.g. +44 7911 123456.
    #[arg(long)]
    phone: String,
    #[command(flatten)]
    price: PriceArgs,
    #[command(flatten)]
    telegram: TelegramArgs,
    /// Print one JSON document: the account added, or the refusal.
    #[arg(long)]
    json: bool,
}

/// The server's `telegram.*` settings, from the same environment variables.
#[derive(Debug, Args)]
pub struct TelegramArgs {
    /// How accounts reach Telegram (the server's `telegram.gateway`).
    #[arg(
        long = "telegram-gateway",
        env = "TGOS_TELEGRAM__GATEWAY",
        value_enum,
        default_value = "sandbox"
    )]
    gateway: GatewayKind,
    /// The application's api_id from https://my.telegram.org (`mtproto` only).
    #[arg(long = "telegram-api-id", env = "TGOS_TELEGRAM__API_ID")]
    api_id: Option<i64>,
    /// The application's api_hash (`mtproto` only).
    #[arg(long = "telegram-api-hash", env = "TGOS_TELEGRAM__API_HASH", hide_env_values = true)]
    api_hash: Option<String>,
    /// Use Telegram's test data centres (`mtproto` only).
    #[arg(long = "telegram-test-dc", env = "TGOS_TELEGRAM__TEST_DC")]
    test_dc: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum GatewayKind {
    /// The simulated network (a fresh one in this process; its conventions are in the sandbox's docs).
    Sandbox,
    /// Telegram itself, over MTProto.
    Mtproto,
}

impl TelegramArgs {
    fn gateway(&self) -> Result<Arc<dyn TelegramGateway>, Failure> {
        match self.gateway {
            GatewayKind::Sandbox => Ok(Arc::new(SandboxGateway::default())),
            GatewayKind::Mtproto => {
                let config = MtprotoConfig::new(
                    self.api_id.unwrap_or(0),
                    self.api_hash.as_deref().unwrap_or_default(),
                    self.test_dc,
                )
                .map_err(|error| Failure::Domain(DomainError::invalid("telegram", error.to_string())))?;
                Ok(Arc::new(MtprotoGateway::new(config)))
            }
        }
    }
}

/// Why the command added nothing.
#[derive(Debug)]
enum Failure {
    /// Telegram (or the sandbox) refused a step.
    Login(LoginError),
    /// The use case refused (or the phone number is malformed).
    Domain(DomainError),
    /// The terminal or the database failed.
    Other(anyhow::Error),
}

impl From<LoginError> for Failure {
    fn from(error: LoginError) -> Self {
        Self::Login(error)
    }
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        Self::Other(error)
    }
}

/// The input a login refusal is about.
fn login_field(error: &LoginError) -> Option<&'static str> {
    match error {
        LoginError::PhoneNumberInvalid | LoginError::PhoneNumberBanned | LoginError::PhoneNumberUnoccupied => {
            Some("phone")
        }
        LoginError::PhoneCodeInvalid | LoginError::PhoneCodeExpired => Some("code"),
        LoginError::PasswordHashInvalid => Some("password"),
        LoginError::FloodWait { .. } | LoginError::OutOfOrder(_) | LoginError::Gateway(_) => None,
    }
}

pub async fn run(args: LoginArgs, connection: &ConnectionArgs) -> anyhow::Result<()> {
    let prepared = PhoneNumber::parse("phone", &args.phone)
        .map_err(|error| Failure::Domain(DomainError::Invalid(vec![error])))
        .and_then(|phone| Ok((phone, args.telegram.gateway()?)));
    let (phone, gateway) = match prepared {
        Ok(prepared) => prepared,
        Err(failure) => return report(args.json, Err(failure)),
    };
    let console = Connection::open(connection).await?;
    let staff = StaffSession::sign_in(&console, &args.staff).await?;
    let outcome = login(&console, &staff, &args, &phone, gateway.as_ref()).await;
    let printed = report(args.json, outcome.map(|id| (id, gateway.is_sandbox(), phone.masked())));
    staff.end(&console, printed).await
}

async fn login(
    console: &Connection,
    staff: &StaffSession,
    args: &LoginArgs,
    phone: &PhoneNumber,
    gateway: &dyn TelegramGateway,
) -> Result<AccountId, Failure> {
    let logged_in = sign_in_by_phone(gateway, phone).await?;
    console
        .accounts
        .add_logged_in(
            staff.principal(),
            staff.client(),
            gateway,
            logged_in,
            args.price.money(),
        )
        .await
        .map_err(Failure::Domain)
}

/// Telegram's steps: the code (retried while wrong), then the cloud password when the account has one.
async fn sign_in_by_phone(gateway: &dyn TelegramGateway, phone: &PhoneNumber) -> Result<LoggedIn, Failure> {
    let mut flow = gateway.begin_login().await.map_err(LoginError::from)?;
    flow.send_code(phone).await?;
    eprintln!(
        "Telegram sent a login code to {} (in a signed-in Telegram app, or by SMS).",
        phone.masked()
    );
    let mut attempt = 1;
    let accepted = loop {
        let code = Zeroizing::new(prompt::line("Login code: ")?);
        match flow.sign_in(code.trim()).await {
            Ok(accepted) => break accepted,
            Err(LoginError::PhoneCodeInvalid) if attempt < CODE_ATTEMPTS => {
                eprintln!(
                    "{}; {} attempt(s) left",
                    LoginError::PhoneCodeInvalid,
                    CODE_ATTEMPTS - attempt
                );
                attempt += 1;
            }
            Err(error) => return Err(error.into()),
        }
    };
    match accepted {
        CodeAccepted::LoggedIn(logged_in) => Ok(logged_in),
        CodeAccepted::PasswordNeeded { hint } => {
            match hint.as_deref().filter(|h| !h.trim().is_empty()) {
                Some(hint) => eprintln!("The account has a cloud password (hint: {hint})."),
                None => eprintln!("The account has a cloud password."),
            }
            let password = prompt::secret("Cloud password: ")?;
            let checked = flow.check_password(password.expose_secret()).await;
            drop(password);
            Ok(checked?)
        }
    }
}

/// Prints the outcome (stdout; one JSON document with `--json`) and turns a refusal into the command's error.
fn report(json_output: bool, outcome: Result<(AccountId, bool, String), Failure>) -> anyhow::Result<()> {
    match outcome {
        Ok((id, sandbox, phone)) => {
            if json_output {
                let body = json!({ "added": id.to_string(), "sandbox": sandbox, "phone": phone });
                writeln!(std::io::stdout().lock(), "{body}")?;
            } else {
                eprintln!(
                    "{phone} is in the pool{}.",
                    if sandbox { " as a sandbox account" } else { "" }
                );
                print_added("added", "account", &[id])?;
            }
            Ok(())
        }
        Err(Failure::Other(error)) => Err(error.context("no account was added")),
        Err(Failure::Login(error)) => refuse(json_output, error.code(), login_field(&error), &error.to_string()),
        Err(Failure::Domain(error)) => refuse(
            json_output,
            code_of(&error),
            field_of(&error).as_deref(),
            &error.to_string(),
        ),
    }
}

/// Prints a named refusal (as JSON with `--json`) and fails with its sentence.
fn refuse(json_output: bool, code: &str, field: Option<&str>, message: &str) -> anyhow::Result<()> {
    if json_output {
        let body = json!({ "error": { "code": code, "field": field, "message": message } });
        writeln!(std::io::stdout().lock(), "{body}")?;
    }
    anyhow::bail!("{message}; no account was added")
}
