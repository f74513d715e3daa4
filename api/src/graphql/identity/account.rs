//! The person's own account (API.md "Your data"): confirming the address, profile, email change, notice
//! preferences. Each mutation calls exactly one use case.

use async_graphql::{Context, InputObject, Object};
use tgos_domain::identity::IdentityService;
use tgos_domain::identity::use_cases::{NoticePreferences, ProfileChange};

use super::types::User;
use crate::graphql::context::{client, principal};
use crate::graphql::errors::ApiResult;
use crate::graphql::{guards::SignedIn, service};

#[derive(Debug, Default)]
pub struct AccountMutation;

/// What `updateProfile` changes; a field left out stays as it is.
#[derive(Debug, InputObject)]
pub struct UpdateProfileInput {
    pub full_name: Option<String>,
    pub username: Option<String>,
}

/// Which optional notices to get; a field left out stays as it is. Security and account notices always go.
#[derive(Debug, InputObject)]
pub struct NoticePreferencesInput {
    /// Top-ups credited, low balance.
    pub billing: Option<bool>,
    /// Leases ending within a day, and ended.
    pub leases: Option<bool>,
}

#[Object]
impl AccountMutation {
    /// Confirms the address the emailed link was made for (no sign-in needed: the link is the proof).
    /// `BAD_USER_INPUT` on `token` when the link expired, was replaced, or the address changed.
    async fn verify_email(&self, ctx: &Context<'_>, token: String) -> ApiResult<User> {
        let user = service::<IdentityService>(ctx)?
            .verify_email(&token, &client(ctx))
            .await?;
        Ok(User::from(&user))
    }

    /// Emails the confirmation link again; `false` when the address is already confirmed. At most five an
    /// hour (`RATE_LIMITED`).
    #[graphql(guard = "SignedIn")]
    async fn resend_email_verification(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        Ok(service::<IdentityService>(ctx)?
            .resend_email_verification(principal(ctx)?)
            .await?)
    }

    /// Changes the full name and/or username, with sign-up's rules; a taken username is a `CONFLICT` on
    /// `input.username`.
    #[graphql(guard = "SignedIn")]
    async fn update_profile(&self, ctx: &Context<'_>, input: UpdateProfileInput) -> ApiResult<User> {
        let change = ProfileChange {
            full_name: input.full_name,
            username: input.username,
        };
        let user = service::<IdentityService>(ctx)?
            .update_profile(principal(ctx)?, change, &client(ctx))
            .await?;
        Ok(User::from(&user))
    }

    /// Asks to move the account to `newEmail` (after `reauthenticate`, else `REAUTHENTICATION_REQUIRED`): a
    /// link goes to the new address and a notice to the current one; nothing changes until the link is
    /// opened (`confirmEmailChange`).
    #[graphql(guard = "SignedIn")]
    async fn request_email_change(&self, ctx: &Context<'_>, new_email: String) -> ApiResult<bool> {
        service::<IdentityService>(ctx)?
            .request_email_change(principal(ctx)?, &new_email, &client(ctx))
            .await?;
        Ok(true)
    }

    /// Makes the new address the account's, from the link sent to it. `BAD_USER_INPUT` on `token` when the
    /// link expired or a newer change was asked for.
    async fn confirm_email_change(&self, ctx: &Context<'_>, token: String) -> ApiResult<User> {
        let user = service::<IdentityService>(ctx)?
            .confirm_email_change(&token, &client(ctx))
            .await?;
        Ok(User::from(&user))
    }

    /// Turns billing and lease notices on or off.
    #[graphql(guard = "SignedIn")]
    async fn update_notice_preferences(&self, ctx: &Context<'_>, input: NoticePreferencesInput) -> ApiResult<User> {
        let preferences = NoticePreferences {
            billing: input.billing,
            leases: input.leases,
        };
        let user = service::<IdentityService>(ctx)?
            .update_notice_preferences(principal(ctx)?, preferences, &client(ctx))
            .await?;
        Ok(User::from(&user))
    }
}
