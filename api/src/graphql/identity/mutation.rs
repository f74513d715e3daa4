//! Identity mutations. Each one calls exactly one use case.

use crate::graphql::ids::found_id;
use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use tgos_domain::identity::IdentityService;
use tgos_domain::identity::use_cases::{SignInOutcome, SignUpInput as SignUp};
use tgos_domain::ids::SessionId;

use super::types::{
    BackupCodes, Session, SignInInput, SignInPayload, SignUpInput, SignUpPayload, TotpEnrollment, User,
};
use crate::graphql::context::{client, principal};
use crate::graphql::errors::ApiResult;
use crate::graphql::{guards::SignedIn, service};

#[derive(Debug, Default)]
pub struct IdentityMutation;

fn secret(text: String) -> SecretString {
    SecretString::from(text)
}

#[Object]
impl IdentityMutation {
    /// Creates an account and signs it in. Each bad field gets its own `BAD_USER_INPUT` error; a taken email
    /// or username is a `CONFLICT` naming the field.
    async fn sign_up(&self, ctx: &Context<'_>, input: SignUpInput) -> ApiResult<SignUpPayload> {
        let input = SignUp {
            email: input.email,
            full_name: input.full_name,
            username: input.username,
            password: secret(input.password),
            age_confirmed: input.age_confirmed,
        };
        let (user, session) = service::<IdentityService>(ctx)?.sign_up(input, &client(ctx)).await?;
        Ok(SignUpPayload {
            user: User::from(&user),
            session: Session::from(session),
        })
    }

    /// Signs in with email or username and password. With two-factor on, returns a challenge to complete
    /// with `completeSignIn`. Repeated failures answer `RATE_LIMITED` with `retryAfter`.
    async fn sign_in(&self, ctx: &Context<'_>, input: SignInInput) -> ApiResult<SignInPayload> {
        let outcome = service::<IdentityService>(ctx)?
            .sign_in(&input.login, &secret(input.password), &client(ctx))
            .await?;
        Ok(match outcome {
            SignInOutcome::Session(session) => SignInPayload {
                session: Some(Session::from(session)),
                two_factor_challenge: None,
                challenge_expires_at: None,
            },
            SignInOutcome::TwoFactorChallenge { token, expires_at } => SignInPayload {
                session: None,
                two_factor_challenge: Some(token),
                challenge_expires_at: Some(expires_at),
            },
        })
    }

    /// Completes a two-factor sign-in with a TOTP code or a backup code.
    async fn complete_sign_in(&self, ctx: &Context<'_>, challenge: String, code: String) -> ApiResult<Session> {
        let session = service::<IdentityService>(ctx)?
            .complete_sign_in(&challenge, &code, &client(ctx))
            .await?;
        Ok(Session::from(session))
    }

    /// Ends the current session.
    #[graphql(guard = "SignedIn")]
    async fn sign_out(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        service::<IdentityService>(ctx)?
            .sign_out(principal(ctx)?, &client(ctx))
            .await?;
        Ok(true)
    }

    /// Ends one of the viewer's sessions. `NOT_FOUND` for a session that is not theirs or already ended.
    #[graphql(guard = "SignedIn")]
    async fn revoke_session(&self, ctx: &Context<'_>, id: ID) -> ApiResult<bool> {
        let session: SessionId = found_id(&id, "session")?;
        service::<IdentityService>(ctx)?
            .revoke_session(principal(ctx)?, session, &client(ctx))
            .await?;
        Ok(true)
    }

    /// Changes the password and ends every other session.
    #[graphql(guard = "SignedIn")]
    async fn change_password(&self, ctx: &Context<'_>, current: String, new: String) -> ApiResult<bool> {
        service::<IdentityService>(ctx)?
            .change_password(principal(ctx)?, &secret(current), &secret(new), &client(ctx))
            .await?;
        Ok(true)
    }

    /// Confirms the password (and, with two-factor on, a TOTP or backup code) on this session, opening a
    /// 10-minute window for sensitive changes (two-factor on or off, new backup codes); returns when it
    /// closes. Wrong ones are `BAD_USER_INPUT` naming the field and count toward the lockout; API keys get
    /// `FORBIDDEN`.
    #[graphql(guard = "SignedIn")]
    async fn reauthenticate(
        &self,
        ctx: &Context<'_>,
        password: String,
        code: Option<String>,
    ) -> ApiResult<DateTime<Utc>> {
        let until = service::<IdentityService>(ctx)?
            .reauthenticate(principal(ctx)?, &secret(password), code.as_deref(), &client(ctx))
            .await?;
        Ok(until)
    }

    /// Starts adding an authenticator: returns the secret, its otpauth URI and a QR code. Needs a recent
    /// `reauthenticate` (`REAUTHENTICATION_REQUIRED` otherwise), as do the three mutations below.
    #[graphql(guard = "SignedIn")]
    async fn begin_totp_enrollment(&self, ctx: &Context<'_>) -> ApiResult<TotpEnrollment> {
        let enrollment = service::<IdentityService>(ctx)?
            .begin_totp_enrollment(principal(ctx)?)
            .await?;
        Ok(TotpEnrollment {
            secret: enrollment.secret,
            otpauth_uri: enrollment.otpauth_uri,
            qr_svg: enrollment.qr_svg,
        })
    }

    /// Turns two-factor on with a code from the authenticator; returns ten backup codes, shown once.
    #[graphql(guard = "SignedIn")]
    async fn confirm_totp_enrollment(&self, ctx: &Context<'_>, code: String) -> ApiResult<BackupCodes> {
        let backup_codes = service::<IdentityService>(ctx)?
            .confirm_totp_enrollment(principal(ctx)?, &code, &client(ctx))
            .await?;
        Ok(BackupCodes { backup_codes })
    }

    /// Replaces all backup codes; needs a TOTP code or an unused backup code.
    #[graphql(guard = "SignedIn")]
    async fn regenerate_backup_codes(&self, ctx: &Context<'_>, code: String) -> ApiResult<BackupCodes> {
        let backup_codes = service::<IdentityService>(ctx)?
            .regenerate_backup_codes(principal(ctx)?, &code, &client(ctx))
            .await?;
        Ok(BackupCodes { backup_codes })
    }

    /// Turns two-factor off; needs the password and a TOTP or backup code.
    #[graphql(guard = "SignedIn")]
    async fn disable_totp(&self, ctx: &Context<'_>, password: String, code: String) -> ApiResult<bool> {
        service::<IdentityService>(ctx)?
            .disable_totp(principal(ctx)?, &secret(password), &code, &client(ctx))
            .await?;
        Ok(true)
    }
}
