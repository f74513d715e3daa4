//! Identity: who a person is, how they prove it, and the sessions that carry that proof.
//!
//! Users sign up with email, full name, username and password; sign in with email or username; add TOTP
//! as a second factor with single-use backup codes. Sessions are opaque tokens stored as hashes.
//! Failed attempts are throttled per account and per IP address with growing back-off.

pub mod backup_codes;
pub mod email;
pub mod email_links;
pub mod full_name;
pub mod lockout;
pub mod login;
pub mod password;
pub mod ports;
pub mod principal;
pub mod reauthentication;
pub mod records;
pub mod service;
pub mod totp;
pub mod totp_rekey;
pub mod use_cases;
pub mod username;

pub use email::Email;
pub use full_name::FullName;
pub use login::Login;
pub use password::Password;
pub use principal::Principal;
pub use service::{IdentityConfig, IdentityService};
pub use username::Username;
