//! Staff sign-in, the session cookie, sign-out and the CSRF tokens of every form.

use std::sync::Arc;

use poem::http::{StatusCode, header};
use poem::web::{Data, Form};
use poem::{Request, Response, handler};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;
use subtle::ConstantTimeEq as _;
use tgos_domain::identity::Principal;
use tgos_domain::identity::use_cases::SignInOutcome;
use tgos_domain::request::ClientInfo;

use super::Console;
use super::render::{status_of, text_of};

/// The session cookie.
const SESSION: &str = "tgos_console";
/// The sign-in forms' nonce cookie.
const LOGIN: &str = "tgos_console_login";
const NOT_STAFF: &str = "this account may not use the console: it needs a staff account with two-factor sign-in";

/// A signed-in staff member on this request.
#[derive(Debug)]
pub struct StaffSession {
    pub principal: Principal,
    pub client: ClientInfo,
    pub token: String,
    /// Their username, for the page header.
    pub name: String,
}

impl StaffSession {
    pub fn context(&self) -> tgos_domain::compliance::StaffContext<'_> {
        tgos_domain::compliance::StaffContext {
            principal: &self.principal,
            client: &self.client,
        }
    }
}

/// The caller's address and user agent, as audit entries record them.
pub fn client_of(req: &Request) -> ClientInfo {
    let ip = req.remote_addr().as_socket_addr().map(|addr| addr.ip());
    let agent = req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok());
    ClientInfo::new(ip, agent)
}

fn cookie(req: &Request, name: &str) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

fn set_cookie(console: &Console, name: &str, value: &str, max_age_secs: u64) -> String {
    let secure = if console.secure_cookies { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}")
}

fn mac_hex(console: &Console, purpose: &str, value: &str) -> String {
    hex::encode(console.csrf.mac(&[purpose.as_bytes(), value.as_bytes()]))
}

fn same(expected: &str, given: &str) -> bool {
    expected.len() == given.len() && bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

/// The CSRF token of the forms of a session.
pub fn csrf_of(console: &Console, session: &StaffSession) -> String {
    mac_hex(console, "session", &session.token)
}

/// Whether a form's token is the session's.
pub fn csrf_ok(console: &Console, session: &StaffSession, given: &str) -> bool {
    same(&csrf_of(console, session), given)
}

/// The refusal of a form without its token.
pub fn csrf_refused(console: &Console) -> Response {
    console.pages.message(
        StatusCode::FORBIDDEN,
        "This form expired",
        "The form did not carry this session's token, so nothing was changed. Reload the page and try again.",
        "/",
    )
}

fn to_login() -> Response {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, "/login")
        .finish()
}

/// The staff member signed in on this request, or the response that sends them to sign in (no session, an
/// expired or idle one) or refuses them (not staff, or without two-factor).
pub async fn staff(console: &Console, req: &Request) -> Result<StaffSession, Response> {
    let Some(token) = cookie(req, SESSION) else {
        return Err(to_login());
    };
    let found = match console.connection.identity.authenticate(&token).await {
        Ok(Some(found)) => found,
        Ok(None) => return Err(to_login()),
        Err(error) => {
            return Err(console
                .pages
                .message(status_of(&error), "Sign-in failed", &text_of(&error), "/login"));
        }
    };
    let client = client_of(req);
    if found.account_closed || found.principal.require_staff().is_err() {
        let _ignored = console.connection.identity.sign_out(&found.principal, &client).await;
        return Err(console
            .pages
            .message(StatusCode::FORBIDDEN, "Not allowed", NOT_STAFF, "/login"));
    }
    let name = match &found.principal {
        Principal::User { display_name, .. } | Principal::ApiKey { display_name, .. } => display_name.clone(),
    };
    Ok(StaffSession {
        principal: found.principal,
        client,
        token,
        name,
    })
}

fn login_form(console: &Console, nonce: &str, typed: &str, error: Option<String>, status: StatusCode) -> Response {
    let mut page = console.pages.page(
        "login.html",
        json!({ "login_csrf": mac_hex(console, "login", nonce), "login": typed, "error": error }),
        status,
    );
    if let Ok(value) = set_cookie(console, LOGIN, nonce, 600).parse() {
        page.headers_mut().append(header::SET_COOKIE, value);
    }
    page
}

