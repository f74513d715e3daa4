//! The staff console's web pages under test: started on port 0 against the test's database, and a browser
//! stand-in that keeps cookies, follows nothing by itself, and reads forms' CSRF tokens from the pages.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context as _;
use tgos_console::context::ConnectionArgs;
use tgos_console::web::RunningConsole;
use tgos_domain::clock::SystemClock;
use tgos_domain::identity::Principal;
use tgos_domain::identity::use_cases::{NewStaff, StaffCreator};
use tgos_domain::jobs::JobWorker;
use tgos_domain::request::ClientInfo;

use crate::app::TestApp;
use crate::totp;

/// The password of the staff accounts tests create.
pub const STAFF_PASSWORD: &str = "a long staff passphrase";

/// A staff account and its authenticator.
#[derive(Debug, Clone)]
pub struct StaffAccount {
    pub username: String,
    pub secret: String,
    pub backup_codes: Vec<String>,
}

impl TestApp {
    /// The console's web pages on a free loopback port, over this app's database and master key.
    pub async fn start_console(&self) -> anyhow::Result<RunningConsole> {
        let args = ConnectionArgs {
            data_dir: self.data_dir.path().to_owned(),
            database_url: self.database_url.clone(),
            master_key: None,
        };
        tgos_console::web::start(&args, "127.0.0.1:0".parse()?).await
    }

    /// A staff account with two-factor on: created by the bootstrap without `by`, else by staff member `by`
    /// (signed in with one of their backup codes).
    pub async fn create_staff(&self, username: &str, by: Option<&mut StaffAccount>) -> anyhow::Result<StaffAccount> {
        let input = NewStaff {
            email: format!("{username}@staff.example.com"),
            full_name: format!("Staff {username}"),
            username: username.to_owned(),
            password: STAFF_PASSWORD.to_owned().into(),
            age_confirmed: true,
        };
        let prepared = self.identity.prepare_staff(input).await?;
        let secret = prepared.enrollment.secret.clone();
        let code = totp::code(&secret, 0)?;
        let client = ClientInfo::default();
        let (_, backup_codes) = match by {
            Some(creator) => {
                let principal = self.staff_principal(creator).await?;
                self.identity
                    .create_staff(prepared, &code, StaffCreator::Staff(&principal, &client))
                    .await?
            }
            None => {
                self.identity
                    .create_staff(prepared, &code, StaffCreator::Bootstrap)
                    .await?
            }
        };
        Ok(StaffAccount {
            username: username.to_owned(),
            secret,
            backup_codes,
        })
    }

    /// `staff` signed in through the identity use cases with one of their backup codes.
    pub async fn staff_principal(&self, staff: &mut StaffAccount) -> anyhow::Result<Principal> {
        use tgos_domain::identity::use_cases::SignInOutcome;
        let client = ClientInfo::default();
        let password = STAFF_PASSWORD.to_owned().into();
        let SignInOutcome::TwoFactorChallenge { token, .. } =
            self.identity.sign_in(&staff.username, &password, &client).await?
        else {
            anyhow::bail!("a staff sign-in without a second factor");
        };
        let code = staff.backup_codes.pop().context("no backup codes left")?;
        let issued = self.identity.complete_sign_in(&token, &code, &client).await?;
        Ok(self
            .identity
            .authenticate(&issued.token)
            .await?
            .context("the session just issued does not authenticate")?
            .principal)
    }

    /// Runs the jobs of `kinds` that are due now with a worker of the test's own.
    pub async fn run_jobs_now(&self, kinds: &[&str]) -> anyhow::Result<usize> {
        let mut worker = JobWorker::new(Arc::clone(&self.store), Arc::new(SystemClock), "test-jobs");
        for handler in &self.job_handlers.0 {
            if handler.kinds().iter().any(|kind| kinds.contains(kind)) {
                worker = worker.with_handler(Arc::clone(handler));
            }
        }
        Ok(worker.run_once().await?)
    }
}

