//! GraphQL views of identity records. They expose exactly the public fields; hashes and sealed secrets stay
//! behind.

use async_graphql::{ID, InputObject, SimpleObject};
use chrono::{DateTime, Utc};
use tgos_domain::identity::records::{IssuedSession, SessionRecord, UserRecord};

/// A person's account.
#[derive(Debug, SimpleObject)]
pub struct User {
    pub id: ID,
    pub email: String,
    pub full_name: String,
    pub username: String,
    pub two_factor_enabled: bool,
    pub created_at: DateTime<Utc>,
    /// Whether `email` was confirmed through its link (invitations can be accepted only then).
    pub email_verified: bool,
    /// An address asked for with `requestEmailChange` and not yet confirmed.
    pub pending_email: Option<String>,
    pub notice_preferences: NoticePreferences,
}

/// Which optional notices the person gets (security and account notices always go).
#[derive(Debug, SimpleObject)]
pub struct NoticePreferences {
    pub billing: bool,
    pub leases: bool,
}

impl From<&UserRecord> for User {
    fn from(user: &UserRecord) -> Self {
        Self {
            id: ID(user.id.to_string()),
            email: user.email.clone(),
            full_name: user.full_name.clone(),
            username: user.username.clone(),
            two_factor_enabled: user.two_factor_enabled(),
            created_at: user.created_at,
            email_verified: user.email_verified(),
            pending_email: user.pending_email.clone(),
            notice_preferences: NoticePreferences {
                billing: user.notify_billing,
                leases: user.notify_leases,
            },
        }
    }
}

/// A newly issued session. `token` is shown only here, once; send it as `Authorization: Bearer <token>`.
#[derive(Debug, SimpleObject)]
pub struct Session {
    pub id: ID,
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

impl From<IssuedSession> for Session {
    fn from(session: IssuedSession) -> Self {
        Self {
            id: ID(session.record.id.to_string()),
            token: session.token,
            expires_at: session.record.expires_at,
        }
    }
}

/// One of the viewer's signed-in sessions, as listed in `me.sessions`.
#[derive(Debug, SimpleObject)]
pub struct SessionInfo {
    pub id: ID,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    /// Whether this is the session making the request.
    pub current: bool,
}

impl SessionInfo {
    pub fn new(session: SessionRecord, current: bool) -> Self {
        Self {
            id: ID(session.id.to_string()),
            created_at: session.created_at,
            last_seen_at: session.last_seen_at,
            expires_at: session.expires_at,
            ip_address: session.ip_address,
            user_agent: session.user_agent,
            current,
        }
    }
}

#[derive(Debug, InputObject)]
pub struct SignUpInput {
    pub email: String,
    pub full_name: String,
    pub username: String,
    pub password: String,
    /// Must be `true`: the service is not for people under 16.
    pub age_confirmed: bool,
}

#[derive(Debug, SimpleObject)]
pub struct SignUpPayload {
    pub user: User,
    pub session: Session,
}

#[derive(Debug, InputObject)]
pub struct SignInInput {
    /// Email or username.
    pub login: String,
    pub password: String,
}

/// Exactly one of the two is set: a session, or (with two-factor on) a challenge for `completeSignIn`.
#[derive(Debug, SimpleObject)]
pub struct SignInPayload {
    pub session: Option<Session>,
    pub two_factor_challenge: Option<String>,
    /// When the challenge stops working.
    pub challenge_expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, SimpleObject)]
pub struct TotpEnrollment {
    /// Base32, for typing into an authenticator by hand.
    pub secret: String,
    pub otpauth_uri: String,
    /// The `otpauth_uri` as a QR code, an SVG document.
    pub qr_svg: String,
}

/// Backup codes, shown once: store them somewhere safe. Each works once.
#[derive(Debug, SimpleObject)]
pub struct BackupCodes {
    pub backup_codes: Vec<String>,
}