/// `GET /login`.
#[handler]
pub fn login_page(console: Data<&Arc<Console>>) -> Response {
    let nonce = hex::encode(rand::random::<[u8; 32]>());
    login_form(&console, &nonce, "", None, StatusCode::OK)
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
}

/// The sign-in forms' nonce, when the form carries its MAC.
fn login_nonce(console: &Console, req: &Request, csrf: &str) -> Option<String> {
    let nonce = cookie(req, LOGIN)?;
    same(&mac_hex(console, "login", &nonce), csrf).then_some(nonce)
}

/// `POST /login`: the password step.
#[handler]
pub async fn login(console: Data<&Arc<Console>>, req: &Request, Form(form): Form<LoginForm>) -> Response {
    let Some(nonce) = login_nonce(&console, req, &form.csrf) else {
        return csrf_refused(&console);
    };
    let client = client_of(req);
    let password = SecretString::from(form.password);
    match console
        .connection
        .identity
        .sign_in(&form.login, &password, &client)
        .await
    {
        Ok(SignInOutcome::TwoFactorChallenge { token, .. }) => console.pages.page(
            "code.html",
            json!({ "login_csrf": mac_hex(&console, "login", &nonce), "challenge": token }),
            StatusCode::OK,
        ),
        Ok(SignInOutcome::Session(issued)) => {
            // No second factor: never a console session. Close the one the sign-in opened.
            if let Ok(Some(found)) = console.connection.identity.authenticate(&issued.token).await {
                let _ignored = console.connection.identity.sign_out(&found.principal, &client).await;
            }
            login_form(
                &console,
                &nonce,
                &form.login,
                Some(NOT_STAFF.to_owned()),
                StatusCode::FORBIDDEN,
            )
        }
        Err(error) => login_form(&console, &nonce, &form.login, Some(text_of(&error)), status_of(&error)),
    }
}

#[derive(Debug, Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    challenge: String,
    #[serde(default)]
    code: String,
}

/// `POST /login/code`: the second factor; on success the session cookie is set.
#[handler]
pub async fn second_factor(console: Data<&Arc<Console>>, req: &Request, Form(form): Form<CodeForm>) -> Response {
    let Some(nonce) = login_nonce(&console, req, &form.csrf) else {
        return csrf_refused(&console);
    };
    let client = client_of(req);
    let issued = match console
        .connection
        .identity
        .complete_sign_in(&form.challenge, &form.code, &client)
        .await
    {
        Ok(issued) => issued,
        Err(error) => return login_form(&console, &nonce, "", Some(text_of(&error)), status_of(&error)),
    };
    let found = match console.connection.identity.authenticate(&issued.token).await {
        Ok(Some(found)) => found,
        _ => {
            return login_form(
                &console,
                &nonce,
                "",
                Some("the sign-in did not complete".to_owned()),
                StatusCode::UNAUTHORIZED,
            );
        }
    };
    if found.account_closed || found.principal.require_staff().is_err() {
        let _ignored = console.connection.identity.sign_out(&found.principal, &client).await;
        return login_form(&console, &nonce, "", Some(NOT_STAFF.to_owned()), StatusCode::FORBIDDEN);
    }
    let mut response = Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, "/requests")
        .finish();
    let max_age = super::LIFETIME.as_secs();
    for value in [
        set_cookie(&console, SESSION, &issued.token, max_age),
        set_cookie(&console, LOGIN, "", 0),
    ] {
        if let Ok(value) = value.parse() {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /logout`.
#[handler]
pub async fn logout(console: Data<&Arc<Console>>, req: &Request, Form(form): Form<CsrfForm>) -> Response {
    let session = match staff(&console, req).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    if !csrf_ok(&console, &session, &form.csrf) {
        return csrf_refused(&console);
    }
    let _ignored = console
        .connection
        .identity
        .sign_out(&session.principal, &session.client)
        .await;
    let mut response = to_login();
    if let Ok(value) = set_cookie(&console, SESSION, "", 0).parse() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}