/// A response of the console.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    /// The response's headers (a download's type and file name).
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    /// The value of the first hidden `csrf` input of the page.
    pub fn csrf(&self) -> anyhow::Result<String> {
        hidden(&self.body, "csrf")
    }
}

/// The value of the first `<input … name="<name>" value="…">` of `html`.
pub fn hidden(html: &str, name: &str) -> anyhow::Result<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .with_context(|| format!("no {name} input in the page"))?
        + marker.len();
    let end = html[start..].find('"').context("unterminated value")? + start;
    Ok(html[start..end].to_owned())
}

/// A browser stand-in: one cookie jar, redirects not followed.
#[derive(Debug)]
pub struct ConsoleBrowser {
    base: String,
    http: reqwest::Client,
    cookies: HashMap<String, String>,
}

impl ConsoleBrowser {
    pub fn new(console: &RunningConsole) -> anyhow::Result<Self> {
        Ok(Self {
            base: format!("http://{}", console.addr),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .user_agent("console-test/1.0")
                .build()?,
            cookies: HashMap::new(),
        })
    }

    /// The same cookies against another console (another process, with nothing in memory).
    pub fn at(&self, console: &RunningConsole) -> Self {
        Self {
            base: format!("http://{}", console.addr),
            http: self.http.clone(),
            cookies: self.cookies.clone(),
        }
    }

    pub fn has_session(&self) -> bool {
        self.cookies.get("tgos_console").is_some_and(|v| !v.is_empty())
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn finish(&mut self, response: reqwest::Response) -> anyhow::Result<Page> {
        for value in response.headers().get_all(reqwest::header::SET_COOKIE) {
            let text = value.to_str()?;
            let pair = text.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                if value.is_empty() || text.contains("Max-Age=0") {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_owned(), value.to_owned());
                }
            }
        }
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let headers = response.headers().clone();
        Ok(Page {
            status,
            location,
            headers,
            body: response.text().await?,
        })
    }

    pub async fn get(&mut self, path: &str) -> anyhow::Result<Page> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header(reqwest::header::COOKIE, self.cookie_header())
            .send()
            .await?;
        self.finish(response).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> anyhow::Result<Page> {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form.iter())
            .finish();
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header(reqwest::header::COOKIE, self.cookie_header())
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await?;
        self.finish(response).await
    }

    /// Login and password; the page that follows (the code form, or a refusal).
    pub async fn password_step(&mut self, login: &str, password: &str) -> anyhow::Result<Page> {
        let form = self.get("/login").await?;
        let csrf = hidden(&form.body, "csrf")?;
        self.post("/login", &[("csrf", &csrf), ("login", login), ("password", password)])
            .await
    }

    /// The whole sign-in with `code`; the last page.
    pub async fn sign_in_with(&mut self, login: &str, code: &str) -> anyhow::Result<Page> {
        let step = self.password_step(login, STAFF_PASSWORD).await?;
        anyhow::ensure!(
            step.status == 200,
            "the password step answered {}: {}",
            step.status,
            step.body
        );
        let csrf = hidden(&step.body, "csrf")?;
        let challenge = hidden(&step.body, "challenge")?;
        self.post(
            "/login/code",
            &[("csrf", &csrf), ("challenge", &challenge), ("code", code)],
        )
        .await
    }

    /// Signs `staff` in with a backup code (no wait for a fresh TOTP step); fails unless it worked.
    pub async fn sign_in(&mut self, staff: &mut StaffAccount) -> anyhow::Result<()> {
        let code = staff.backup_codes.pop().context("no backup codes left")?;
        let done = self.sign_in_with(&staff.username, &code).await?;
        anyhow::ensure!(
            done.status == 303 && done.location.as_deref() == Some("/requests"),
            "sign-in failed: {} {}",
            done.status,
            done.body
        );
        Ok(())
    }
}
