//! Staff add an account signed in by phone (the console's `accounts login`) to the pool.
//!
//! Rules:
//! - Exactly as an import adds it ([`AccountsService::add_to_pool`]'s batch of one): staff with two-factor
//!   only, checked before anything is read; the session sealed under the platform's key; refused when its
//!   key is already in the pool; audited `accounts.imported` on the platform chain naming the staff member,
//!   with `"via": "phone_login"`.
//! - One Telegram user is in the pool once: an account that is not retired and is the same user refuses the
//!   login (`CONFLICT` on `phone`, naming that account). The check reads before the batch's transaction, so
//!   two logins of one user at the very same moment could both pass for a real account; for sandbox
//!   accounts the database's unique index on their user id refuses the second.
//! - The profile comes from what Telegram said: display name, username, premium, and the phone masked (the
//!   full number is never stored). The account is labelled sandbox exactly when the gateway is the sandbox.
//! - The session names its user: when the gateway's session did not, the signed-in user's id is added, so
//!   the account's user is known in the pool.

use crate::accounts::gateway::{LoggedIn, TelegramGateway};
use crate::accounts::pool::records::AccountProfile;
use crate::accounts::pool::service::AccountsService;
use crate::accounts::pool::use_cases::import::NewPoolAccount;
use crate::audit::Actor;
use crate::billing::Money;
use crate::error::{DomainError, DomainResult};
use crate::identity::Principal;
use crate::ids::AccountId;
use crate::request::ClientInfo;

/// The field a refusal of the login's account names.
const FIELD: &str = "phone";

impl AccountsService {
    /// Adds the account `logged_in` (from `gateway`'s phone login) to the pool at `price_per_day`.
    #[tracing::instrument(skip_all)]
    pub async fn add_logged_in(
        &self,
        principal: &Principal,
        client: &ClientInfo,
        gateway: &dyn TelegramGateway,
        logged_in: LoggedIn,
        price_per_day: Money,
    ) -> DomainResult<AccountId> {
        let staff = principal.require_staff()?;
        let LoggedIn {
            session,
            user,
            phone,
            premium,
        } = logged_in;
        let user_id = user.key().get();
        let session = match session.user_id() {
            Some(id) if id == user_id => session,
            Some(_) => return Err(DomainError::internal("the login's session names another user")),
            None => session.with_user_id(user_id).map_err(DomainError::internal)?,
        };
        if let Some(existing) = self.store.live_account_of_user(user_id).await? {
            return Err(already_in_pool(Some(existing.id)));
        }
        let account = NewPoolAccount {
            line: 1,
            profile: AccountProfile {
                display_name: Some(user.title().to_owned()).filter(|name| !name.trim().is_empty()),
                username: user.username().map(str::to_owned),
                phone_masked: Some(phone.masked()),
                country: None,
                premium,
                account_created: None,
            },
            session,
            sandbox: gateway.is_sandbox(),
        };
        let summary = self
            .add_batch(
                Actor::staff(staff, principal.display_name()),
                client,
                vec![account],
                price_per_day,
                Some("phone_login"),
            )
            .await
            .map_err(|error| match error {
                DomainError::Conflict { .. } => already_in_pool(None),
                other => other,
            })?;
        summary
            .accounts
            .first()
            .copied()
            .ok_or_else(|| DomainError::internal("the login's batch added nothing"))
    }
}

fn already_in_pool(existing: Option<AccountId>) -> DomainError {
    let message = match existing {
        Some(id) => format!("this Telegram account is already in the pool (account {id})"),
        None => "this Telegram account is already in the pool".to_owned(),
    };
    DomainError::conflict(FIELD, message)
}
