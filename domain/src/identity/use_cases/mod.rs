//! The identity use cases, one file each. Every state change runs in one transaction.

pub mod audit_trail;
pub mod backup_code_keying;
pub mod change_password;
pub mod email_verification;
pub mod profile;
pub mod reauthenticate;
pub mod second_factor;
pub mod sessions;
pub mod sign_in;
pub mod sign_up;
pub mod staff;
pub mod totp_enrollment;

pub use profile::{NoticePreferences, ProfileChange};
pub use sign_in::SignInOutcome;
pub use sign_up::SignUpInput;
pub use staff::{NewStaff, STAFF_EXIST, StaffCreator};
pub use totp_enrollment::TotpEnrollment;
