//! Signing an account in by phone over MTProto (see the domain's `LoginFlow` for the steps).
//!
//! Rules:
//! - One flow is one fresh in-memory session on its own sender pool; Telegram's "your number lives in data
//!   centre N" answers move the flow's home there and repeat the request once.
//! - The code and the cloud password are sent to Telegram and not kept; the password is checked by grammers'
//!   SRP implementation, which sends only the proof.
//! - `PHONE_CODE_EXPIRED` is told apart from `PHONE_CODE_INVALID`: the first ends the attempt, the second may
//!   be retried.

use std::sync::Arc;

use async_trait::async_trait;
use grammers_client::client::PasswordToken;
use grammers_client::{Client, SignInError};
use grammers_mtsender::InvocationError;
use grammers_session::Session as _;
use grammers_session::storages::MemorySession;
use grammers_tl_types as tl;
use tgos_domain::accounts::PhoneNumber;
use tgos_domain::accounts::gateway::{CodeAccepted, GatewayError, LoggedIn, LoginError, LoginFlow};

use super::config::MtprotoConfig;
use super::convert;
use super::errors::classify;
use super::gateway::start_client;
use super::session;

/// Telegram's RPC code for "this lives in another data centre".
const SEE_OTHER: i32 = 303;

/// One phone login over MTProto.
pub struct MtprotoLogin {
    config: MtprotoConfig,
    memory: Arc<MemorySession>,
    client: Client,
    running: tokio::task::JoinHandle<()>,
    phone: Option<(PhoneNumber, String)>,
    password: Option<PasswordToken>,
}

impl std::fmt::Debug for MtprotoLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MtprotoLogin")
            .field("phone", &self.phone.as_ref().map(|(p, _)| p.masked()))
            .field("password_needed", &self.password.is_some())
            .finish()
    }
}

impl MtprotoLogin {
    pub fn new(config: MtprotoConfig) -> Self {
        let memory = Arc::new(MemorySession::from(session::base_data(config.test_dc())));
        let (client, _updates, running) = start_client(Arc::clone(&memory), config.api_id());
        Self {
            config,
            memory,
            client,
            running,
            phone: None,
            password: None,
        }
    }

    /// `request` at home, moved once to the data centre Telegram names.
    async fn invoke_at_home<R: tl::RemoteCall>(&self, request: &R) -> Result<R::Return, InvocationError> {
        match self.client.invoke(request).await {
            Err(InvocationError::Rpc(error)) if error.code == SEE_OTHER => {
                let dc = error.value.and_then(|v| i32::try_from(v).ok()).unwrap_or(2);
                let _memory_cannot_fail = self.memory.set_home_dc_id(dc).await;
                self.client.invoke(request).await
            }
            other => other,
        }
    }

    fn logged_in(&self, user: &tl::enums::User) -> Result<LoggedIn, LoginError> {
        let tl::enums::User::User(raw) = user else {
            return Err(LoginError::Gateway(GatewayError::Other(
                "Telegram named no user".to_owned(),
            )));
        };
        let peer = convert::user_peer(raw).ok_or(LoginError::Gateway(GatewayError::PeerInvalid))?;
        let (phone, _) = self.phone.clone().ok_or(LoginError::OutOfOrder("no code was sent"))?;
        let sealed = session::from_grammers(&*self.memory, None, Some(raw.id), self.config.test_dc())
            .and_then(|s| s.with_api_id(self.config.api_id()))
            .map_err(|_| LoginError::Gateway(GatewayError::Other("the new session has no key".to_owned())))?;
        Ok(LoggedIn {
            session: sealed,
            user: peer,
            phone,
            premium: raw.premium,
        })
    }
}

fn rpc_error(error: &InvocationError) -> LoginError {
    match error {
        InvocationError::Rpc(rpc) => LoginError::from_rpc(rpc.code, &rpc.name, rpc.value),
        other => LoginError::Gateway(classify(other)),
    }
}

#[async_trait]
impl LoginFlow for MtprotoLogin {
    async fn send_code(&mut self, phone: &PhoneNumber) -> Result<(), LoginError> {
        let request = tl::functions::auth::SendCode {
            phone_number: phone.as_e164().to_owned(),
            api_id: self.config.api_id(),
            api_hash: self.config.api_hash().to_owned(),
            settings: tl::types::CodeSettings {
                allow_flashcall: false,
                current_number: false,
                allow_app_hash: false,
                allow_missed_call: false,
                allow_firebase: false,
                logout_tokens: None,
                token: None,
                app_sandbox: None,
                unknown_number: false,
            }
            .into(),
        };
        match self.invoke_at_home(&request).await.map_err(|e| rpc_error(&e))? {
            tl::enums::auth::SentCode::Code(code) => {
                self.phone = Some((phone.clone(), code.phone_code_hash));
                self.password = None;
                Ok(())
            }
            _ => Err(LoginError::Gateway(GatewayError::Other(
                "Telegram did not send a code for this number".to_owned(),
            ))),
        }
    }

    async fn sign_in(&mut self, code: &str) -> Result<CodeAccepted, LoginError> {
        let (phone, hash) = self
            .phone
            .clone()
            .ok_or(LoginError::OutOfOrder("send the code first"))?;
        let request = tl::functions::auth::SignIn {
            phone_number: phone.as_e164().to_owned(),
            phone_code_hash: hash,
            phone_code: Some(code.trim().to_owned()),
            email_verification: None,
        };
        match self.invoke_at_home(&request).await {
            Ok(tl::enums::auth::Authorization::Authorization(auth)) => {
                Ok(CodeAccepted::LoggedIn(self.logged_in(&auth.user)?))
            }
            Ok(tl::enums::auth::Authorization::SignUpRequired(_)) => Err(LoginError::PhoneNumberUnoccupied),
            Err(error) if error.is("SESSION_PASSWORD_NEEDED") => {
                let tl::enums::account::Password::Password(info) = self
                    .client
                    .invoke(&tl::functions::account::GetPassword {})
                    .await
                    .map_err(|e| rpc_error(&e))?;
                let token = PasswordToken::new(info);
                let hint = token.hint().map(str::to_owned);
                self.password = Some(token);
                Ok(CodeAccepted::PasswordNeeded { hint })
            }
            Err(error) => Err(rpc_error(&error)),
        }
    }

    async fn check_password(&mut self, password: &str) -> Result<LoggedIn, LoginError> {
        let token = self
            .password
            .take()
            .ok_or(LoginError::OutOfOrder("no cloud password was asked for"))?;
        match self.client.check_password(token, password.as_bytes()).await {
            Ok(user) => self.logged_in(&user.raw),
            Err(SignInError::InvalidPassword(token)) => {
                self.password = Some(token);
                Err(LoginError::PasswordHashInvalid)
            }
            Err(SignInError::Other(error)) => Err(rpc_error(&error)),
            Err(_) => Err(LoginError::PasswordHashInvalid),
        }
    }
}

impl Drop for MtprotoLogin {
    fn drop(&mut self) {
        self.client.disconnect();
        self.running.abort();
    }
}
